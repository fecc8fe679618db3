/**
 * A local fake of Microsoft Entra ID's token endpoint and of Microsoft Graph v1.0, for tests.
 * One HTTPS server (a throwaway CA from ./tls.ts, trusted through NODE_EXTRA_CA_CERTS set in
 * vitest.config.ts) serves both, so it can be given as `authorityHost` to @azure/identity and as
 * `baseUrl` to @microsoft/microsoft-graph-client. It checks every request the way the real
 * services do and answers in their real shapes:
 *
 * - token: GET /{tenant}/v2.0/.well-known/openid-configuration and POST /{tenant}/oauth2/v2.0/token
 *   (client credentials with a client secret, or with a certificate client assertion whose RS256 /
 *   PS256 signature is verified with the registered certificate's key, aud = the token endpoint,
 *   iss = sub = client_id, exp/nbf, and the certificate's validity), errors exactly like Entra's
 *   (AADSTS code, the "\r\nTrace ID/Correlation ID/Timestamp" tail, error_codes, timestamp,
 *   trace_id, correlation_id, error_uri). Access tokens are bound to tenant, app, its granted
 *   application permissions (roles) and an expiry, and are checked on every Graph call.
 * - Graph: the endpoints of /tmp/dormant-notes/graph-surface.md (see ./graph/api.ts), with the
 *   permission table ./graph/permissions.ts, $select, $top 1..999, @odata.nextLink with a
 *   $skiptoken, 403 for signInActivity without licence or AuditLog.Read.All, soft delete to
 *   deletedItems with purge after 30 days on the directory clock, restore, writes.
 * - faults: throttling (429/503 + Retry-After) of the next N calls of a path, a storm (always
 *   429), a malformed or truncated N-th /users page, latency. Every request is recorded.
 *
 * Checked against the official references (search corpus "docs"/"issues", 2026-12):
 * - Graph "List users" (v1.0 user-list.md): permissions User.Read.All…Directory.ReadWrite.All;
 *   default property set; $select returns only the selected properties (no implicit id);
 *   `@odata.context` `$metadata#users(a,b)`; single-user-only properties give 501 on /users;
 *   $skip unsupported; signInActivity needs P1/P2 + AuditLog.Read.All (an older revision also
 *   capped such pages at 120: optional here, `signInActivityPageLimit`).
 * - signInActivity resource type: lastSignInDateTime/RequestId, lastNonInteractiveSignInDateTime/
 *   RequestId, lastSuccessfulSignInDateTime/RequestId (since Dec 2023, not backfilled).
 * - Paging (graph/paging): nextLink is an absolute URL keeping the other query parameters and
 *   adding $skiptoken; clients must use it as is. Bad/expired token: Directory_ExpiredPageToken.
 * - $top bounds: 400 Request_UnsupportedQuery "Invalid page size specified: '1000'. Must be between
 *   1 and 999 inclusive." (quoted in steampipe-plugin-azuread).
 * - Graph errors (graph/errors): {"error":{"code","message","innerError":{"date","request-id",
 *   "client-request-id"}}}; InvalidAuthenticationToken ("Access token is empty.", "CompactToken
 *   parsing failed with error code: 80049217", "Lifetime validation failed, the token is
 *   expired."); Request_ResourceNotFound "Resource '…' does not exist or one of its queried
 *   reference-property objects are not present."; Authentication_RequestFromNonPremiumTenantOrB2CTenant
 *   "Neither tenant is B2C or tenant doesn't have premium license" (microsoft-graph-docs #14118).
 * - directory resource type / restore deleted item: soft-deleted users restorable for 30 days,
 *   then permanently deleted; GET/POST /directory/deletedItems/{id}[/restore].
 * - Entra error codes (reference-aadsts-error-codes; azure-sdk troubleshooting): AADSTS7000215
 *   invalid_client 401 "Invalid client secret provided. Ensure the secret being sent in the
 *   request is the client secret value, not the client secret ID, for a secret added to app
 *   '…'."; AADSTS7000222 expired secret; AADSTS700016 unauthorized_client (app not found in the
 *   directory); AADSTS90002 tenant not found (invalid_tenant on discovery, invalid_request on the
 *   token endpoint); AADSTS700027 "[Reason - The key used is expired. …]" / "[Reason - The key was
 *   not found. …]"; AADSTS700021 iss/sub ≠ client_id; AADSTS700023 audience; AADSTS700024 time
 *   range; AADSTS1002012 scope without /.default; AADSTS7000218 no secret or assertion.
 * - Certificate credentials (entra identity-platform/certificate-credentials): header alg PS256
 *   with x5t#S256 (msal-node 5 does this) or RS256 with x5t (SHA-1); claims aud, exp, iss, jti,
 *   nbf, sub. The user/group/role/appRoleAssignment/signIn property lists follow
 *   @microsoft/microsoft-graph-types 2.43 (v1.0).
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenService, openIdConfiguration, tenantNotFound } from './graph/auth.js';
import { handleGraph, type GraphResult } from './graph/api.js';
import {
  DirectoryError,
  FakeTenant,
  type FakeAppSeed,
  type FakeTenantSeed,
  type RegisteredApp,
} from './graph/directory.js';
import { entraErrorBody, graphErrorBody, type EntraError } from './graph/shapes.js';
import { ensureTestTls } from './tls.js';

export { ALL_GRAPH_ROLES, GRAPH_PERMISSIONS, type GraphOperation, type PermissionRule } from './graph/permissions.js';
export { ROLE_TEMPLATES, USER_PROPERTIES, USER_DEFAULT_SELECT, GRAPH_APP_ID } from './graph/shapes.js';
export {
  FakeTenant,
  DEFAULT_ACCESS_ROLE,
  type FakeAppSeed,
  type FakeTenantSeed,
  type FakeUserSeed,
  type FakeGroupSeed,
  type FakeDirectoryRoleSeed,
  type FakeRoleEligibilitySeed,
  type FakeServicePrincipalSeed,
  type FakeAppRoleAssignmentSeed,
  type FakeSignInSeed,
  type FakeSkuSeed,
  type RegisteredApp,
  type Revocation,
} from './graph/directory.js';
export { createAppCertificate, ensureTestTls, type AppCertificate } from './tls.js';

export interface GraphFakeOptions {
  /**
   * The directory clock: createdDateTime defaults, deletedDateTime, the 30-day purge,
   * revocation times. Authentication (tokens, assertions, certificates, secrets) always uses the
   * real clock, as MSAL does. Default: () => new Date().
   */
  now?: () => Date;
  /** Added before every request is handled, in ms (or per request). */
  latencyMs?: number | ((request: { method: string; path: string }) => number);
  /** Access token lifetime (expires_in). Default 3599. */
  tokenLifetimeSeconds?: number;
  /** How long soft-deleted users stay restorable. Default 30 days. */
  deletedItemRetentionDays?: number;
}

