/**
 * A failure to reach a provider's host, in one line: an untrusted TLS certificate, a refused
 * connection, an unknown name, a timeout. Shared by the providers that speak HTTPS themselves.
 */
import { CloudError, type DormantError } from '../errors.js';

/** The first non-empty line of an error's message. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split(/\r?\n/).find((l) => l.trim().length > 0) ?? text).trim();
}

export const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The deepest `code` in an error's cause chain (undici hides the socket error two levels down). */
export function causeCode(err: unknown): string | null {
  let code: string | null = null;
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e !== null && typeof e === 'object'; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') code = c;
    e = (e as { cause?: unknown }).cause;
  }
  return code;
}

/** The deepest message in an error's cause chain ("fetch failed" says nothing; its cause does). */
function causeText(err: unknown): string {
  let text = oneLine(err);
  let e: unknown = err;
  for (let depth = 0; depth < 6 && e !== null && typeof e === 'object'; depth++) {
    if (e instanceof Error && e.message) text = oneLine(e);
    e = (e as { cause?: unknown }).cause;
  }
  return text;
}

/** A failure to reach a host, in words: untrusted TLS, refused, unknown name, timeout. */
export function networkFailure(err: unknown, url: string, what: string, key: string): DormantError {
  const code = causeCode(err);
  if (code && TLS_CODES.has(code)) {
    return new CloudError(
      `${what} at ${url} presented a TLS certificate this machine does not trust (${code}); if it is a private CA, add it with NODE_EXTRA_CA_CERTS, else check ${key}`,
      'UntrustedCertificate',
    );
  }
  if (code === 'ABORT_ERR' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT' || code === '23') {
    return new CloudError(`${what} at ${url} did not answer in time; check ${key} and the network`, 'Unreachable');
  }
  return new CloudError(
    `cannot reach ${what} at ${url} (${code ?? causeText(err)}); check ${key} and the network`,
    'Unreachable',
  );
}
