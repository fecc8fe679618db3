// The dashboard tests' HTTP side: a local server whose app is set once its port is known (the
// OIDC redirect URL and web.baseUrl need it), a cookie-keeping client that follows redirects
// by hand (so each hop can be checked), and a sign-in through the test OIDC provider's
// login form, as a browser would do it.
import type http from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { listenLocal } from './http.js';

export interface Fetcher {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

export interface DashboardServer {
  url: string;
  /** The app answering from now on. */
  use(app: Fetcher): void;
  stop(): Promise<void>;
}

export async function startDashboardServer(): Promise<DashboardServer> {
  let app: Fetcher = { fetch: () => new Response('not ready', { status: 503 }) };
  const server = createAdaptorServer({ fetch: (req, env) => app.fetch(req, env) }) as http.Server;
  const local = await listenLocal(server);
  return { url: local.url, use: (a) => (app = a), stop: () => local.stop() };
}

export interface Cookie {
  value: string;
  attributes: string;
}

/** Cookies are per host (not per port), as in a browser: the dashboard's and the provider's share one jar. */
export class WebClient {
  readonly cookies = new Map<string, Cookie>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, c]) => `${k}=${c.value}`).join('; '));
    }
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const attributes = attrs.join(';');
      if (value === '' || /max-age=0\b/i.test(attributes) || /expires=Thu, 01 Jan 1970/i.test(attributes)) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, { value, attributes });
      }
    }
    return response;
  }

  /** Follows redirects (GET) until `stop` says so or a non-redirect answers; returns the last answer and its URL. */
  async follow(
    url: string,
    o: { init?: RequestInit; stop?: (next: string) => boolean; max?: number } = {},
  ): Promise<{ response: Response; url: string }> {
    let current = url;
    let response = await this.request(current, o.init);
    for (let hop = 0; hop < (o.max ?? 10); hop++) {
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) break;
      const next = new URL(location, current).href;
      if (o.stop?.(next)) return { response, url: next };
      await response.arrayBuffer();
      current = next;
      response = await this.request(current);
    }
    return { response, url: current };
  }

  post(url: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    const origin = new URL(url).origin;
    return this.request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers },
    });
  }
}

/** The CSRF token a page's forms carry. */
export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF token on the page: ${html.slice(0, 300)}`);
  return m[1]!;
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#x2F;/g, '/')
    .replace(/&#39;/g, "'");
}

/**
 * Signs in at the dashboard through the provider's login form as `login` (its account id).
 * Returns the dashboard's answer to the callback (a redirect into the dashboard when it worked).
 */
export async function signIn(
  client: WebClient,
  dashboard: string,
  login: string,
  next = '/',
): Promise<{ callback: Response; callbackUrl: string }> {
  const start = await client.request(`${dashboard}/auth/login?next=${encodeURIComponent(next)}`);
  if (start.status !== 302) throw new Error(`sign-in did not start: HTTP ${start.status}: ${await start.text()}`);
  const toCallback = (u: string) => u.startsWith(`${dashboard}/auth/callback`);
  const form = await client.follow(start.headers.get('location')!, { stop: toCallback });
  let callbackUrl = form.url;
  if (!toCallback(callbackUrl)) {
    // The provider shows its login form (no session there yet).
    const html = await form.response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no login form at ${form.url}: HTTP ${form.response.status}: ${html.slice(0, 300)}`);
    const submit = new URL(unescapeHtml(action), form.url).href;
    const posted = await client.post(submit, { prompt: 'login', login, password: 'any' });
    const location = posted.headers.get('location');
    if (!location) throw new Error(`the login form answered HTTP ${posted.status}: ${await posted.text()}`);
    const done = await client.follow(new URL(location, submit).href, { stop: toCallback });
    if (!toCallback(done.url)) {
      throw new Error(`the provider did not return to the dashboard: ${done.url} HTTP ${done.response.status}`);
    }
    callbackUrl = done.url;
  }
  return { callback: await client.request(callbackUrl), callbackUrl };
}
