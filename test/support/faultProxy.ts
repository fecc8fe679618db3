// Test harness: an HTTP proxy in front of moto that records AWS query-protocol
// requests, injects faults (canned error replies, connection resets, latency)
// and can really paginate ListUsers, which moto always returns in one page.
// Pagination: the first page of a listing (no Marker) fetches the full list
// from moto; later pages are served from that snapshot through opaque markers,
// so a listing is consistent and costs moto one full ListUsers, not one per
// page. See DESIGN.md §6.
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { type Upstream, errorXml, forwardRequest, listenLocal, queryParams, readBody, relay, sendXml } from './http.js';

/** Reply with an AWS query-protocol error document instead of forwarding. */
export interface FaultError {
  status: number;
  code: string;
  message: string;
  /** Wait this long before replying. */
  delayMs?: number;
}

/** Reset the client's connection (after an optional delay) instead of replying. */
export interface FaultDrop {
  drop: true;
  delayMs?: number;
}

/** Forward as usual, but only after this delay. */
export interface FaultDelay {
  delayMs: number;
}

export type FaultReply = FaultError | FaultDrop | FaultDelay;

export interface ProxyRequest {
  /** The `Action` parameter, e.g. "ListUsers"; "" if absent. */
  action: string;
  /** Every query-protocol parameter (form body and URL query). */
  params: URLSearchParams;
  /** 1 for the first request with this action, 2 for the next, … */
  attempt: number;
}

export interface RecordedRequest {
  action: string;
  params: URLSearchParams;
}

export interface FaultProxyOptions {
  /**
   * Paginate ListUsers like AWS: pages of min(MaxItems ?? 100, pageSize) users,
   * `IsTruncated` and an opaque `Marker` while more remain. A Marker the proxy
   * did not issue gets a 400 ValidationError.
   */
  pageSize?: number;
  /** Decide per request: a fault to inject, or undefined to forward. */
  onRequest?: (req: ProxyRequest) => FaultReply | undefined | Promise<FaultReply | undefined>;
}

export interface FaultProxy {
  /** Use as the AWS endpoint URL. */
  url: string;
  /** Every request seen, in arrival order. */
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** AWS's default MaxItems for IAM list calls. */
const DEFAULT_MAX_ITEMS = 100;

export { errorXml };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function forward(
  target: URL,
  req: http.IncomingMessage,
  body: Buffer,
  path: string = req.url ?? '/',
): Promise<Upstream> {
  return forwardRequest(target, req.method ?? 'GET', path, { ...req.headers }, body);
}

/** Splits the top-level `<member>…</member>` blocks of an XML fragment. */
function topLevelMembers(xml: string): string[] {
  const members: string[] = [];
  const tag = /<(\/?)member>/g;
  let depth = 0;
  let start = -1;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    if (m[1] === '') {
      if (depth === 0) start = m.index;
      depth++;
    } else {
      depth--;
      if (depth === 0 && start >= 0) {
        members.push(xml.slice(start, m.index + m[0].length));
        start = -1;
      }
    }
  }
  return members;
}

const PAGING_PARAMS = ['Marker', 'MaxItems'];

/** Removes Marker/MaxItems from a form body or from the query of a request path. */
function withoutPaging(source: Buffer): Buffer;
function withoutPaging(source: string): string;
function withoutPaging(source: Buffer | string): Buffer | string {
  if (typeof source !== 'string') {
    const form = new URLSearchParams(source.toString('utf8'));
    if (!PAGING_PARAMS.some((p) => form.has(p))) return source;
    for (const p of PAGING_PARAMS) form.delete(p);
    return Buffer.from(form.toString(), 'utf8');
  }
  const q = source.indexOf('?');
  if (q < 0) return source;
  const query = new URLSearchParams(source.slice(q + 1));
  if (!PAGING_PARAMS.some((p) => query.has(p))) return source;
  for (const p of PAGING_PARAMS) query.delete(p);
  const rest = query.toString();
  return rest ? `${source.slice(0, q)}?${rest}` : source.slice(0, q);
}

/** The full ListUsers answer from moto, fetched for the first page of a listing. */
interface Listing {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** moto's XML with the users block replaced by USERS_SLOT. */
  template: string;
  members: string[];
}