export interface FakeGraphRequest {
  /** Real time of arrival. */
  at: Date;
  method: string;
  path: string;
  /** Query parameters as received (decoded; the last one wins on repeats). */
  query: Record<string, string>;
  status: number;
  tenantId: string | null;
  clientId: string | null;
  /** The Graph error code or the Entra `error` of a refused request. */
  error: string | null;
  /** Set when the answer was injected. */
  fault: 'throttle' | 'storm' | 'malformed' | 'truncated' | null;
}

export interface ThrottleOptions {
  /** Retry-After, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Default 429. */
  status?: 429 | 503;
  /** Graph error code. Default TooManyRequests (429) / serviceNotAvailable (503). */
  code?: string;
  message?: string;
}

/** A path pattern: a string is a case-insensitive prefix of the path (or a glob if it has "*"); a RegExp is tested on path+query. */
export type PathPattern = string | RegExp;

function matcher(pattern: PathPattern): (path: string, search: string) => boolean {
  if (pattern instanceof RegExp) return (path, search) => pattern.test(path + search);
  const p = pattern.toLowerCase();
  if (!p.includes('*')) return (path) => path.toLowerCase().startsWith(p);
  const re = new RegExp(
    `^${p
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*')}$`,
  );
  return (path) => re.test(path.toLowerCase());
}

interface Throttle {
  match: (path: string, search: string) => boolean;
  remaining: number;
  options: ThrottleOptions;
}

