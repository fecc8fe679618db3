/**
 * The Entra credential from `config.entra`: a client secret (read from its env var or file when
 * the provider opens), a client certificate, or DefaultAzureCredential (managed identity, Azure CLI).
 */
import { existsSync, readFileSync } from 'node:fs';
import type * as Identity from '@azure/identity';
import type { Config } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import type { CredentialSource } from './entra-errors.js';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface EntraCredential {
  credential: Identity.TokenCredential;
  /** What was used, in words safe to print. */
  source: CredentialSource;
}

type EntraConfig = Config['entra'];

/**
 * The variable the default `entra.clientSecret` names. Unset, it means "no secret": dormant falls
 * back to DefaultAzureCredential (whose token's tenant is then checked, entra-graph).
 */
export const DEFAULT_SECRET_ENV = 'AZURE_CLIENT_SECRET';

/**
 * The secret named by `entra.clientSecret`, or null when there is none to read: the secret is
 * set to null, or it is the default AZURE_CLIENT_SECRET and that is unset (DefaultAzureCredential
 * then). Any other variable the config names must be set: falling back to another credential
 * would hide the mistake, and could sign in to another tenant.
 */
export function readClientSecret(
  entra: EntraConfig,
  env: NodeJS.ProcessEnv = process.env,
): { value: string; source: string } | null {
  const ref = entra.clientSecret;
  if (ref === null) return null;
  if ('env' in ref) {
    const value = env[ref.env]?.trim();
    if (value) return { value, source: `environment variable ${ref.env}` };
    if (ref.env === DEFAULT_SECRET_ENV) return null;
    throw new UsageError(
      `entra.clientSecret.env: the environment variable ${ref.env} is not set (or empty); set it to the app's client secret, or set entra.clientSecret to null to use DefaultAzureCredential`,
    );
  }
  // A file the config names must be there: falling back to another credential would hide the mistake.
  let text: string;
  try {
    text = readFileSync(ref.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(
      `entra.clientSecret.file: cannot read ${ref.file} (${code}); point it at the file that holds the client secret`,
    );
  }
  const value = text.trim();
  if (!value)
    throw new UsageError(`entra.clientSecret.file: ${ref.file} is empty; put the client secret's Value in it`);
  return { value, source: `file ${ref.file}` };
}

/**
 * Builds the credential once. A configured certificate wins over the secret (whose default, the
 * AZURE_CLIENT_SECRET variable, may be set for something else); neither → DefaultAzureCredential.
 */
export function createCredential(
  sdk: typeof Identity,
  entra: EntraConfig & { tenantId: string; clientId: string },
  env: NodeJS.ProcessEnv = process.env,
): EntraCredential {
  const authorityHost = entra.authorityHost.replace(/\/+$/, '');
  const options: Identity.ClientSecretCredentialOptions = {
    authorityHost,
    // MSAL otherwise asks login.microsoftonline.com to vouch for any other host, and fails after
    // about 6 s with an opaque endpoints_resolution_error.
    ...(authorityHost !== DEFAULT_AUTHORITY_HOST ? { disableInstanceDiscovery: true } : {}),
  };
  if (entra.clientCertificate) {
    const file = entra.clientCertificate.file;
    if (!existsSync(file)) {
      throw new UsageError(
        `entra.clientCertificate.file: ${file} does not exist; point it at a PEM file with the app's certificate and private key`,
      );
    }
    return {
      credential: new sdk.ClientCertificateCredential(
        entra.tenantId,
        entra.clientId,
        { certificatePath: file },
        options,
      ),
      source: { kind: 'certificate', file },
    };
  }
  const secret = readClientSecret(entra, env);
  if (secret) {
    return {
      credential: new sdk.ClientSecretCredential(entra.tenantId, entra.clientId, secret.value, options),
      source: { kind: 'secret', source: secret.source },
    };
  }
  // A user-assigned managed identity is chosen by AZURE_CLIENT_ID, as everywhere in Azure; passing
  // entra.clientId here would break a system-assigned one.
  return {
    credential: new sdk.DefaultAzureCredential({ ...options, tenantId: entra.tenantId }),
    source: { kind: 'default' },
  };
}
