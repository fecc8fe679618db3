// Test harness: a local CloudTrail LookupEvents endpoint (moto has none) that checks
// requests like AWS does: the JSON 1.1 protocol (POST /, X-Amz-Target, content type), the
// SigV4 signature (recomputed here from the known secret, independently of the SDK's
// signer), the request shape (LookupAttributes, MaxResults 1–50, NextToken), and the
// 2 requests per second per account and region limit, measured over a sliding 1 s window:
// above it, 400 ThrottlingException "Rate exceeded", counted as a violation. Serves seeded
// events per user and region, newest first, with NextToken paging; can refuse with
// AccessDeniedException or any error per region. Records every request with its arrival time.
//
// Also exports verifySigV4, used by the Access Advisor fake.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { readBody, serveLocal } from './http.js';

// ---------------------------------------------------------------------------------------
// SigV4

export interface SignedRequest {
  method: string;
  /** Path and query as received, e.g. "/" or "/a/b?x=1". */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type SigV4Failure =
  /** No or malformed Authorization / X-Amz-Date. */
  | 'MissingAuthentication'
  /** Access key not known. */
  | 'UnknownAccessKey'
  /** Scope names another service, a bad date or terminator. */
  | 'BadScope'
  /** More than 5 minutes off. */
  | 'Expired'
  | 'PayloadHashMismatch'
  | 'SignatureMismatch';

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; service: string; amzDate: string }
  | { ok: false; failure: SigV4Failure; message: string };

export interface VerifyOptions {
  /** The signing name the scope must carry ("cloudtrail", "iam"). */
  service: string;
  /** Default: now. */
  now?: Date;
  /** Default 5 minutes, like AWS. Infinity turns the check off (fixed test vectors). */
  maxSkewMs?: number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 percent-encoding, as SigV4 wants it. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter((p) => p.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const k = eq < 0 ? pair : pair.slice(0, eq);
      const v = eq < 0 ? '' : pair.slice(eq + 1);
      return [uriEncode(safeDecode(k)), uriEncode(safeDecode(v))] as const;
    })
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v.join(',') : String(v)).trim().replace(/\s+/g, ' ');
}

function parseAmzDate(amzDate: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return Number.isNaN(t) ? null : new Date(t);
}

/**
 * Recomputes the AWS Signature Version 4 of a request (Authorization header form) from the
 * secret of its access key, and compares. The payload hash is computed from the body
 * received, so a body changed after signing fails too.
 */
export function verifySigV4(
  req: SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  options: VerifyOptions,
): SigV4Result {
  const fail = (failure: SigV4Failure, message: string): SigV4Result => ({ ok: false, failure, message });
  const auth = headerValue(req.headers, 'authorization');
  if (!auth) return fail('MissingAuthentication', 'Missing Authentication Token');
  const m = AUTH_RE.exec(auth);
  if (!m) return fail('MissingAuthentication', `Authorization header is not ${ALGORITHM}: ${auth.slice(0, 60)}`);
  const [, credential = '', signedHeaderList = '', signature = ''] = m;
  const parts = credential.split('/');
  if (parts.length !== 5)
    return fail('BadScope', `Credential should be AKID/date/region/service/aws4_request: ${credential}`);
  const [accessKeyId = '', date = '', region = '', service = '', terminator = ''] = parts;
  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (!amzDate) return fail('MissingAuthentication', 'X-Amz-Date header missing');
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) return fail('MissingAuthentication', `X-Amz-Date is not YYYYMMDDTHHMMSSZ: ${amzDate}`);
  if (date !== amzDate.slice(0, 8)) return fail('BadScope', `Credential date ${date} is not the X-Amz-Date day`);
  if (terminator !== 'aws4_request') return fail('BadScope', `Credential should end in aws4_request: ${credential}`);
  if (service !== options.service) {
    return fail('BadScope', `Credential should be scoped to correct service: '${options.service}'`);
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) return fail('BadScope', `Credential scope has a bad region: ${region}`);
  const maxSkew = options.maxSkewMs ?? 5 * 60_000;
  const now = options.now ?? new Date();
  if (Math.abs(now.getTime() - signedAt.getTime()) > maxSkew) {
    return fail('Expired', `Signature expired: ${amzDate} is now earlier than ${now.toISOString()} - 5 min.`);
  }
  const secret = secretFor(accessKeyId);
  if (secret === undefined) return fail('UnknownAccessKey', 'The security token included in the request is invalid.');

  const signedHeaders = signedHeaderList.split(';');
  const sorted = [...signedHeaders].sort();
  if (signedHeaders.some((h, i) => h !== sorted[i])) return fail('SignatureMismatch', 'SignedHeaders are not sorted');
  if (!signedHeaders.includes('host')) return fail('SignatureMismatch', "'Host' must be a signed header");
  if (!signedHeaders.includes('x-amz-date')) return fail('SignatureMismatch', "'X-Amz-Date' must be a signed header");
  let canonicalHeaders = '';
  for (const name of signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) return fail('SignatureMismatch', `signed header ${name} is missing from the request`);
    canonicalHeaders += `${name}:${value}\n`;
  }

  const payloadHash = sha256Hex(req.body);
  const claimed = headerValue(req.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== payloadHash) {
    return fail('PayloadHashMismatch', 'The provided x-amz-content-sha256 header does not match the computed hash.');
  }
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const canonicalUri = path.split('/').map(uriEncode).join('/') || '/';
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri,
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail(
      'SignatureMismatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { ok: true, accessKeyId, region, service, amzDate };
}

