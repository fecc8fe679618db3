/**
 * Why a piece of evidence could not be had, in one line: it becomes the "unavailable: …"
 * of an evidence section. Evidence never throws, so every failure ends up here.
 */
import type { EvidenceSection } from '../../model/evidence.js';
import {
  errorName,
  isAccessDenied,
  isBadCredentials,
  isNetworkError,
  isThrottled,
} from '../../providers/aws/aws-client.js';

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
  if (isThrottled(err)) return `${operation} throttled${afterAttempts} (${name})`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return `no AWS credentials for ${operation}`;
  }
  if (isBadCredentials(err)) return `credentials rejected on ${operation} (${name}): ${message}`;
  if (isNetworkError(err)) {
    return `cannot reach the endpoint for ${operation} (${e.code ?? name})${afterAttempts}`;
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
