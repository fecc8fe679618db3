/**
 * The in-memory Google APIs: the demo's tenant, and (behind a loopback HTTP server) the tests'
 * fake. It does what Google's front door does before any API runs (DESIGN §6): the token
 * endpoint verifies the JWT assertion's RS256 signature with the service account's public
 * key, its audience, lifetime and scopes, and for `sub` that domain-wide delegation grants
 * every scope asked for; every call must carry a live bearer token with one of the route's
 * scopes; Workspace routes need `sub` to be an admin. Faults (throttling, 5xx) are injected
 * per route name, and every call is logged.
 */
import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { googleError, type FakePrincipal, type FakeResponse, type FakeRoute } from './fake-types.js';

export const TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token';

export interface FaultSpec {
  status: number;
  reason?: string;
  message?: string;
  /** How many matching calls fail (default 1). */
  times?: number;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
}

export interface GoogleMemoryOptions {
  /** The clock the APIs run on (creation times, undelete windows); tokens use real time. */
  clock?: () => Date;
  routes: FakeRoute[];
  /** Is this Workspace user an admin whose role lets it call the Admin SDK? */
  isAdmin: (email: string) => boolean;
  /** Does this Workspace user exist (a `sub` that does not is `invalid_grant`)? */
  userExists?: (email: string) => boolean;
}

export interface LoggedCall {
  method: string;
  name: string;
  path: string;
  status: number;
}

interface Account {
  publicKey: KeyObject;
  clientId: string;
}

function tokenError(status: number, error: string, description: string): FakeResponse {
  return { status, body: { error, error_description: description } };
}

