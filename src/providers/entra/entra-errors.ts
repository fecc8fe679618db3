/**
 * MSAL, @azure/identity and Graph failures as one line naming what is wrong and how to fix it,
 * with the documented exit code (2: bad config, 3: the cloud refused or failed). Never prints a
 * secret or a token.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CloudError, type DormantError, UsageError } from '../../errors.js';
import { GraphRequestError, oneLine, type GraphMethod } from './entra-graph.js';
import { causeCode, networkFailure, TLS_CODES } from '../network-errors.js';

export { causeCode, networkFailure };

/** Which credential was used, in words safe to print (a secret's source, never its value). */
export type CredentialSource =
  { kind: 'secret'; source: string } | { kind: 'certificate'; file: string } | { kind: 'default' };

export interface AuthContext {
  tenantId: string;
  clientId: string;
  authorityHost: string;
  credential: CredentialSource;
  /** Used to tell an untrusted certificate, an unreachable host and an unknown tenant apart. */
  fetch?: typeof fetch;
}

function aadsts(err: unknown): number | null {
  const texts: string[] = [];
  if (err instanceof Error) texts.push(err.message);
  const response = (err as { errorResponse?: { errorDescription?: unknown; error_description?: unknown } } | null)
    ?.errorResponse;
  if (typeof response?.errorDescription === 'string') texts.push(response.errorDescription);
  for (const t of texts) {
    const m = /AADSTS(\d+)/.exec(t);
    if (m) return Number(m[1]);
  }
  return null;
}

/** "AADSTS7000215: Invalid client secret provided." without Entra's Trace/Correlation/Timestamp lines. */
function entraLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const m = /AADSTS\d+:[^\r\n]*/.exec(text);
  return (m ? m[0] : oneLine(err)).replace(/\s+Trace ID:.*$/, '').trim();
}

function graphResource(err: unknown): string {
  return /resource principal named (\S+)/.exec(err instanceof Error ? err.message : '')?.[1] ?? 'entra.graphUrl';
}

function certificateState(file: string, now = new Date()): string | null {
  try {
    const x = new X509Certificate(readFileSync(file));
    if (new Date(x.validTo).getTime() < now.getTime())
      return `it expired on ${new Date(x.validTo).toISOString().slice(0, 10)}`;
    if (new Date(x.validFrom).getTime() > now.getTime())
      return `it is not valid before ${new Date(x.validFrom).toISOString().slice(0, 10)}`;
    return null;
  } catch {
    return null;
  }
}

/**
 * MSAL reports an unreachable authority, an untrusted certificate and an unknown tenant with the
 * same opaque endpoints_resolution_error: ask the metadata endpoint ourselves to say which.
 */
async function probeAuthority(ctx: AuthContext): Promise<DormantError> {
  const url = `${ctx.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(ctx.tenantId)}/v2.0/.well-known/openid-configuration`;
  const doFetch = ctx.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    return networkFailure(err, ctx.authorityHost, 'the Entra authority', 'entra.authorityHost');
  }
  const text = await res.text().catch(() => '');
  if (/AADSTS90002/.test(text) || res.status === 400 || res.status === 404) {
    return tenantNotFound(ctx);
  }
  return new CloudError(
    `the Entra authority ${ctx.authorityHost} could not be used for tenant '${ctx.tenantId}' (metadata answered ${res.status}); check entra.authorityHost`,
    'AuthorityUnusable',
  );
}

function tenantNotFound(ctx: AuthContext): DormantError {
  return new UsageError(
    `Entra tenant '${ctx.tenantId}' was not found at ${ctx.authorityHost} (AADSTS90002); check entra.tenantId (the directory id, or a verified domain of the tenant)`,
  );
}

/** A failed token request (ClientSecretCredential, ClientCertificateCredential, DefaultAzureCredential). */
export async function tokenFailure(err: unknown, ctx: AuthContext): Promise<DormantError> {
  const code = aadsts(err);
  const cred = ctx.credential;
  switch (code) {
    case 90002:
      return tenantNotFound(ctx);
    case 700016:
      return new UsageError(
        `Entra has no application '${ctx.clientId}' in tenant '${ctx.tenantId}' (AADSTS700016); check entra.clientId (the app registration's Application (client) ID) and entra.tenantId`,
      );
    case 500011:
      return new UsageError(
        `Entra has no resource ${graphResource(err)} to issue a token for (AADSTS500011); check entra.graphUrl (https://graph.microsoft.com, or your national cloud's Graph)`,
      );
    case 7000215:
    case 7000222: {
      const source = cred.kind === 'secret' ? cred.source : 'the environment (DefaultAzureCredential)';
      const what = code === 7000222 ? 'has expired' : 'is not valid for this app';
      return new CloudError(
        `Entra refused the client secret from ${source}: it ${what} (AADSTS${code}); put the secret's Value (not its Secret ID) of app ${ctx.clientId} there, or create a new one`,
        'InvalidClientSecret',
      );
    }
    case 700027:
    case 700024:
    case 700023:
    case 7000274: {
      const file = cred.kind === 'certificate' ? cred.file : 'the configured certificate';
      const local = cred.kind === 'certificate' ? certificateState(cred.file) : null;
      // Entra's reason is buried in a bracket: "[Reason - The key used is expired., Thumbprint …]".
      const reason = /\[Reason - ([^,\]]+)/.exec(err instanceof Error ? err.message : '')?.[1]?.replace(/\.$/, '');
      const why = local ?? (reason ? reason.charAt(0).toLowerCase() + reason.slice(1) : null);
      return new CloudError(
        `Entra refused the certificate in ${file} (AADSTS${code})${why ? `: ${why}` : ''}; upload a valid certificate to app ${ctx.clientId} and point entra.clientCertificate.file at its PEM (key and certificate)`,
        'InvalidClientCertificate',
      );
    }
    default:
      break;
  }
  const msalCode = (err as { errorCode?: unknown } | null)?.errorCode;
  const message = err instanceof Error ? err.message : String(err);
  if (msalCode === 'endpoints_resolution_error' || /endpoints_resolution_error/.test(message)) {
    return probeAuthority(ctx);
  }
  if (err instanceof Error && err.name === 'CredentialUnavailableError') {
    return new CloudError(
      `no Entra credential is available (${oneLine(err)}); set entra.clientSecret ({ env: NAME } or { file: PATH }) or entra.clientCertificate, or sign in with az login, or run with a managed identity`,
      'NoCredential',
    );
  }
  const network = causeCode(err);
  if (network && (TLS_CODES.has(network) || /^E[A-Z]+$/.test(network))) {
    return networkFailure(err, ctx.authorityHost, 'the Entra authority', 'entra.authorityHost');
  }
  if (code !== null) {
    return new CloudError(
      `Entra refused the token request for app ${ctx.clientId} (${entraLine(err)})`,
      `AADSTS${code}`,
    );
  }
  return new CloudError(`could not get an Entra token for app ${ctx.clientId}: ${oneLine(err)}`, 'TokenFailed');
}