interface MarkerState {
  listing: Listing;
  /** Index of the first user of the next page. */
  next: number;
}

const USERS_SLOT = '\u0000USERS\u0000';

/** Starts the proxy on 127.0.0.1 (free port) in front of `target` (e.g. moto's endpoint). */
export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const targetUrl = new URL(target);
  const { pageSize, onRequest } = options;
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) {
    throw new Error(`pageSize must be a positive integer, got ${pageSize}`);
  }
  const requests: RecordedRequest[] = [];
  const attempts = new Map<string, number>();
  const markers = new Map<string, MarkerState>();

  const listUsersPage = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    params: URLSearchParams,
    size: number,
  ): Promise<void> => {
    const requestId = randomUUID();
    const marker = params.get('Marker');
    const maxRaw = params.get('MaxItems');
    const maxItems = maxRaw === null ? DEFAULT_MAX_ITEMS : Number(maxRaw);
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
      sendXml(res, 400, errorXml('ValidationError', `Invalid MaxItems: ${maxRaw}`, 400, requestId), requestId);
      return;
    }
    let state: MarkerState | undefined;
    if (marker !== null) {
      state = markers.get(marker);
      if (state === undefined) {
        sendXml(res, 400, errorXml('ValidationError', 'Invalid Marker', 400, requestId), requestId);
        return;
      }
    }

    let listing: Listing;
    let start = 0;
    if (state !== undefined) {
      ({ listing } = state);
      start = state.next;
    } else {
      // First page: ask moto for everything (it ignores Marker/MaxItems anyway).
      const up = await forward(targetUrl, req, withoutPaging(body), withoutPaging(req.url ?? '/'));
      const xml = up.body.toString('utf8');
      const usersBlock = /<Users>([\s\S]*?)<\/Users>|<Users\s*\/>/.exec(xml);
      if (up.status !== 200 || !usersBlock) {
        relay(res, up);
        return;
      }
      listing = {
        status: up.status,
        headers: up.headers,
        template: xml.replace(usersBlock[0], () => USERS_SLOT).replace(/<Marker>[\s\S]*?<\/Marker>/, ''),
        members: topLevelMembers(usersBlock[1] ?? ''),
      };
    }

    const page = listing.members.slice(start, start + Math.min(maxItems, size));
    const next = start + page.length;
    let tail = '<IsTruncated>false</IsTruncated>';
    if (next < listing.members.length) {
      const token = randomBytes(24).toString('base64url');
      markers.set(token, { listing, next });
      tail = `<IsTruncated>true</IsTruncated><Marker>${token}</Marker>`;
    }
    const xml = listing.template
      .replace(USERS_SLOT, () => `<Users>${page.join('')}</Users>`)
      .replace(/<IsTruncated>[\s\S]*?<\/IsTruncated>/, () => tail)
      .replace(/<RequestId>[\s\S]*?<\/RequestId>/, () => `<RequestId>${requestId}</RequestId>`);
    const headers = { ...listing.headers, 'x-amzn-requestid': requestId };
    relay(res, { status: listing.status, headers, body: Buffer.alloc(0) }, Buffer.from(xml, 'utf8'));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const params = queryParams(req, body);
    const action = params.get('Action') ?? '';
    const attempt = (attempts.get(action) ?? 0) + 1;
    attempts.set(action, attempt);
    requests.push({ action, params: new URLSearchParams(params) });

    const fault = await onRequest?.({ action, params: new URLSearchParams(params), attempt });
    if (fault?.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault !== undefined && 'drop' in fault && fault.drop) {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault !== undefined && 'code' in fault) {
      const requestId = randomUUID();
      sendXml(res, fault.status, errorXml(fault.code, fault.message, fault.status, requestId), requestId);
      return;
    }
    if (pageSize !== undefined && action === 'ListUsers') {
      await listUsersPage(req, res, body, params, pageSize);
      return;
    }
    relay(res, await forward(targetUrl, req, body));
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const requestId = randomUUID();
      const message = `fault proxy: ${err instanceof Error ? err.message : String(err)}`;
      sendXml(res, 502, errorXml('ProxyUpstreamError', message, 502, requestId), requestId);
    });
  });

  const local = await listenLocal(server);
  return {
    url: local.url,
    requests,
    stop: local.stop,
  };
}
