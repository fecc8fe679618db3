/**
 * The Entra ID provider as the registry lists it (`entraEntry`), and the session it opens: one
 * credential and one Graph client, shared by the scanner, remediation and evidence.
 */
import type { Config } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import type { Inventory } from '../../model/identity.js';
import type { ProgressSink, ProviderEntry, ProviderSession, ScanProvider } from '../provider.js';
import { createCredential } from './entra-auth.js';
import { collectEntra, type EntraConfig, type EntraContext } from './entra-collect.js';
import { entraDescriber } from './entra-describer.js';
import { networkFailure, tokenFailure } from './entra-errors.js';
import { createGraphClientTransport, type GraphTransport } from './entra-graph.js';
import { entraPermissionsDocument } from './entra-permissions.js';
import { EntraRemediation } from './entra-remediation.js';

/** entra.tenantId and entra.clientId must be set: a one-line UsageError names the missing key. */
export function requireEntraIds(entra: Config['entra']): EntraConfig {
  for (const key of ['tenantId', 'clientId'] as const) {
    if (!entra[key]) {
      throw new UsageError(
        `entra.${key} is not set; put the app registration's ${key === 'tenantId' ? 'Directory (tenant) ID' : 'Application (client) ID'} in the config under entra.${key}`,
      );
    }
  }
  return entra as EntraConfig;
}

export interface EntraSessionOptions {
  transport: GraphTransport;
  entra: EntraConfig;
  progress?: ProgressSink;
  /** The clock backups and evidence are stamped with (tests, the demo). */
  clock?: () => Date;
}

/** A session over any transport: the HTTPS Graph client, or the in-memory demo tenant. */
export function createEntraSession(options: EntraSessionOptions): ProviderSession {
  const clock = options.clock ?? (() => new Date());
  const ctx: EntraContext = {
    transport: options.transport,
    entra: options.entra,
    origin: new URL(options.entra.graphUrl).origin,
    progress: options.progress,
  };
  const scanner: ScanProvider = {
    name: 'entra',
    collect: (): Promise<Inventory> => collectEntra(ctx, clock()),
    // Everything a finding needs came with the listing: there are no tags or key ids to fetch.
    enrich: async () => [],
  };
  return {
    name: 'entra',
    scanner,
    remediation: new EntraRemediation(ctx, clock),
    calls: () => options.transport.counter.describe(),
    close: () => {},
  };
}

export const entraEntry: ProviderEntry = {
  name: 'entra',
  enabled: (config) => config.entra.enabled,
  describer: () => entraDescriber,
  permissions: (mode) => entraPermissionsDocument(mode === 'export' ? 'scan' : mode),
  async open(options) {
    const entra = requireEntraIds(options.config.entra);
    // The SDKs are loaded only when Entra is used: they cost a scan of AWS alone nothing.
    const [identitySdk, graphSdk] = await Promise.all([
      import('@azure/identity'),
      import('@microsoft/microsoft-graph-client'),
    ]);
    const { credential, source } = createCredential(identitySdk, entra);
    const authority = {
      tenantId: entra.tenantId,
      clientId: entra.clientId,
      authorityHost: entra.authorityHost,
      credential: source,
    };
    const transport = createGraphClientTransport({
      sdk: graphSdk,
      credential,
      graphUrl: entra.graphUrl,
      maxAttempts: entra.maxAttempts,
      onTokenError: (err) => tokenFailure(err, authority),
      onNetworkError: (err, url) => networkFailure(err, url, 'Microsoft Graph', 'entra.graphUrl'),
      // A credential from the environment may belong to another tenant: its token is refused.
      tenant: { tenantId: entra.tenantId, authorityHost: entra.authorityHost },
    });
    return createEntraSession({ transport, entra, progress: options.progress });
  },
};