function b64json(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class GoogleMemory {
  readonly calls: LoggedCall[] = [];
  tokenRequests = 0;
  private readonly accounts = new Map<string, Account>();
  private readonly delegation = new Map<string, Set<string>>();
  private readonly tokens = new Map<string, FakePrincipal & { expires: number }>();
  private readonly faults: { match: string | RegExp; spec: FaultSpec; left: number }[] = [];
  private readonly clock: () => Date;

  constructor(private readonly options: GoogleMemoryOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** Trust a service account's key (its public half) for JWT assertions. */
  registerServiceAccount(email: string, publicKeyPem: string, clientId: string): void {
    this.accounts.set(email, { publicKey: createPublicKey(publicKeyPem), clientId });
  }

  /** Grant domain-wide delegation to a client id for these scopes (the Admin console's list). */
  delegate(clientId: string, scopes: readonly string[]): void {
    this.delegation.set(clientId, new Set(scopes));
  }

  /** Fail the next matching calls (route name or a pattern on it). */
  fault(match: string | RegExp, spec: FaultSpec): void {
    this.faults.push({ match, spec, left: spec.times ?? 1 });
  }

  /** Calls per route name (tokens excluded). */
  count(name?: string | RegExp): number {
    if (name === undefined) return this.calls.length;
    return this.calls.filter((c) => (typeof name === 'string' ? c.name === name : name.test(c.name))).length;
  }

  /** A Fetch-API entry point: the demo passes it as the transport's fetch. */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const res = await this.handle(request);
    const headers = new Headers({ 'content-type': 'application/json; charset=UTF-8', ...(res.headers ?? {}) });
    return new Response(res.status === 204 || res.body === undefined ? null : JSON.stringify(res.body), {
      status: res.status,
      headers,
    });
  };

  private async handle(request: Request): Promise<FakeResponse> {
    const url = new URL(request.url);
    if (url.pathname === '/token') {
      this.tokenRequests += 1;
      return this.token(await request.text());
    }
    const route = this.options.routes.find((r) => r.method === request.method && r.pattern.test(url.pathname));
    if (!route) {
      return googleError(404, `The requested URL ${url.pathname} was not found on this server.`, 'notFound');
    }
    const match = route.pattern.exec(url.pathname)!;
    const log = (status: number) =>
      this.calls.push({ method: request.method, name: route.name, path: url.pathname, status });
    const auth = request.headers.get('authorization');
    const principal = auth?.startsWith('Bearer ') ? this.tokens.get(auth.slice(7)) : undefined;
    if (!principal || principal.expires < Date.now()) {
      log(401);
      return googleError(
        401,
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'authError',
        'UNAUTHENTICATED',
      );
    }
    if (!route.scopes.some((s) => principal.scopes.includes(s))) {
      log(403);
      return googleError(
        403,
        'Request had insufficient authentication scopes.',
        'insufficientPermissions',
        'PERMISSION_DENIED',
      );
    }
    if (route.delegated && (!principal.subject || !this.options.isAdmin(principal.subject))) {
      log(403);
      return googleError(403, 'Not Authorized to access this resource/api', 'forbidden');
    }
    const fault = this.faults.find(
      (f) => f.left > 0 && (typeof f.match === 'string' ? f.match === route.name : f.match.test(route.name)),
    );
    if (fault) {
      fault.left -= 1;
      log(fault.spec.status);
      const reason = fault.spec.reason ?? (fault.spec.status === 429 ? 'rateLimitExceeded' : 'backendError');
      const res = googleError(
        fault.spec.status,
        fault.spec.message ?? (reason === 'rateLimitExceeded' ? 'Quota exceeded for quota metric.' : 'Backend Error'),
        reason,
      );
      return fault.spec.retryAfter !== undefined
        ? { ...res, headers: { 'retry-after': String(fault.spec.retryAfter) } }
        : res;
    }
    const text = request.method === 'GET' || request.method === 'DELETE' ? '' : await request.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        log(400);
        return googleError(400, 'Invalid JSON payload received.', 'parseError', 'INVALID_ARGUMENT');
      }
    }
    const res = await route.handle(
      { method: request.method, url, headers: request.headers, body, principal, now: this.clock() },
      match,
    );
    log(res.status);
    return res;
  }

  /** POST /token: the JWT-bearer grant, checked as Google checks it. */
  private token(form: string): FakeResponse {
    const params = new URLSearchParams(form);
    if (params.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return tokenError(400, 'unsupported_grant_type', 'Invalid grant_type: ' + (params.get('grant_type') ?? ''));
    }
    const assertion = params.get('assertion') ?? '';
    const [h, p, s] = assertion.split('.');
    const header = h ? b64json(h) : null;
    const claims = p ? b64json(p) : null;
    if (!header || !claims || !s) return tokenError(400, 'invalid_request', 'Invalid JWT: not a signed JWT.');
    if (header.alg !== 'RS256') return tokenError(400, 'invalid_grant', 'Invalid JWT Signature.');
    const iss = typeof claims.iss === 'string' ? claims.iss : '';
    const account = this.accounts.get(iss);
    if (!account) return tokenError(400, 'invalid_grant', 'Invalid grant: account not found');
    const valid = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), account.publicKey, Buffer.from(s, 'base64url'));
    if (!valid) return tokenError(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== TOKEN_AUDIENCE)
      return tokenError(400, 'invalid_grant', 'Invalid JWT: audience is not the token URL.');
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= now || iat > now + 300 || exp - iat > 3600) {
      return tokenError(
        400,
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (scopes.length === 0)
      return tokenError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const subject = typeof claims.sub === 'string' && claims.sub !== iss ? claims.sub : null;
    if (subject) {
      const granted = this.delegation.get(account.clientId);
      if (!granted || !scopes.every((sc) => granted.has(sc))) {
        return tokenError(
          401,
          'unauthorized_client',
          'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
        );
      }
      if (this.options.userExists && !this.options.userExists(subject)) {
        return tokenError(400, 'invalid_grant', 'Invalid email or User ID');
      }
    }
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { serviceAccount: iss, subject, scopes, expires: Date.now() + 3599_000 });
    return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }
}