// ---------------------------------------------------------------------------------------
// Sliding windows

/** The most timestamps (ms) that fall in any window [t, t + windowMs). */
export function maxInAnyWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// The fake

export interface SeedTrailEvent {
  user: string;
  region: string;
  name: string;
  time: string | Date;
  sourceIp?: string;
  /** Default: signin.amazonaws.com for ConsoleLogin, else iam.amazonaws.com. */
  source?: string;
  id?: string;
  readOnly?: boolean;
  accessKeyId?: string;
  /** The event's resources, as LookupEvents lists them (an AssumeRole names the role by ARN). */
  resources?: { type: string; name: string }[];
}

export interface CloudTrailErrorReply {
  status: number;
  type: string;
  message: string;
}

export interface CloudTrailFakeOptions {
  /** Access key id → secret. Default: { testing: 'testing' } (moto's test credentials). */
  credentials?: Record<string, string>;
  accountId?: string;
  events?: SeedTrailEvent[];
  /** Per account and region, over a sliding 1 s window. Default 2, like AWS. */
  maxRequestsPerSecond?: number;
  /** Serve at most this many events per page even if MaxResults asks for more (AWS may). Default 50. */
  pageSize?: number;
  /** Refuse LookupEvents (AccessDeniedException): everywhere (true) or in these regions. */
  accessDenied?: boolean | string[];
  /** Answer this error instead, per region (an opt-in region not enabled, an outage…). */
  regionErrors?: Record<string, CloudTrailErrorReply>;
}

export interface CloudTrailFakeRequest {
  /** performance.now() when the request arrived. */
  at: number;
  region: string | null;
  accessKeyId: string | null;
  target: string;
  body: unknown;
  status: number;
  /** The error type answered, or null for a success. */
  error: string | null;
  /** Events returned. */
  returned: number;
}

export interface CloudTrailFake {
  url: string;
  requests: CloudTrailFakeRequest[];
  /** Requests refused with ThrottlingException because the rate was above the limit. */
  readonly violations: number;
  /** Arrival times of the requests of one region (all accounts), in order. */
  arrivals(region: string): number[];
  addEvents(events: SeedTrailEvent[]): void;
  /** Change the refusals while running. */
  setAccessDenied(value: boolean | string[]): void;
  setRegionErrors(value: Record<string, CloudTrailErrorReply>): void;
  stop(): Promise<void>;
}

