/**
 * The Microsoft Graph transport: one small interface (`GraphTransport`) that the real client
 * (@microsoft/microsoft-graph-client with its RetryHandler) and the in-memory demo tenant both
 * implement, plus paging that follows `@odata.nextLink` to the end and validates every page.
 */
import type * as GraphSdk from '@microsoft/microsoft-graph-client';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { CloudError, DormantError } from '../../errors.js';

export type GraphMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A non-2xx answer from Graph, in Graph's error shape. */
export class GraphRequestError extends Error {
  constructor(
    readonly method: GraphMethod,
    /** The route with ids replaced (`/users/{id}`): safe to print, names no user. */
    readonly route: string,
    readonly status: number,
    readonly code: string,
    readonly graphMessage: string,
    /** How many times the request was sent (retries included). */
    readonly attempts: number,
  ) {
    super(`Graph ${method} ${route}: ${status} ${code}: ${graphMessage}`);
    this.name = 'GraphRequestError';
  }
}

/** Sends Graph requests. Both the HTTPS client and the in-memory tenant implement it. */
export interface GraphTransport {
  /**
   * One request. `path` is under /v1.0 (`/users?$top=999`) or an absolute `@odata.nextLink`.
   * Resolves with the parsed JSON body (null for 204). Rejects with GraphRequestError for a
   * non-2xx answer, and with a DormantError when Graph cannot be reached or the token cannot be had.
   */
  send(method: GraphMethod, path: string, body?: unknown): Promise<unknown>;
  readonly counter: GraphCallCounter;
  /**
   * The claims of the access token Graph calls carry (decoded, not verified: it came from the
   * authority), or null when there is no token (the in-memory tenant).
   */
  tokenClaims?(): Promise<Record<string, unknown> | null>;
}

const LITERAL_SEGMENTS = new Set([
  'users',
  'groups',
  'directoryRoles',
  'directory',
  'deletedItems',
  'auditLogs',
  'signIns',
  'memberOf',
  'transitiveMembers',
  'microsoft.graph.user',
  'appRoleAssignments',
  'manager',
  'members',
  '$ref',
  'revokeSignInSessions',
  'assignLicense',
  'restore',
  'directoryObjects',
  'roleManagement',
  'roleEligibilityScheduleInstances',
  'transitiveMemberOf',
  'microsoft.graph.directoryRole',
  'checkMemberGroups',
]);

/** `/users/3f2a…/memberOf?$select=id` → `/users/{id}/memberOf`: for counting and for messages. */
export function routeOf(path: string): string {
  let p = path;
  const abs = /^https?:\/\/[^/]+/.exec(p);
  if (abs) p = p.slice(abs[0].length);
  p = p.split('?')[0] ?? '';
  const segments = p.split('/').filter((s) => s.length > 0);
  if (segments[0] === 'v1.0' || segments[0] === 'beta') segments.shift();
  return `/${segments.map((s) => (LITERAL_SEGMENTS.has(s) ? s : '{id}')).join('/')}`;
}

/** Counts Graph requests by route (each attempt of a retried request counts) and token requests. */
export class GraphCallCounter {
  private readonly byRoute = new Map<string, number>();
  private tokenRequests = 0;

  request(method: GraphMethod, path: string): void {
    const key = `${method} ${routeOf(path)}`;
    this.byRoute.set(key, (this.byRoute.get(key) ?? 0) + 1);
  }

  token(): void {
    this.tokenRequests += 1;
  }

  get graphCalls(): number {
    let n = 0;
    for (const v of this.byRoute.values()) n += v;
    return n;
  }

  get tokens(): number {
    return this.tokenRequests;
  }

  routes(): Record<string, number> {
    return Object.fromEntries(this.byRoute);
  }