// ---- Graph -------------------------------------------------------------------------------------

/** The application permission each Graph route needs, in the words an admin grants it. */
function permissionFor(method: GraphMethod, route: string): string | null {
  const key = `${method} ${route}`;
  switch (key) {
    case 'GET /users':
    case 'GET /users/{id}':
    case 'GET /users/{id}/manager':
    case 'GET /users/{id}/appRoleAssignments':
      return 'User.Read.All';
    case 'GET /directoryRoles':
    case 'GET /directoryRoles/{id}/members':
      return 'RoleManagement.Read.Directory';
    case 'GET /roleManagement/directory/roleEligibilityScheduleInstances':
      return 'RoleEligibilitySchedule.Read.Directory (or RoleManagement.Read.Directory) to see who is eligible for a protected role';
    case 'GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole':
    case 'POST /users/{id}/checkMemberGroups':
    case 'GET /groups/{id}':
    case 'GET /groups/{id}/transitiveMembers/microsoft.graph.user':
    case 'GET /users/{id}/memberOf':
      return 'GroupMember.Read.All';
    case 'GET /auditLogs/signIns':
      return 'AuditLog.Read.All';
    case 'GET /directory/deletedItems/{id}':
    case 'GET /directory/deletedItems/microsoft.graph.user':
      return 'User.Read.All';
    case 'PATCH /users/{id}':
      return 'User.ReadWrite.All (or User.EnableDisableAccount.All)';
    case 'POST /users/{id}/revokeSignInSessions':
      return 'User.RevokeSessions.All (or User.ReadWrite.All)';
    case 'DELETE /users/{id}':
    case 'POST /directory/deletedItems/{id}/restore':
      return 'User.DeleteRestore.All (or User.ReadWrite.All)';
    case 'POST /groups/{id}/members/$ref':
      return 'GroupMember.ReadWrite.All';
    case 'POST /directoryRoles/{id}/members/$ref':
      return 'RoleManagement.ReadWrite.Directory';
    case 'POST /users/{id}/assignLicense':
      return 'LicenseAssignment.ReadWrite.All (or User.ReadWrite.All)';
    case 'PUT /users/{id}/manager/$ref':
      return 'User.ReadWrite.All';
    case 'POST /users/{id}/appRoleAssignments':
      return 'AppRoleAssignment.ReadWrite.All';
    default:
      return null;
  }
}

export function isThrottled(err: GraphRequestError): boolean {
  return err.status === 429 || err.status === 503 || err.status === 504;
}

/** Graph's answer to a request that selected signInActivity where it cannot be had. */
export function isSignInActivityRefused(err: unknown): err is GraphRequestError {
  return (
    err instanceof GraphRequestError &&
    err.status === 403 &&
    (err.code === 'Authentication_RequestFromNonPremiumTenantOrB2CTenant' || err.code === 'Authorization_RequestDenied')
  );
}

/**
 * A Graph failure as a one-line CloudError. `then` says what to do after granting a
 * permission: "scan again", "apply again".
 */
export function graphFailure(err: unknown, then = 'try again'): DormantError {
  if (!(err instanceof GraphRequestError)) {
    if (err instanceof Error && 'exitCode' in err) return err as DormantError;
    return new CloudError(`Graph failed: ${oneLine(err)}`, 'GraphFailed');
  }
  const what = `${err.method} ${err.route}`;
  if (isThrottled(err)) {
    return new CloudError(
      `Graph kept throttling (${err.status}) after ${err.attempts} attempt${err.attempts === 1 ? '' : 's'} at ${what}; try later`,
      'Throttled',
    );
  }
  if (err.status === 401) {
    return new CloudError(
      `Graph rejected the access token for ${what} (401 ${err.code}); check that entra.authorityHost and entra.graphUrl belong to the same cloud`,
      err.code,
    );
  }
  if (err.status === 403) {
    const permission = permissionFor(err.method, err.route);
    if (permission) {
      return new CloudError(`Graph refused ${what}: the app needs ${permission}; grant it and ${then}`, 'AccessDenied');
    }
    return new CloudError(`Graph refused ${what} (403 ${err.code}: ${err.graphMessage})`, 'AccessDenied');
  }
  return new CloudError(`Graph failed ${what} (${err.status} ${err.code}: ${err.graphMessage})`, err.code);
}
