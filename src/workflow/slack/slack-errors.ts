/**
 * Slack failures in words safe to print: the Slack error code of a failed call, and tokens
 * redacted from any text a library produced. Shared by the review (Web API) and Socket Mode.
 */
const TOKEN = /\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+/g;

/** Never let a token through, whatever a library put in a message. */
export function redactSecrets(text: string, secrets: string[] = []): string {
  let out = text.replace(TOKEN, '[redacted]');
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]');
  return out;
}

/** The Slack error code (`invalid_auth`, `users_not_found`) or a short description. */
export function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: unknown }; code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e?.data?.error === 'string') return e.data.error;
  if (typeof e?.statusCode === 'number') return `http_${e.statusCode}`;
  if (e?.code === 'slack_webapi_request_error') return 'request_failed';
  if (e?.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  return typeof e?.message === 'string' ? e.message.split('\n')[0]!.slice(0, 200) : 'unknown_error';
}

/** Strip a trailing slash issue: WebClient appends the method name to the base URL. */
export function slackApiBase(apiUrl: string | null | undefined): string | undefined {
  if (!apiUrl) return undefined;
  return apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
}
