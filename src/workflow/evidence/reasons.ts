/**
 * Why a piece of evidence could not be had, in one line: it becomes the "unavailable: …"
 * of an evidence section. Evidence never throws, so every failure ends up here.
 */
import type { EvidenceSection } from '../../model/evidence.js';
import { errorName, isAccessDenied } from '../../providers/aws/aws-client.js';

const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ThrottledException',
]);
const BAD_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EPIPE',
]);

interface SdkErrorShape {
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/**
 * One line for an SDK error on `operation` ("cloudtrail:LookupEvents"), e.g.
 * "no permission for cloudtrail:LookupEvents (AccessDenied)".
 */
export function unavailableReason(err: unknown, operation: string): string {
  const e = (err ?? {}) as SdkErrorShape;
  const name = errorName(err);
  const message = firstLine(e.message ?? String(err));
  const attempts = e.$metadata?.attempts;
  const afterAttempts = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
  if (isAccessDenied(err)) return `no permission for ${operation} (${name})`;
  if (THROTTLED.has(name)) return `${operation} throttled${afterAttempts} (${name})`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return `no AWS credentials for ${operation}`;
  }
  if (BAD_CREDENTIALS.has(name)) return `credentials rejected on ${operation} (${name}): ${message}`;
  const code = e.code;
  if ((code && NETWORK_CODES.has(code)) || NETWORK_CODES.has(name) || name === 'TimeoutError') {
    return `cannot reach the endpoint for ${operation} (${code ?? name})${afterAttempts}`;
  }
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return `${operation} failed with HTTP ${status} (${name})${afterAttempts}`;
  return message && message !== name ? `${operation} failed (${name}): ${message}` : `${operation} failed (${name})`;
}

export function unavailable<T>(reason: string, now: () => Date = () => new Date()): EvidenceSection<T> {
  return { status: 'unavailable', collectedAt: now().toISOString(), reason };
}

export function available<T>(data: T, now: () => Date = () => new Date()): EvidenceSection<T> {
  return { status: 'ok', collectedAt: now().toISOString(), data };
}
