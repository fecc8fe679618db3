/**
 * Google API and token failures as one line naming what is wrong and how to fix it, with the
 * documented exit code (2: bad config or key file, 3: Google refused or failed). Never prints
 * a key, an assertion or a token.
 */
import { CloudError, DormantError, UsageError } from '../../errors.js';
import { causeCode, networkFailure, oneLine } from '../network-errors.js';

interface GoogleErrorBody {
  error?:
    | string
    | {
        code?: number;
        message?: string;
        status?: string;
        errors?: { reason?: string; message?: string }[];
        details?: { reason?: string }[];
      };
  error_description?: string;
}

function body(err: unknown): GoogleErrorBody | null {
  const data = (err as { response?: { data?: unknown } } | null)?.response?.data;
  if (data && typeof data === 'object') return data as GoogleErrorBody;
  if (typeof data === 'string') {
    try {
      return JSON.parse(data) as GoogleErrorBody;
    } catch {
      return null;
    }
  }
  return null;
}

/** The HTTP status of a failed call, or null when there was no answer. */
export function googleStatus(err: unknown): number | null {
  const s =
    (err as { status?: unknown; response?: { status?: unknown } } | null)?.response?.status ??
    (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : null;
}

/** Google's reason (`rateLimitExceeded`, `notFound`, `SERVICE_DISABLED`) or status word, or null. */
export function googleReason(err: unknown): string | null {
  const b = body(err);
  if (!b) return null;
  if (typeof b.error === 'string') return b.error;
  const detail = b.error?.details?.find((d) => typeof d.reason === 'string')?.reason;
  return b.error?.errors?.[0]?.reason ?? detail ?? b.error?.status ?? null;
}

/** Google's own message for the failure, one line. */
export function googleMessage(err: unknown): string {
  const b = body(err);
  if (b) {
    if (typeof b.error === 'string') return b.error_description ? `${b.error}: ${b.error_description}` : b.error;
    if (b.error?.message) return oneLine(b.error.message);
  }
  return oneLine(err);
}

/** True for a token-endpoint refusal (`unauthorized_client`, `invalid_grant`, …). */
function tokenError(err: unknown): string | null {
  const b = body(err);
  return b && typeof b.error === 'string' ? b.error : null;
}

export interface FailureContext {
  /** What was being done, for the message: "listing Workspace users", "reading project p1". */
  what: string;
  /** How to carry on once fixed: "scan again", "apply again". */
  fix: string;
  /** The service account dormant runs as, when known (client_email: not a secret). */
  serviceAccount?: string | null;
  subject?: string | null;
  /** The service account's OAuth client id, which the Admin console's delegation list names. */
  clientId?: string | null;
}

/** Google's "slow down" reasons: after the retries of google-http.ts they are throttling, not a refusal. */
const RATE_LIMITED = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'RESOURCE_EXHAUSTED']);

/** Turn any failure of a Google call into a one-line DormantError. DormantErrors pass through. */
export function googleFailure(err: unknown, ctx: FailureContext): DormantError {
  if (err instanceof DormantError) return err;
  const status = googleStatus(err);
  const reason = googleReason(err);
  const message = googleMessage(err);
  const token = tokenError(err);
  if (token === 'unauthorized_client') {
    return new CloudError(
      `Google refused a token for ${ctx.serviceAccount ?? 'the service account'} acting as ${ctx.subject ?? 'google.subject'} (unauthorized_client) while ${ctx.what}: domain-wide delegation is not granted for ${ctx.clientId ? `client id ${ctx.clientId}` : 'its client id'} and these scopes; add them in the Admin console (Security → API controls → Domain-wide delegation; see \`dormant permissions --provider google\`), then ${ctx.fix}`,
      'DelegationNotGranted',
    );
  }
  if (token === 'invalid_grant') {
    return new CloudError(
      `Google refused the service account's assertion (invalid_grant: ${message}) while ${ctx.what}; the key may be deleted or disabled, google.subject may not exist, or the clock is off; check google.credentialsFile and google.subject, then ${ctx.fix}`,
      'InvalidGrant',
    );
  }
  if (token) {
    return new CloudError(
      `Google's token endpoint refused (${message}) while ${ctx.what}; check google.credentialsFile, then ${ctx.fix}`,
      'TokenRefused',
    );
  }
  if (status === 403 && /Not Authorized to access this resource\/api/i.test(message)) {
    return new CloudError(
      `Google refused ${ctx.what}: ${ctx.subject ?? 'google.subject'} is not an admin allowed to use this API (403 Not Authorized to access this resource/api); set google.subject to a super admin or an admin whose role grants it, then ${ctx.fix}`,
      'NotAuthorized',
    );
  }
  if (reason === 'SERVICE_DISABLED' || reason === 'accessNotConfigured') {
    return new CloudError(
      `Google refused ${ctx.what}: the API is not enabled (${message}); enable it, then ${ctx.fix}`,
      'ServiceDisabled',
    );
  }
  if (RATE_LIMITED.has(reason ?? '') || status === 429 || (status !== null && status >= 500)) {
    return new CloudError(
      `Google kept failing while ${ctx.what} (${status ?? ''} ${reason ?? ''}: ${message}) after every retry; ${ctx.fix} later`,
      'Throttled',
    );
  }
  if (status === 401) {
    return new CloudError(
      `Google refused the credentials while ${ctx.what} (401 ${message}); check google.credentialsFile, then ${ctx.fix}`,
      'Unauthenticated',
    );
  }
  if (status === 403) {
    return new CloudError(
      `Google refused ${ctx.what} (403 ${reason ?? 'PERMISSION_DENIED'}: ${message}); grant the roles \`dormant permissions --provider google\` lists, then ${ctx.fix}`,
      'AccessDenied',
    );
  }
  if (status === 404) return new CloudError(`Google found nothing while ${ctx.what} (404: ${message})`, 'NotFound');
  if (status !== null) return new CloudError(`Google answered ${status} while ${ctx.what}: ${message}`, 'GoogleError');
  if (/Could not load the default credentials/i.test(message)) {
    return new CloudError(
      `no Google credentials while ${ctx.what}: set google.credentialsFile to a service account key, or provide Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or a metadata server), then ${ctx.fix}`,
      'NoCredentials',
    );
  }
  const code = causeCode(err);
  const url = (err as { config?: { url?: unknown } } | null)?.config?.url;
  if (code || url) {
    const where = typeof url === 'string' || url instanceof URL ? new URL(String(url)).origin : 'Google';
    return networkFailure(err, where, 'Google APIs', 'google.rootUrls and the network');
  }
  return new CloudError(`Google failed while ${ctx.what}: ${message}`, 'GoogleError');
}

/** A bad key file or setting: exit 2. */
export function keyFileError(file: string, problem: string): UsageError {
  return new UsageError(
    `google.credentialsFile ${file} ${problem}; download a service account key (JSON) from IAM → Service accounts → Keys, or set google.credentialsFile to null to use Application Default Credentials`,
  );
}
