/**
 * What an AWS SDK error means: classifiers (access denied, throttled, no such entity, an API
 * missing where we run, …) and the translation into a one-line CloudError naming the
 * operation and the fix, with the documented exit code.
 */
import { CloudError } from '../../errors.js';
import type { AwsSettings } from './aws-client.js';
import { SCAN_ACTIONS, SECURITYHUB_ACTIONS } from './aws-permissions.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $retryable?: unknown;
  $responseBodyText?: string;
}

export function errorName(err: unknown): string {
  const e = err as SdkErrorShape;
  return e?.name ?? e?.code ?? 'Error';
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedAccess']);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ThrottledException',
  'SlowDown',
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

export function isAccessDenied(err: unknown): boolean {
  return ACCESS_DENIED.has(errorName(err));
}

export function isThrottled(err: unknown): boolean {
  return THROTTLED.has(errorName(err));
}

export function isBadCredentials(err: unknown): boolean {
  return BAD_CREDENTIALS.has(errorName(err));
}

/** A connection that failed or timed out (not an answer from AWS). */
export function isNetworkError(err: unknown): boolean {
  const name = errorName(err);
  const code = (err as { code?: string })?.code;
  return (code !== undefined && NETWORK_CODES.has(code)) || NETWORK_CODES.has(name) || name === 'TimeoutError';
}

export function isNoSuchEntity(err: unknown): boolean {
  const n = errorName(err);
  return n === 'NoSuchEntity' || n === 'NoSuchEntityException';
}

/**
 * The IAM action a refused call needed: the one our operation names ("iam:ListAccessKeys for
 * alice"), else the one AWS's message names ("… is not authorized to perform: iam:X on …").
 */
export function deniedAction(operation: string, awsMessage = ''): string | null {
  const ours = /^([a-z0-9-]+:[A-Za-z0-9]+)\b/.exec(operation);
  if (ours) return ours[1]!;
  const theirs = /perform: ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(awsMessage);
  return theirs ? theirs[1]! : null;
}

/** Which `dormant permissions --mode` prints the policy that grants `action` (scan's is the default). */
function modeGranting(action: string | null): string {
  if (action === null || (SCAN_ACTIONS as readonly string[]).includes(action)) return '';
  if ((SECURITYHUB_ACTIONS as readonly string[]).includes(action)) return ' --mode export';
  return ' --mode remediate';
}

/**
 * "AWS denied iam:ListAccessKeys for alice (AccessDenied); grant it to the identity dormant runs
 * as ('dormant permissions' prints the policy)": the action, what it was for, and the fix.
 */
function accessDeniedError(err: unknown, operation: string, name: string, awsMessage: string): CloudError {
  const action = deniedAction(operation, awsMessage);
  const what = action === null || operation.startsWith(action) ? operation : `${action} (${operation})`;
  return new CloudError(
    `AWS denied ${what} (${name}); grant it to the identity dormant runs as ('dormant permissions${modeGranting(action)}' prints the policy)`,
    'AccessDenied',
    { cause: err },
  );
}

/** Turn an SDK error into a one-line CloudError naming the operation and the fix. */
export function toCloudError(err: unknown, operation: string, settings?: AwsSettings): CloudError {
  if (err instanceof CloudError) return err;
  const e = err as SdkErrorShape;
  const name = errorName(err);
  const attempts = e?.$metadata?.attempts;
  const afterAttempts = attempts ? ` after ${attempts} attempts` : '';
  const line = (e?.message ?? String(err)).split('\n')[0]!.trim();
  if (ACCESS_DENIED.has(name)) return accessDeniedError(err, operation, name, line);
  if (THROTTLED.has(name)) {
    return new CloudError(
      `AWS kept throttling ${operation}${afterAttempts}; retry later, or lower aws.concurrency / raise aws.maxAttempts`,
      'Throttling',
      { cause: err },
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(line)) {
    return new CloudError(
      `no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID, pass --profile, or run 'aws sso login'`,
      'NoCredentials',
      { cause: err },
    );
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new CloudError(
      `AWS rejected the credentials on ${operation} (${name}): refresh them ('aws sso login') or check the profile`,
      'BadCredentials',
      { cause: err },
    );
  }
  const code = (e as { code?: string })?.code;
  if ((code && NETWORK_CODES.has(code)) || NETWORK_CODES.has(name) || name === 'TimeoutError') {
    const where = settings?.endpointUrl ?? process.env.AWS_ENDPOINT_URL ?? 'the AWS endpoint';
    return new CloudError(
      `cannot reach ${where} for ${operation} (${code ?? name})${afterAttempts}; check the network or --endpoint-url`,
      'Unreachable',
      { cause: err },
    );
  }
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) {
    return new CloudError(
      `AWS failed ${operation} with HTTP ${status} (${name})${afterAttempts}; retry later`,
      'ServerError',
      { cause: err },
    );
  }
  return new CloudError(`AWS error on ${operation}: ${name}: ${line}`, name, { cause: err });
}

export function isEntityAlreadyExists(err: unknown): boolean {
  const n = errorName(err);
  return n === 'EntityAlreadyExists' || n === 'EntityAlreadyExistsException';
}

export function isDeleteConflict(err: unknown): boolean {
  const n = errorName(err);
  return n === 'DeleteConflict' || n === 'DeleteConflictException';
}

/** An SSH key or signing certificate that is already uploaded. */
export function isDuplicate(err: unknown): boolean {
  const n = errorName(err);
  return (
    n === 'DuplicateSSHPublicKey' ||
    n === 'DuplicateSSHPublicKeyException' ||
    n === 'DuplicateCertificate' ||
    n === 'DuplicateCertificateException'
  );
}

/** A NoSuchEntity that toCloudError already turned into a CloudError. */
export function isNoSuchEntityCloudError(err: unknown): boolean {
  return err instanceof CloudError && /^NoSuchEntity/.test(err.code);
}

/** Error names that mean "this API does not exist where we run" (an emulator, an older partition). */
const UNSUPPORTED_NAMES = new Set([
  'NotImplemented',
  'NotImplementedException',
  'NotImplementedError',
  'InvalidAction',
  'InvalidActionException',
  'UnknownOperation',
  'UnknownOperationException',
  'UnsupportedOperation',
  'UnsupportedOperationException',
  'OperationNotSupported',
  'OperationNotSupportedException',
]);

function customEndpoint(settings: AwsSettings | undefined): boolean {
  return Boolean(settings?.endpointUrl || process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_IAM);
}

/**
 * True when a call failed because the API is not supported where it runs. Detected broadly
 * (named errors, HTTP 501) but never for AccessDenied. Emulators such as moto answer an
 * unimplemented action with a bare HTTP 500 page that is not an AWS error document at all;
 * that only counts against a custom endpoint, never against AWS itself.
 */
export function isUnsupportedOperation(err: unknown, settings?: AwsSettings): boolean {
  if (err instanceof CloudError) return false;
  if (isAccessDenied(err)) return false;
  const name = errorName(err);
  if (UNSUPPORTED_NAMES.has(name)) return true;
  const e = err as SdkErrorShape;
  const status = e?.$metadata?.httpStatusCode;
  if (status === 501) return true;
  const message = e?.message ?? '';
  if (/\bnot (?:been )?implemented\b|\bunknown operation\b|\bnot supported\b/i.test(message) && !isNoSuchEntity(err)) {
    return true;
  }
  if (status !== undefined && status >= 500 && customEndpoint(settings)) {
    const body = e?.$responseBodyText ?? '';
    const notAwsError = !/<ErrorResponse|<Error>|"__type"|"code"/i.test(body);
    if (notAwsError && (name === 'Error' || /Deserialization error/i.test(message))) return true;
  }
  return false;
}

/** "iam:ListX is not supported here (NotImplemented, HTTP 501)": why a list was passed over. */
export function unsupportedReason(operation: string, err: unknown): string {
  const status = (err as SdkErrorShape)?.$metadata?.httpStatusCode;
  return `${operation} is not supported here (${errorName(err)}${status ? `, HTTP ${status}` : ''})`;
}

/** The first line of an error's message (AWS's own words, for DeleteConflict). */
export function firstLine(err: unknown): string {
  return ((err as { message?: string })?.message ?? String(err)).split('\n')[0]!.trim();
}

/**
 * Why a piece of evidence could not be had, in one line, for an SDK error on `operation`
 * ("cloudtrail:LookupEvents"), e.g. "no permission for cloudtrail:LookupEvents (AccessDenied)".
 * Evidence never throws, so every failure ends up here.
 */
export function unavailableReason(err: unknown, operation: string): string {
  const e = (err ?? {}) as SdkErrorShape;
  const name = errorName(err);
  const message = ((e.message ?? String(err)).split('\n')[0] ?? '').trim();
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