const GRAPH_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class GraphFake {
  readonly tenants = new Map<string, FakeTenant>();
  /** Every request, in arrival order. */
  readonly requests: FakeGraphRequest[] = [];
  readonly now: () => Date;
  private readonly tokens: TokenService;
  private readonly retentionDays: number;
  private latency: GraphFakeOptions['latencyMs'];
  private throttles: Throttle[] = [];
  private stormState: (ThrottleOptions & { match: (path: string, search: string) => boolean }) | null = null;
  private pageFaults: { page: number; kind: 'malformed' | 'truncated'; remaining: number }[] = [];
  private server: https.Server | null = null;
  private port = 0;
  private caPem = '';

  constructor(options: GraphFakeOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.tokens = new TokenService(options.tokenLifetimeSeconds ?? 3599);
    this.retentionDays = options.deletedItemRetentionDays ?? 30;
    this.latency = options.latencyMs;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  async start(): Promise<this> {
    const tls = ensureTestTls();
    this.caPem = tls.ca;
    if (process.env.NODE_EXTRA_CA_CERTS !== tls.caPath) {
      process.emitWarning(
        `graph fake: NODE_EXTRA_CA_CERTS is not ${tls.caPath}, so clients in this process will not trust ${this.constructor.name}'s certificate (vitest.config.ts sets it; other runners must set it before node starts)`,
      );
    }
    const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`graph fake: ${err instanceof Error ? err.stack : String(err)}`);
        } else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** https://127.0.0.1:PORT: both the authority host and the Graph base URL. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The host name to put in the Graph client's `customHosts` (no port). */
  get host(): string {
    return '127.0.0.1';
  }

  /** The throwaway CA certificate (PEM) the server certificate chains to. */
  get ca(): string {
    return this.caPem;
  }

  tokenEndpoint(tenantId: string): string {
    return `${this.url}/${tenantId}/oauth2/v2.0/token`;
  }

  // ---- state ---------------------------------------------------------------------------------

  addTenant(seed: FakeTenantSeed = {}): FakeTenant {
    const t = new FakeTenant(seed, this.now, this.retentionDays);
    if (this.tenants.has(t.tenantId)) throw new Error(`graph fake: tenant ${t.tenantId} already exists`);
    this.tenants.set(t.tenantId, t);
    return t;
  }

  /** A tenant by id or verified domain. */
  tenant(idOrDomain: string): FakeTenant {
    const t = this.findTenant(idOrDomain);
    if (!t) throw new Error(`graph fake: no tenant ${idOrDomain}`);
    return t;
  }

  addApp(tenantId: string, seed: FakeAppSeed = {}): RegisteredApp {
    return this.tenant(tenantId).addApp(seed);
  }

  /** A token as the token endpoint would issue it (e.g. with other roles, or already expired). */
  mintToken(tenantId: string, clientId: string, options: { roles?: string[]; expiresInSeconds?: number } = {}): string {
    const t = this.tenant(tenantId);
    const app = t.apps.get(clientId.toLowerCase());
    if (!app) throw new Error(`graph fake: no app ${clientId} in ${tenantId}`);
    return this.tokens.mint(t, app, options);
  }

  /** A delegated token of `userId` signed in to the app (idtyp user, oid, upn, scp). */
  mintUserToken(tenantId: string, clientId: string, userId: string, options: { roles?: string[] } = {}): string {
    const t = this.tenant(tenantId);
    const app = t.apps.get(clientId.toLowerCase());
    if (!app) throw new Error(`graph fake: no app ${clientId} in ${tenantId}`);
    const user = t.user(userId);
    if (!user) throw new Error(`graph fake: no user ${userId} in ${tenantId}`);
    return this.tokens.mintUser(t, app, { id: user.id!, userPrincipalName: user.userPrincipalName! }, options);
  }

  private findTenant(name: string): FakeTenant | undefined {
    const direct = this.tenants.get(name.toLowerCase());
    if (direct) return direct;
    for (const t of this.tenants.values()) if (t.matches(name)) return t;
    return undefined;
  }

  // ---- faults --------------------------------------------------------------------------------

  /** The next `count` requests whose path matches get 429 (or 503) with Retry-After. */
  throttle(pattern: PathPattern, count: number, options: ThrottleOptions = {}): void {
    this.throttles.push({ match: matcher(pattern), remaining: count, options });
  }

  /** Storm: every matching request (default: all of Graph, /v1.0/) gets 429 until turned off. */
  storm(on: boolean | (ThrottleOptions & { pattern?: PathPattern })): void {
    if (on === false) {
      this.stormState = null;
      return;
    }
    const o = on === true ? {} : on;
    this.stormState = { ...o, match: matcher(o.pattern ?? '/v1.0/') };
  }

  /**
   * The `page`-th page (1 = the first) of a /users listing is answered broken, `times` times:
   * 'malformed' is 200 with invalid JSON, 'truncated' sends half the body and drops the connection.
   */
  corruptUsersPage(page: number, kind: 'malformed' | 'truncated', times = 1): void {
    this.pageFaults.push({ page, kind, remaining: times });
  }

  setLatency(latency: GraphFakeOptions['latencyMs']): void {
    this.latency = latency;
  }

  /** Clears throttles, storm, page faults and latency. */
  clearFaults(): void {
    this.throttles = [];
    this.stormState = null;
    this.pageFaults = [];
    this.latency = undefined;
  }

  // ---- recording -----------------------------------------------------------------------------

  /** Recorded requests whose path matches (see PathPattern), optionally of one method. */
  callsTo(pattern: PathPattern, method?: string): FakeGraphRequest[] {
    const m = matcher(pattern);
    return this.requests.filter((r) => {
      const search = Object.keys(r.query).length > 0 ? `?${new URLSearchParams(r.query).toString()}` : '';
      return m(r.path, search) && (method === undefined || r.method === method.toUpperCase());
    });
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = new Date();
    const body = await readBody(req);
    const origin = `https://${req.headers.host ?? `127.0.0.1:${this.port}`}`;
    const url = new URL(req.url ?? '/', origin);
    const method = (req.method ?? 'GET').toUpperCase();
    const record: FakeGraphRequest = {
      at,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      tenantId: null,
      clientId: null,
      error: null,
      fault: null,
    };
    this.requests.push(record);
    const clientRequestId = String(req.headers['client-request-id'] ?? randomUUID());
    const requestId = randomUUID();

    const latency = typeof this.latency === 'function' ? this.latency({ method, path: url.pathname }) : this.latency;
    if (latency && latency > 0) await new Promise((r) => setTimeout(r, latency));

    const sendGraph = (status: number, payload?: unknown, extra: Record<string, string> = {}) => {
      record.status = status;
      const headers: Record<string, string> = {
        'request-id': requestId,
        'client-request-id': clientRequestId,
        'x-ms-ags-diagnostic': JSON.stringify({
          ServerInfo: { DataCenter: 'Local', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'GRAPHFAKE' },
        }),
        'strict-transport-security': 'max-age=31536000',
        'cache-control': 'no-cache',
        ...extra,
      };
      if (payload === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        ...headers,
        'content-type': GRAPH_CONTENT_TYPE,
        'odata-version': '4.0',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const graphError = (status: number, code: string, message: string, extra: Record<string, string> = {}) => {
      record.error = code;
      sendGraph(status, graphErrorBody(code, message, requestId, clientRequestId), extra);
    };
    const sendEntra = (status: number, payload: unknown) => {
      record.status = status;
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store, no-cache',
        pragma: 'no-cache',
        'x-ms-request-id': requestId,
        'x-ms-ests-server': '2.1.fake',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const entraError = (e: EntraError) => {
      record.error = e.error;
      sendEntra(e.status, entraErrorBody(e, origin, clientRequestId));
    };

    // Injected throttling comes first, as it would from a gateway in front of the service.
    const throttled = this.takeThrottle(url.pathname, url.search);
    if (throttled) {
      record.fault = throttled.kind;
      const o = throttled.options;
      const status = o.status ?? 429;
      graphError(
        status,
        o.code ?? (status === 429 ? 'TooManyRequests' : 'serviceNotAvailable'),
        o.message ??
          (status === 429
            ? 'Too many requests. Please retry after the period given in Retry-After.'
            : 'The service is temporarily unavailable.'),
        { 'retry-after': String(o.retryAfterSeconds ?? 1) },
      );
      return;
    }

    const segments = url.pathname.split('/').filter((s) => s.length > 0);
    // ---- identity platform -------------------------------------------------------------------
    if (segments[0] !== 'v1.0' && segments.length >= 2) {
      let tenantName = segments[0]!;
      try {
        tenantName = decodeURIComponent(tenantName);
      } catch {
        // keep it as received; it will not name a tenant
      }
      const rest = segments.slice(1).join('/').toLowerCase();
      if (rest === 'v2.0/.well-known/openid-configuration' || rest === 'discovery/v2.0/keys') {
        const tenant = this.findTenant(tenantName);
        if (!tenant) return entraError(tenantNotFound(tenantName, 'invalid_tenant'));
        record.tenantId = tenant.tenantId;
        if (method !== 'GET')
          return entraError({
            status: 405,
            error: 'invalid_request',
            code: 900561,
            description: `The endpoint only accepts GET, OPTIONS requests. Received a ${method} request.`,
          });
        return sendEntra(200, rest.startsWith('discovery') ? { keys: [] } : openIdConfiguration(origin, tenant));
      }
      if (rest === 'oauth2/v2.0/token') {
        if (method !== 'POST') {
          return entraError({
            status: 400,
            error: 'invalid_request',
            code: 900561,
            description: `The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`,
          });
        }
        const tenant = this.findTenant(tenantName);
        if (!tenant) return entraError(tenantNotFound(tenantName, 'invalid_request'));
        record.tenantId = tenant.tenantId;
        const type = String(req.headers['content-type'] ?? '');
        const form = type.toLowerCase().startsWith('application/x-www-form-urlencoded')
          ? new URLSearchParams(body.toString('utf8'))
          : new URLSearchParams();
        const origins = [...new Set([origin, this.url, `https://localhost:${this.port}`])];
        const result = this.tokens.token(tenant, form, origins, req.headers.authorization);
        record.clientId = result.ok ? result.app.clientId : result.clientId;
        if (!result.ok) return entraError(result.error);
        return sendEntra(200, result.body);
      }
    }

    // ---- Graph ----------------------------------------------------------------------------------
    if (segments[0] !== 'v1.0') {
      if (segments[0] === 'beta') return graphError(400, 'BadRequest', 'The Microsoft Graph fake serves v1.0 only.');
      return graphError(404, 'UnknownError', `No route for ${method} ${url.pathname}.`);
    }
    const unauthorized = (message: string) =>
      graphError(401, 'InvalidAuthenticationToken', message, {
        'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
      });
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.*)$/i.exec(auth);
    if (!bearer) return unauthorized('Access token is empty.');
    const verified = this.tokens.verify(bearer[1]!.trim());
    if (!verified.ok) return unauthorized(verified.message);
    const claims = verified.claims;
    const tenant = this.tenants.get(claims.tid);
    record.tenantId = claims.tid;
    record.clientId = claims.appid;
    if (!tenant || !tenant.apps.has(claims.appid))
      return unauthorized('Access token validation failure. Invalid audience.');

    let decoded: string[];
    try {
      decoded = segments.slice(1).map((s) => decodeURIComponent(s));
    } catch {
      return graphError(400, 'BadRequest', `Invalid URL encoding in '${url.pathname}'.`);
    }
    let result: GraphResult;
    try {
      result = handleGraph({
        method,
        segments: decoded,
        pathname: url.pathname,
        params: url.searchParams,
        body,
        contentType: String(req.headers['content-type'] ?? ''),
        origin,
        tenant,
        claims,
      });
    } catch (err) {
      if (err instanceof DirectoryError) return graphError(err.status, err.code, err.message);
      throw err;
    }

    if (result.usersPage !== undefined && result.status === 200) {
      const fault = this.pageFaults.find((f) => f.page === result.usersPage && f.remaining > 0);
      if (fault) {
        fault.remaining--;
        record.fault = fault.kind;
        record.status = 200;
        const text = JSON.stringify(result.body);
        const headers = {
          'request-id': requestId,
          'client-request-id': clientRequestId,
          'content-type': GRAPH_CONTENT_TYPE,
          'odata-version': '4.0',
        };
        if (fault.kind === 'malformed') {
          const broken = `${text.slice(0, Math.floor(text.length / 2))}<html><body>upstream error</body></html>`;
          res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(broken) });
          res.end(broken);
        } else {
          res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(text) });
          res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
        }
        return;
      }
    }
    sendGraph(result.status, result.body);
  }

  private takeThrottle(path: string, search: string): { kind: 'throttle' | 'storm'; options: ThrottleOptions } | null {
    if (this.stormState && this.stormState.match(path, search)) return { kind: 'storm', options: this.stormState };
    const t = this.throttles.find((x) => x.remaining > 0 && x.match(path, search));
    if (!t) return null;
    t.remaining--;
    return { kind: 'throttle', options: t.options };
  }
}
