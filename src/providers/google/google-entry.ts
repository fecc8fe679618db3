/**
 * The Google provider as the registry lists it (`googleEntry`), and the session it opens: one
 * set of clients (google-auth.ts) over one fetch (google-http.ts), shared by the scanner (the
 * Workspace users and the Cloud service accounts in one inventory), remediation and evidence.
 */
import type { Config } from '../../config/config.js';
import type { Inventory, ScanFailure } from '../../model/identity.js';
import type { ProgressSink, ProviderEntry, ProviderSession, ScanProvider } from '../provider.js';
import { collectCloud } from './cloud-collect.js';
import { createGoogleApis, type GoogleSdks, type ServiceAccountKey } from './google-auth.js';
import type { GoogleConfig, GoogleContext } from './google-context.js';
import { googleDescriber } from './google-describer.js';
import { createGoogleFetch, GoogleCallCounter, type FetchLike } from './google-http.js';
import { googlePermissionsDocument } from './google-permissions.js';
import { GoogleRemediation } from './google-remediation.js';
import { collectWorkspace } from './workspace-collect.js';
import { UsageError } from '../../errors.js';

export interface GoogleSessionOptions {
  sdks: GoogleSdks;
  google: GoogleConfig;
  /** The network, or the in-memory APIs (the demo). */
  fetch: FetchLike;
  /** A key built in memory (the demo); otherwise google.credentialsFile or ADC. */
  key?: ServiceAccountKey;
  progress?: ProgressSink;
  clock?: () => Date;
  /** First backoff delay for throttled calls (ms). */
  backoffMs?: number;
  /** The service account ADC runs as, when it was resolved (a key file names its own). */
  adcServiceAccount?: string | null;
}

/** Nothing to scan is a config mistake, not an empty result. */
function checkScope(google: GoogleConfig): void {
  const cloud = google.cloud;
  if (!google.workspace.enabled && !cloud.enabled) {
    throw new UsageError(
      'google.workspace.enabled and google.cloud.enabled are both false; enable one of them, or drop google from --provider',
    );
  }
  if (
    cloud.enabled &&
    cloud.projects.length === 0 &&
    cloud.organization === null &&
    cloud.folders.length === 0 &&
    !google.workspace.enabled
  ) {
    throw new UsageError(
      'google.cloud names no projects; set google.cloud.projects, google.cloud.organization or google.cloud.folders',
    );
  }
}

export function createGoogleSession(options: GoogleSessionOptions): ProviderSession {
  const { google } = options;
  checkScope(google);
  const clock = options.clock ?? (() => new Date());
  const counter = new GoogleCallCounter();
  const fetch = createGoogleFetch({
    base: options.fetch,
    counter,
    tokenUrl: google.rootUrls.token,
    maxAttempts: google.maxAttempts,
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
  });
  const { apis, who } = createGoogleApis({
    sdks: options.sdks,
    google,
    fetch,
    ...(options.key ? { key: options.key } : {}),
  });
  if (!who.serviceAccount && options.adcServiceAccount) who.serviceAccount = options.adcServiceAccount;
  const ctx: GoogleContext = {
    who: { serviceAccount: who.serviceAccount, clientId: who.clientId },
    google,
    apis,
    counter,
    clock,
    ...(options.progress ? { progress: options.progress } : {}),
  };
  const cloudOn =
    google.cloud.enabled &&
    (google.cloud.projects.length > 0 || google.cloud.organization !== null || google.cloud.folders.length > 0);
  const scanner: ScanProvider = {
    name: 'google',
    async collect(): Promise<Inventory> {
      const now = clock();
      const identities: Inventory['identities'] = [];
      const accounts: string[] = [];
      const warnings: string[] = [];
      const failures: ScanFailure[] = [];
      if (google.workspace.enabled) {
        const ws = await collectWorkspace(ctx, now);
        identities.push(...ws.identities);
        accounts.push(...ws.accounts);
        warnings.push(...ws.warnings);
      }
      if (cloudOn && !who.serviceAccount) {
        warnings.push(
          'Google Cloud: the service account dormant runs as could not be established from Application Default Credentials, so it is not protected from its own plans; use google.credentialsFile, or review plans for it by hand',
        );
      }
      if (google.cloud.enabled && !cloudOn) {
        warnings.push(
          'google.cloud names no projects, organization or folders: no service accounts were scanned; set one of them, or google.cloud.enabled: false to silence this',
        );
      }
      if (cloudOn) {
        const cloud = await collectCloud(ctx, now, { caller: who.serviceAccount });
        identities.push(...cloud.identities);
        accounts.push(...cloud.accounts);
        warnings.push(...cloud.warnings);
        failures.push(...cloud.failures);
      }
      return {
        provider: 'google',
        source: 'api',
        accounts,
        dataAsOf: now.toISOString(),
        caller: who.serviceAccount ? { arn: who.serviceAccount, account: accounts[0] ?? google.customer } : null,
        identities,
        warnings,
        ...(failures.length > 0 ? { failures } : {}),
      };
    },
    // Everything a finding needs came with the listings: labels are not used, key ids are known.
    enrich: async () => [],
  };
  return {
    name: 'google',
    scanner,
    remediation: new GoogleRemediation(ctx, who.serviceAccount),
    calls: () => counter.describe(),
    close: () => {},
  };
}

/**
 * gcp-metadata (under google-auth-library) prints a MetadataLookupWarning on stderr when it
 * probes for a metadata server that is not there: a second line beside dormant's own one-line
 * error. That one warning is dropped; every other warning is printed as before.
 */
function quietMetadataProbe(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  if ((process.emitWarning as { dormantQuiet?: boolean }).dormantQuiet) return;
  const quiet = (...args: unknown[]) => {
    const type = typeof args[1] === 'string' ? args[1] : (args[1] as { type?: string } | undefined)?.type;
    const name = args[0] instanceof Error ? args[0].name : type;
    if (name === 'MetadataLookupWarning') return;
    emit(...args);
  };
  (quiet as { dormantQuiet?: boolean }).dormantQuiet = true;
  process.emitWarning = quiet as typeof process.emitWarning;
}

/** The email ADC authenticates as (a service account on GCE, GKE, Cloud Run, or a key in GOOGLE_APPLICATION_CREDENTIALS), or null. */
async function adcEmail(auth: GoogleSdks['auth']): Promise<string | null> {
  try {
    const credentials = await new auth.GoogleAuth({
      scopes: ['https://www.googleapis.com/auth/cloud-platform'],
    }).getCredentials();
    return credentials.client_email ?? null;
  } catch {
    return null;
  }
}

export const googleEntry: ProviderEntry = {
  name: 'google',
  enabled: (config: Config) => config.google.enabled,
  describer: () => googleDescriber,
  permissions: (mode) => googlePermissionsDocument(mode === 'export' ? 'scan' : mode),
  async open(options) {
    // The SDKs are loaded only when Google is used.
    const [auth, admin, iam] = await Promise.all([
      import('google-auth-library'),
      import('@googleapis/admin'),
      import('@googleapis/iam'),
    ]);
    const google = options.config.google;
    quietMetadataProbe();
    return createGoogleSession({
      sdks: { auth, admin, iam },
      google,
      adcServiceAccount: google.credentialsFile || !google.cloud.enabled ? null : await adcEmail(auth),
      fetch: globalThis.fetch,
      ...(options.progress ? { progress: options.progress } : {}),
      ...(process.env.DORMANT_GOOGLE_BACKOFF_MS ? { backoffMs: Number(process.env.DORMANT_GOOGLE_BACKOFF_MS) } : {}),
    });
  },
};
