/**
 * The one fetch every Google call goes through (the generated clients, the bare Cloud REST
 * calls and the token request): it counts calls per route, retries `403 rateLimitExceeded`,
 * `429` and `5xx` with exponential backoff (Retry-After honoured), and sends the token
 * request to `google.rootUrls.token` when one is set (google-auth-library always posts to
 * Google's own token URL; DESIGN §6).
 */

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** `/admin/directory/v1/users/123/aliases` → `admin/directory/v1/users/{id}/aliases`: names no user. */
export function routeOf(url: URL): string {
  const literal =
    /^(v\d+|admin|directory|reports|activity|users|applications|login|aliases|groups|members|projects|serviceAccounts|keys|locations|global|activityTypes|serviceAccountLastAuthentication|serviceAccountKeyLastAuthentication|folders|token|undelete|activities|-)$/;
  return url.pathname
    .split('/')
    .filter(Boolean)
    .map((s) => {
      const [head, verb] = s.split(':');
      const name = literal.test(head ?? '') ? head : '{id}';
      return verb ? `${name}:${verb}` : name;
    })
    .join('/');
}

export class GoogleCallCounter {
  private readonly byRoute = new Map<string, number>();
  private retries = 0;

  count(method: string, url: URL): void {
    const key = `${method} ${routeOf(url)}`;
    this.byRoute.set(key, (this.byRoute.get(key) ?? 0) + 1);
  }

  retried(): void {
    this.retries += 1;
  }

  get total(): number {
    let n = 0;
    for (const v of this.byRoute.values()) n += v;
    return n;
  }

  get retryCount(): number {
    return this.retries;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.byRoute].sort(([a], [b]) => a.localeCompare(b)));
  }

  describe(): string | null {
    if (this.total === 0) return null;
    const parts = [...this.byRoute].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ×${v}`);
    return `google calls: ${this.total} (${parts.join(', ')})${this.retries > 0 ? `; ${this.retries} retried` : ''}`;
  }
}

export interface GoogleFetchOptions {
  /** The network (globalThis.fetch) or the in-memory APIs (demo). */
  base: FetchLike;
  counter: GoogleCallCounter;
  /** google.rootUrls.token, or null for Google's own. */
  tokenUrl: string | null;
  maxAttempts: number;
  /** The first backoff delay; doubled per attempt (with jitter), at most 32 s. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'backendError']);

/** Is this answer Google's "slow down"? 403 counts only with a rate-limit reason (others are real refusals). */
async function isRetryable(res: Response): Promise<boolean> {
  if (res.status === 429 || res.status === 500 || res.status === 502 || res.status === 503 || res.status === 504) {
    return true;
  }
  if (res.status !== 403) return false;
  try {
    const body = (await res.clone().json()) as { error?: { errors?: { reason?: string }[]; status?: string } };
    const reasons = (body.error?.errors ?? []).map((e) => e.reason ?? '');
    return reasons.some((r) => RATE_REASONS.has(r)) || body.error?.status === 'RESOURCE_EXHAUSTED';
  } catch {
    return false;
  }
}

function retryAfterMs(res: Response): number | null {
  const h = res.headers.get('retry-after');
  if (!h) return null;
  const s = Number(h);
  if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, 60_000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? null : Math.max(0, Math.min(at - Date.now(), 60_000));
}

/** Buffer a body so a retry can send it again (streams are read once). */
async function replayable(input: string | URL | Request, init?: RequestInit): Promise<{ url: URL; init: RequestInit }> {
  if (input instanceof Request) {
    const body = input.method === 'GET' || input.method === 'HEAD' ? undefined : await input.arrayBuffer();
    return {
      url: new URL(input.url),
      init: { method: input.method, headers: input.headers, ...(body ? { body } : {}), ...init },
    };
  }
  return { url: new URL(String(input)), init: { ...init } };
}

export function createGoogleFetch(options: GoogleFetchOptions): FetchLike {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const base = options.backoffMs ?? 1000;
  return async (input, init) => {
    const req = await replayable(input, init);
    let url = req.url;
    if (options.tokenUrl && url.href.startsWith(GOOGLE_TOKEN_URL)) url = new URL(options.tokenUrl);
    const method = (req.init.method ?? 'GET').toUpperCase();
    for (let attempt = 1; ; attempt += 1) {
      options.counter.count(method, url);
      const res = await options.base(url, req.init);
      if (attempt >= options.maxAttempts || !(await isRetryable(res))) return res;
      options.counter.retried();
      const wait = retryAfterMs(res) ?? Math.min(base * 2 ** (attempt - 1), 32_000) * (0.5 + Math.random() / 2);
      await res.body?.cancel().catch(() => {});
      await sleep(wait);
    }
  };
}