  /** "22 Graph calls (21 GET /users, 1 GET /directoryRoles), 1 token request" */
  describe(): string {
    const parts = [...this.byRoute].sort(([a], [b]) => a.localeCompare(b)).map(([route, n]) => `${n} ${route}`);
    const tokens = `${this.tokenRequests} token request${this.tokenRequests === 1 ? '' : 's'}`;
    const calls = `${this.graphCalls} Graph call${this.graphCalls === 1 ? '' : 's'}`;
    return `${calls}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}, ${tokens}`;
  }
}

const pageSchema = z.object({
  value: z.array(z.unknown()),
  '@odata.nextLink': z.string().min(1).optional(),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join('.');
  return where ? `${where}: ${issue.message}` : issue.message;
}

/** A page that does not fit its schema: the inventory would be incomplete, so it is an error. */
export function malformed(what: string, detail: string): CloudError {
  return new CloudError(
    `Graph returned a malformed ${what} (${detail}); nothing was evaluated from an incomplete answer, try again`,
    'MalformedGraphResponse',
  );
}

/** Validates one Graph body with `schema`; a mismatch is a one-line CloudError naming the field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw malformed(what, first ? describeIssue(first) : 'unexpected shape');
}

/**
 * Every page of a Graph collection, following `@odata.nextLink` to the end. Each page and each
 * item is validated; a page that does not fit is an error, never a short list.
 */
export async function* pages<T>(
  transport: GraphTransport,
  path: string,
  item: z.ZodType<T>,
  what: string,
  origin: string,
): AsyncGenerator<T[]> {
  let next: string | undefined = path;
  let n = 0;
  while (next !== undefined) {
    n += 1;
    const body = await transport.send('GET', next);
    const page = parseBody(pageSchema, body, `page ${n} of ${what}`);
    const items: T[] = [];
    for (let i = 0; i < page.value.length; i++) {
      const r = item.safeParse(page.value[i]);
      if (!r.success) {
        const first = r.error.issues[0];
        throw malformed(`page ${n} of ${what}`, `value.${i}${first ? `.${describeIssue(first)}` : ''}`);
      }
      items.push(r.data);
    }
    yield items;
    next = page['@odata.nextLink'];
    // The token goes only to the configured Graph host: a link elsewhere is refused, not followed.
    if (next !== undefined && !sameOrigin(next, origin)) {
      throw malformed(`page ${n} of ${what}`, `@odata.nextLink points to ${safeOrigin(next)}, not ${origin}`);
    }
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

function sameOrigin(url: string, origin: string): boolean {
  return safeOrigin(url) === origin;
}

// ---- the HTTPS client -------------------------------------------------------------------------

const graphErrorSchema = z.object({
  error: z.object({ code: z.string().default('Unknown'), message: z.string().default('') }),
});

/** Per-request facts the counting middleware fills in (a MiddlewareOptions, found by its class). */
class RequestFacts {
  attempts = 0;
  networkError: unknown = null;
}

export interface GraphClientOptions {
  sdk: typeof GraphSdk;
  credential: TokenCredential;
  /** `https://graph.microsoft.com`, or a national cloud's, or a test fake's. */
  graphUrl: string;
  /** Attempts per request on 429/503/504, Retry-After honoured. */
  maxAttempts: number;
  /** Turns a token failure into a one-line DormantError (entra-errors). */
  onTokenError: (err: unknown) => Promise<DormantError>;
  /** Turns a network failure into a one-line DormantError (entra-errors). */
  onNetworkError: (err: unknown, url: string) => DormantError;
  /**
   * entra.tenantId (a GUID or a verified domain): a token of any other tenant is refused before
   * it is sent. With `authorityHost` a domain is resolved to its GUID once, from the tenant's
   * OpenID configuration. Absent: no check (tests of the transport alone).
   */
  tenant?: { tenantId: string; authorityHost: string; fetch?: typeof fetch };
}

/** The payload of a JWT access token, decoded without verification; null if it is not a JWT. */
export function decodeTokenClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant GUID entra.tenantId stands for: itself when it is a GUID, else the GUID in the
 * `issuer` of `{authorityHost}/{tenantId}/v2.0/.well-known/openid-configuration`.
 */
export async function resolveTenantGuid(
  tenantId: string,
  authorityHost: string,
  doFetch: typeof fetch = fetch,
): Promise<string> {
  if (GUID.test(tenantId)) return tenantId.toLowerCase();
  const url = `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
  let issuer: unknown;
  try {
    const res = await doFetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`metadata answered ${res.status}`);
    issuer = ((await res.json()) as { issuer?: unknown } | null)?.issuer;
  } catch (err) {
    throw new CloudError(
      `cannot resolve entra.tenantId '${tenantId}' to its directory id at ${authorityHost} (${oneLine(err)}); put the Directory (tenant) ID in entra.tenantId`,
      'TenantUnresolved',
    );
  }
  const guid = typeof issuer === 'string' ? /\/([0-9a-f-]{36})(?:\/|$)/i.exec(issuer)?.[1] : undefined;
  if (!guid || !GUID.test(guid)) {
    throw new CloudError(
      `the OpenID configuration of entra.tenantId '${tenantId}' at ${authorityHost} names no tenant id in its issuer; put the Directory (tenant) ID in entra.tenantId`,
      'TenantUnresolved',
    );
  }
  return guid.toLowerCase();
}

/** Refuses a token of another tenant than entra.tenantId: one line, exit 3. */
export function checkTokenTenant(claims: Record<string, unknown> | null, expected: string, configured: string): void {
  const tid = typeof claims?.tid === 'string' ? claims.tid.toLowerCase() : null;
  if (tid === expected) return;
  throw new CloudError(
    tid
      ? `the Entra credential gave a token for tenant ${tid}, not entra.tenantId ${configured}; dormant refuses to act on another tenant: check AZURE_TENANT_ID, az login or the managed identity`
      : `the Entra access token names no tenant (no tid claim), so dormant cannot tell it is for entra.tenantId ${configured}; it refuses to go on`,
    'WrongTenant',
  );
}

/** The Graph client's own maximum (RetryHandlerOptions.MAX_MAX_RETRIES): it throws above it. */
const SDK_MAX_RETRIES = 10;

/**
 * The real transport: Client.initWithMiddleware with the SDK's AuthenticationHandler and
 * RetryHandler, a counting step, and the SDK's HTTPMessageHandler (Node's fetch).
 */
export function createGraphClientTransport(options: GraphClientOptions): GraphTransport {
  const { sdk } = options;
  const counter = new GraphCallCounter();
  const base = new URL(options.graphUrl);
  const scope = `${base.origin}/.default`;
  let lastToken: string | null = null;
  let lastClaims: Record<string, unknown> | null = null;
  let tokenFailure: DormantError | null = null;
  let expectedTenant: Promise<string> | null = null;
  const tenantCheck = options.tenant;

  // Concurrent first calls share one token request (the SDK's cache fills only when it answers).
  let inflight: Promise<string> | null = null;
  const authProvider: GraphSdk.AuthenticationProvider = {
    getAccessToken(): Promise<string> {
      inflight ??= fetchToken().finally(() => {
        inflight = null;
      });
      return inflight;
    },
  };

  const tokenSource = {
    async getAccessToken(): Promise<string> {
      let token: AccessToken | null;
      try {
        token = await options.credential.getToken(scope);
      } catch (err) {
        tokenFailure = await options.onTokenError(err);
        throw tokenFailure;
      }
      if (!token) {
        tokenFailure = new CloudError(`no access token for ${scope} was issued`, 'NoToken');
        throw tokenFailure;
      }
      // @azure/identity caches the token: a new string means a new token request was made.
      if (token.token !== lastToken) {
        counter.token();
        const claims = decodeTokenClaims(token.token);
        if (tenantCheck) {
          try {
            expectedTenant ??= resolveTenantGuid(tenantCheck.tenantId, tenantCheck.authorityHost, tenantCheck.fetch);
            checkTokenTenant(claims, await expectedTenant, tenantCheck.tenantId);
          } catch (err) {
            if (err instanceof CloudError && err.code === 'TenantUnresolved') expectedTenant = null;
            tokenFailure = err instanceof DormantError ? err : new CloudError(oneLine(err), 'WrongTenant');
            throw tokenFailure;
          }
        }
        lastToken = token.token;
        lastClaims = claims;
      }
      tokenFailure = null;
      return token.token;
    },
  };
  const fetchToken = () => tokenSource.getAccessToken();

  const counting: GraphSdk.Middleware & { next?: GraphSdk.Middleware } = {
    async execute(context) {
      const url = typeof context.request === 'string' ? context.request : context.request.url;
      const method = (context.options?.method ?? 'GET').toUpperCase() as GraphMethod;
      counter.request(method, url);
      const facts = context.middlewareControl?.getMiddlewareOptions(RequestFacts) as RequestFacts | undefined;
      if (facts) facts.attempts += 1;
      try {
        await counting.next!.execute(context);
      } catch (err) {
        if (facts) facts.networkError = err;
        throw err;
      }
    },
    setNext(next) {
      counting.next = next;
    },
  };

  const retries = Math.max(0, Math.min(options.maxAttempts - 1, SDK_MAX_RETRIES));
  const client = sdk.Client.initWithMiddleware({
    baseUrl: base.origin,
    // The SDK adds the bearer token only for Microsoft's Graph hosts and these (host names, no port).
    customHosts: new Set([base.hostname]),
    middleware: [
      new sdk.AuthenticationHandler(authProvider),
      new sdk.RetryHandler(new sdk.RetryHandlerOptions(1, retries)),
      counting,
      new sdk.HTTPMessageHandler(),
    ],
  });

  return {
    counter,
    async tokenClaims() {
      await authProvider.getAccessToken();
      return lastClaims;
    },
    async send(method, path, body) {
      const facts = new RequestFacts();
      const request = client.api(path).responseType(sdk.ResponseType.RAW).middlewareOptions([facts]);
      let res: Response;
      try {
        switch (method) {
          case 'GET':
            res = (await request.get()) as Response;
            break;
          case 'POST':
            res = (await request.post(body ?? {})) as Response;
            break;
          case 'PATCH':
            res = (await request.patch(body ?? {})) as Response;
            break;
          case 'PUT':
            res = (await request.put(body ?? {})) as Response;
            break;
          case 'DELETE':
            res = (await request.delete()) as Response;
            break;
        }
      } catch (err) {
        // The SDK wraps every failure in a GraphError that keeps neither the cause nor our error.
        // Nothing was sent yet: the token could not be had.
        const failure = tokenFailure as DormantError | null;
        if (facts.attempts === 0 && failure) throw failure;
        if (facts.networkError !== null) throw options.onNetworkError(facts.networkError, base.origin);
        if (err instanceof DormantError) throw err;
        throw new CloudError(`Graph ${method} ${routeOf(path)} failed: ${oneLine(err)}`, 'GraphClientError');
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        throw malformed(`answer to ${method} ${routeOf(path)}`, `the body was cut off: ${oneLine(err)}`);
      }
      let json: unknown = null;
      if (text.length > 0) {
        try {
          json = JSON.parse(text);
        } catch {
          if (res.ok) throw malformed(`answer to ${method} ${routeOf(path)}`, 'the body is not complete JSON');
        }
      }
      if (res.ok) return res.status === 204 ? null : json;
      const parsed = graphErrorSchema.safeParse(json);
      throw new GraphRequestError(
        method,
        routeOf(path),
        res.status,
        parsed.success ? parsed.data.error.code : `HTTP${res.status}`,
        parsed.success ? parsed.data.error.message : oneLine(text).slice(0, 200),
        Math.max(1, facts.attempts),
      );
    },
  };
}

/** First line of an error message, without Entra's Trace/Correlation/Timestamp tail. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split(/\r?\n/).find((l) => l.trim().length > 0) ?? text).trim();
}
