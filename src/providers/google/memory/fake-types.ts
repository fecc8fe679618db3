/**
 * The in-memory Google APIs (the demo's tenant, and behind a loopback HTTP server, the tests'
 * fake): the types each API's routes are written against. Routes check requests the way
 * Google does (DESIGN §6): bearer token, scopes, admin rights, shapes, paging, throttling.
 */

/** Who a bearer token was issued to. */
export interface FakePrincipal {
  /** The service account (client_email) that signed the JWT assertion. */
  serviceAccount: string;
  /** The Workspace user domain-wide delegation acts as (`sub`), or null. */
  subject: string | null;
  scopes: string[];
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The parsed JSON body, or null. */
  body: unknown;
  principal: FakePrincipal;
  /** The fake's clock. */
  now: Date;
}

export interface FakeResponse {
  status: number;
  /** Serialized as JSON; omitted for 204. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Matched against the URL's pathname (hosts are ignored: one server serves every API). */
  pattern: RegExp;
  /** Any one of these scopes lets the token call the route (Google's own scope lists per method). */
  scopes: readonly string[];
  /** Workspace routes: the token must carry `sub`, and that user must be an admin of the tenant. */
  delegated?: boolean;
  /** A name for counting and fault injection: `directory.users.list`, `iam.keys.list`. */
  name: string;
  handle(req: FakeRequest, match: RegExpExecArray): FakeResponse | Promise<FakeResponse>;
}

/** Google's error body: `{ error: { code, message, status, errors: [{ reason, domain, message }] } }`. */
export function googleError(code: number, message: string, reason: string, status?: string): FakeResponse {
  const statusWord =
    status ??
    (
      {
        400: 'INVALID_ARGUMENT',
        401: 'UNAUTHENTICATED',
        403: 'PERMISSION_DENIED',
        404: 'NOT_FOUND',
        409: 'ALREADY_EXISTS',
        429: 'RESOURCE_EXHAUSTED',
      } as Record<number, string>
    )[code] ??
    'UNKNOWN';
  return {
    status: code,
    body: { error: { code, message, status: statusWord, errors: [{ message, domain: 'global', reason }] } },
  };
}

/** A page of `items` from `pageToken` (an opaque offset), `size` at most. */
export function page<T>(
  items: readonly T[],
  pageToken: string | null,
  size: number,
): { items: T[]; nextPageToken?: string } {
  const start = pageToken ? Number.parseInt(Buffer.from(pageToken, 'base64url').toString('utf8'), 10) : 0;
  if (!Number.isInteger(start) || start < 0 || start > items.length) throw new RangeError('bad pageToken');
  const slice = items.slice(start, start + size);
  const next =
    start + size < items.length ? Buffer.from(String(start + size), 'utf8').toString('base64url') : undefined;
  return next ? { items: slice, nextPageToken: next } : { items: slice };
}