export const LOOKUP_EVENTS_TARGETS = [
  'CloudTrail_20131101.LookupEvents',
  'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents',
];
/** AWS's LookupAttribute AttributeKey values. */
export const ATTRIBUTE_KEYS = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
] as const;
const REQUEST_MEMBERS = new Set([
  'LookupAttributes',
  'StartTime',
  'EndTime',
  'EventCategory',
  'MaxResults',
  'NextToken',
]);

interface StoredEvent {
  id: string;
  user: string;
  region: string;
  name: string;
  timeMs: number;
  source: string;
  sourceIp: string;
  readOnly: boolean;
  accessKeyId: string;
  resources: { type: string; name: string }[];
}

interface Query {
  account: string;
  region: string;
  attribute: { key: string; value: string } | null;
  start: number | null;
  end: number | null;
}

interface TokenState {
  queryKey: string;
  offset: number;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function toStored(e: SeedTrailEvent): StoredEvent {
  const timeMs = new Date(e.time).getTime();
  if (Number.isNaN(timeMs)) throw new Error(`cloudtrail fake: bad event time ${String(e.time)}`);
  return {
    id: e.id ?? randomUUID(),
    user: e.user,
    region: e.region,
    name: e.name,
    timeMs,
    source: e.source ?? (e.name === 'ConsoleLogin' ? 'signin.amazonaws.com' : 'iam.amazonaws.com'),
    sourceIp: e.sourceIp ?? '198.51.100.7',
    readOnly: e.readOnly ?? /^(Get|List|Describe|Lookup)/.test(e.name),
    accessKeyId: e.accessKeyId ?? 'ASIAEXAMPLEEXAMPLE00',
    resources: e.resources ?? [],
  };
}

function matches(e: StoredEvent, q: Query): boolean {
  if (e.region !== q.region) return false;
  if (q.start !== null && e.timeMs < q.start) return false;
  if (q.end !== null && e.timeMs > q.end) return false;
  if (!q.attribute) return true;
  const { key, value } = q.attribute;
  switch (key) {
    case 'Username':
      return e.user === value;
    case 'EventName':
      return e.name === value;
    case 'EventId':
      return e.id === value;
    case 'EventSource':
      return e.source === value;
    case 'ReadOnly':
      return String(e.readOnly) === value;
    case 'AccessKeyId':
      return e.accessKeyId === value;
    case 'ResourceName':
      return e.resources.some((r) => r.name === value);
    case 'ResourceType':
      return e.resources.some((r) => r.type === value);
    default:
      return false;
  }
}

function apiEvent(e: StoredEvent, account: string): Record<string, unknown> {
  const time = new Date(e.timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const detail = {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLEEXAMPLE00',
      arn: `arn:aws:iam::${account}:user/${e.user}`,
      accountId: account,
      accessKeyId: e.accessKeyId,
      userName: e.user,
    },
    eventTime: time,
    eventSource: e.source,
    eventName: e.name,
    awsRegion: e.region,
    sourceIPAddress: e.sourceIp,
    userAgent: 'aws-cli/2.15.0',
    requestParameters: null,
    responseElements: null,
    requestID: randomUUID(),
    eventID: e.id,
    readOnly: e.readOnly,
    eventType: e.name === 'ConsoleLogin' ? 'AwsConsoleSignIn' : 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
  };
  return {
    EventId: e.id,
    EventName: e.name,
    ReadOnly: String(e.readOnly),
    AccessKeyId: e.accessKeyId,
    // JSON 1.1 timestamps are epoch seconds.
    EventTime: e.timeMs / 1000,
    EventSource: e.source,
    Username: e.user,
    Resources: e.resources.map((r) => ({ ResourceType: r.type, ResourceName: r.name })),
    CloudTrailEvent: JSON.stringify(detail),
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a LookupEvents body like AWS; throws a Refusal. */
function parseLookup(
  body: unknown,
  account: string,
  region: string,
): { query: Query; max: number; token: string | null } {
  if (!isPlainObject(body)) throw new Refusal(400, 'SerializationException', 'Request body is not a JSON object');
  for (const k of Object.keys(body)) {
    // Strict on purpose: a member AWS does not know is a bug in the caller.
    if (!REQUEST_MEMBERS.has(k)) throw new Refusal(400, 'SerializationException', `Unknown member: ${k}`);
  }
  let attribute: Query['attribute'] = null;
  const attrs = body['LookupAttributes'];
  if (attrs !== undefined) {
    if (!Array.isArray(attrs)) throw new Refusal(400, 'SerializationException', 'LookupAttributes must be a list');
    if (attrs.length > 1) {
      throw new Refusal(400, 'InvalidLookupAttributesException', 'You can specify only one lookup attribute.');
    }
    const a: unknown = attrs[0];
    if (a !== undefined) {
      if (!isPlainObject(a)) throw new Refusal(400, 'SerializationException', 'LookupAttribute must be an object');
      const key = a['AttributeKey'];
      const value = a['AttributeValue'];
      if (typeof key !== 'string' || !(ATTRIBUTE_KEYS as readonly string[]).includes(key)) {
        throw new Refusal(
          400,
          'InvalidLookupAttributesException',
          `Invalid AttributeKey ${JSON.stringify(key)}; valid: ${ATTRIBUTE_KEYS.join(', ')}`,
        );
      }
      if (typeof value !== 'string' || value.length < 1 || value.length > 2000) {
        throw new Refusal(400, 'InvalidLookupAttributesException', 'AttributeValue must be 1 to 2000 characters');
      }
      attribute = { key, value };
    }
  }
  const max = body['MaxResults'];
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50)) {
    throw new Refusal(400, 'InvalidMaxResultsException', `MaxResults must be 1 to 50, got ${JSON.stringify(max)}`);
  }
  const time = (name: string): number | null => {
    const v = body[name];
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Refusal(400, 'SerializationException', `${name} must be a timestamp (epoch seconds)`);
    }
    return v * 1000;
  };
  const start = time('StartTime');
  const end = time('EndTime');
  if (start !== null && end !== null && start > end) {
    throw new Refusal(400, 'InvalidTimeRangeException', 'StartTime is after EndTime');
  }
  const category = body['EventCategory'];
  if (category !== undefined && category !== 'insight') {
    throw new Refusal(400, 'InvalidEventCategoryException', `Invalid EventCategory ${JSON.stringify(category)}`);
  }
  const token = body['NextToken'];
  if (token !== undefined && typeof token !== 'string') {
    throw new Refusal(400, 'InvalidNextTokenException', 'NextToken must be a string');
  }
  return {
    query: { account, region, attribute, start, end },
    max: typeof max === 'number' ? max : 50,
    token: typeof token === 'string' ? token : null,
  };
}

export async function startCloudTrailFake(options: CloudTrailFakeOptions = {}): Promise<CloudTrailFake> {
  const credentials = options.credentials ?? { testing: 'testing' };
  const account = options.accountId ?? '123456789012';
  const limit = options.maxRequestsPerSecond ?? 2;
  const pageSize = options.pageSize ?? 50;
  let accessDenied = options.accessDenied ?? false;
  let regionErrors = options.regionErrors ?? {};
  const events: StoredEvent[] = (options.events ?? []).map(toStored);
  const requests: CloudTrailFakeRequest[] = [];
  /** Accepted request arrival times per account/region. */
  const accepted = new Map<string, number[]>();
  const tokens = new Map<string, TokenState>();
  let violations = 0;

  const send = (res: http.ServerResponse, status: number, payload: unknown): void => {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, at: number): Promise<void> => {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const record: CloudTrailFakeRequest = {
      at,
      region: null,
      accessKeyId: null,
      target,
      body: null,
      status: 200,
      error: null,
      returned: 0,
    };
    requests.push(record);
    const refuse = (status: number, type: string, message: string): void => {
      record.status = status;
      record.error = type;
      send(res, status, { __type: type, message });
    };

    try {
      if (req.method !== 'POST' || (req.url ?? '/') !== '/') {
        throw new Refusal(404, 'UnknownOperationException', `${req.method} ${req.url} is not a CloudTrail operation`);
      }
      if (!LOOKUP_EVENTS_TARGETS.includes(target)) {
        throw new Refusal(400, 'UnknownOperationException', `Unknown or unsupported X-Amz-Target: ${target}`);
      }
      const contentType = String(req.headers['content-type'] ?? '');
      if (!contentType.startsWith('application/x-amz-json-1.1')) {
        throw new Refusal(
          400,
          'SerializationException',
          `Content-Type must be application/x-amz-json-1.1: ${contentType}`,
        );
      }
      const sig = verifySigV4(
        { method: req.method, url: req.url ?? '/', headers: req.headers, body },
        (id) => credentials[id],
        { service: 'cloudtrail' },
      );
      if (!sig.ok) {
        if (sig.failure === 'UnknownAccessKey') throw new Refusal(400, 'UnrecognizedClientException', sig.message);
        if (sig.failure === 'MissingAuthentication')
          throw new Refusal(403, 'MissingAuthenticationTokenException', sig.message);
        throw new Refusal(400, 'InvalidSignatureException', sig.message);
      }
      record.region = sig.region;
      record.accessKeyId = sig.accessKeyId;

      // The limit: at most `limit` accepted requests in any sliding 1 s window.
      const key = `${account}/${sig.region}`;
      const times = (accepted.get(key) ?? []).filter((t) => t > at - 1000);
      if (times.length >= limit) {
        violations++;
        accepted.set(key, times);
        throw new Refusal(400, 'ThrottlingException', 'Rate exceeded');
      }
      times.push(at);
      accepted.set(key, times);

      if (accessDenied === true || (Array.isArray(accessDenied) && accessDenied.includes(sig.region))) {
        throw new Refusal(
          400,
          'AccessDeniedException',
          `User: arn:aws:iam::${account}:user/dormant is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action`,
        );
      }
      const regionError = regionErrors[sig.region];
      if (regionError) throw new Refusal(regionError.status, regionError.type, regionError.message);

      let parsed: unknown;
      try {
        parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        throw new Refusal(400, 'SerializationException', 'Request body is not JSON');
      }
      record.body = parsed;
      const { query, max, token } = parseLookup(parsed, account, sig.region);
      const queryKey = JSON.stringify(query);
      let offset = 0;
      if (token !== null) {
        const state = tokens.get(token);
        if (!state || state.queryKey !== queryKey) {
          throw new Refusal(400, 'InvalidNextTokenException', 'Invalid NextToken: not issued for these parameters');
        }
        offset = state.offset;
      }
      const all = events.filter((e) => matches(e, query)).sort((a, b) => b.timeMs - a.timeMs);
      const page = all.slice(offset, offset + Math.min(max, pageSize));
      const next = offset + page.length;
      const out: Record<string, unknown> = { Events: page.map((e) => apiEvent(e, account)) };
      if (next < all.length) {
        const nextToken = randomBytes(24).toString('base64');
        tokens.set(nextToken, { queryKey, offset: next });
        out['NextToken'] = nextToken;
      }
      record.returned = page.length;
      send(res, 200, out);
    } catch (err) {
      if (err instanceof Refusal) refuse(err.status, err.type, err.message);
      else refuse(500, 'InternalFailure', err instanceof Error ? err.message : String(err));
    }
  };

  // `at` is the arrival time, before anything else: this is what the limit is measured on.
  const local = await serveLocal(handle);
  return {
    url: local.url,
    requests,
    get violations() {
      return violations;
    },
    arrivals(region: string): number[] {
      return requests.filter((r) => r.region === region).map((r) => r.at);
    },
    addEvents(more: SeedTrailEvent[]): void {
      events.push(...more.map(toStored));
    },
    setAccessDenied(value: boolean | string[]): void {
      accessDenied = value;
    },
    setRegionErrors(value: Record<string, CloudTrailErrorReply>): void {
      regionErrors = value;
    },
    stop: local.stop,
  };
}
