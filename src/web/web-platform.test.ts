// The dashboard platform's small parts on their own: who may do what, the one-time link, the
// sign-in limiter, the return path after sign-in, sessions (expiry, revocation, Secure
// `__Host-` cookies and HSTS over https) and the origin check of POSTs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { roleOf, relevantGroups, webUser } from './access.js';
import { OneTimeLink } from './one-time-link.js';
import { RateLimiter } from './rate-limit.js';
import { safeNext } from './session.js';
import { createWebApp } from './web-app.js';

describe('access lists', () => {
  const lists = { approvers: ['Alice@Example.com', 'secops'], viewers: ['auditors', 'alice@example.com'] };
  it('matches emails without case, groups exactly, and approver before viewer', () => {
    expect(roleOf('alice@example.COM', [], lists)).toBe('approver');
    expect(roleOf('zed@example.com', ['secops'], lists)).toBe('approver');
    expect(roleOf('zed@example.com', ['SecOps'], lists)).toBeNull();
    expect(roleOf('zed@example.com', ['auditors'], lists)).toBe('viewer');
    expect(roleOf('zed@example.com', ['everyone'], lists)).toBeNull();
    // Groups may be named by an email (Google groups): an entry matches those too.
    expect(roleOf('zed@example.com', ['alice@example.com'], { approvers: ['alice@example.com'], viewers: [] })).toBe(
      'approver',
    );
  });
  it('keeps only the groups the lists name, and records decisions as web:EMAIL', () => {
    expect(relevantGroups(['everyone', 'secops', 'secops', 'auditors'], lists)).toEqual(['secops', 'auditors']);
    expect(webUser('a@b.c', [], 'viewer', 't')).toEqual({
      email: 'a@b.c',
      groups: [],
      canDecide: false,
      actor: 'web:a@b.c',
      csrf: 't',
    });
  });
});

describe('the one-time link', () => {
  it('works once, then says used; anything else is invalid', () => {
    const link = new OneTimeLink();
    expect(link.token).toMatch(/^[\w-]{43}$/);
    expect(link.url('http://127.0.0.1:1234')).toBe(`http://127.0.0.1:1234/auth/link?token=${link.token}`);
    expect(link.use(undefined)).toBe('invalid');
    expect(link.use('')).toBe('invalid');
    expect(link.use(`${link.token}x`)).toBe('invalid');
    expect(link.use(link.token)).toBe('ok');
    expect(link.use(link.token)).toBe('used');
    expect(new OneTimeLink().token).not.toBe(link.token);
  });
});

describe('the sign-in limiter', () => {
  it('allows `attempts` per window per key, says when to retry, and forgets old attempts', () => {
    let now = 0;
    const limiter = new RateLimiter({ attempts: 2, windowMs: 10_000, clock: () => now });
    expect(limiter.take('a')).toEqual({ ok: true });
    now = 4000;
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 6 });
    expect(limiter.take('b')).toEqual({ ok: true });
    now = 10_001;
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 4 });
  });
  it('tracks a bounded number of addresses', () => {
    const limiter = new RateLimiter({ attempts: 1, maxKeys: 2, clock: () => 0 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c'); // 'a' is forgotten
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('c').ok).toBe(false);
  });
});

describe('the return path after sign-in', () => {
  it('is a path of the dashboard, never another site', () => {
    expect(safeNext('/plans/pl-1?status=pending')).toBe('/plans/pl-1?status=pending');
    for (const bad of [
      undefined,
      '',
      'plans',
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example/phish',
      '/\n/evil.example',
      '/\r\n//evil.example',
      '/plans\\..\\..\\evil',
      'https://evil.example/',
      '/auth/login',
    ]) {
      expect(safeNext(bad), String(bad)).toBe('/');
    }
    expect(safeNext(`/${'x'.repeat(3000)}`)).toBe('/');
  });
});

describe('sessions over https', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open(':memory:');
  });
  afterAll(() => store.close());

  function app(o: { clock?: () => number } = {}) {
    const link = new OneTimeLink();
    const web = createWebApp({
      deps: { store, now: () => new Date() },
      auth: { kind: 'link', link, name: 'olga' },
      sessionSecret: 'k'.repeat(40),
      baseUrl: 'https://dormant.example.com',
      sessionTtlMs: 60_000,
      ...o,
    });
    return { web, link };
  }

  async function signedIn(o: { clock?: () => number } = {}) {
    const { web, link } = app(o);
    const res = await web.request(`https://dormant.example.com/auth/link?token=${link.token}`);
    expect(res.status).toBe(302);
    const setCookie = res.headers.get('set-cookie')!;
    return { web, res, setCookie, cookie: setCookie.split(';')[0]! };
  }

  it('uses a Secure __Host- cookie and HSTS', async () => {
    const { res, setCookie, web, cookie } = await signedIn();
    expect(setCookie).toMatch(/^__Host-dormant_session=/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/Max-Age=60/);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const page = await web.request('https://dormant.example.com/', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('olga');
    // The same value under the plain name is not the session.
    const plain = await web.request('https://dormant.example.com/', {
      headers: { cookie: cookie.replace('__Host-', '') },
    });
    expect(plain.status).toBe(401);
  });

  it('expires after its lifetime and refuses a POST then', async () => {
    let now = 1_000_000;
    const { web, cookie } = await signedIn({ clock: () => now });
    expect((await web.request('https://dormant.example.com/', { headers: { cookie } })).status).toBe(200);
    now += 60_001;
    const page = await web.request('https://dormant.example.com/', { headers: { cookie } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('Your session has expired');
    expect(page.headers.get('set-cookie')).toMatch(/^__Host-dormant_session=; Max-Age=0/);
    const post = await web.request('https://dormant.example.com/plans/pl-1/decide', {
      method: 'POST',
      headers: { cookie },
    });
    expect(post.status).toBe(403);
    expect(await post.text()).toContain('Your session has expired, so nothing was changed');
  });

  it('checks POSTs against the public origin, not the address the request reached', async () => {
    const { web, cookie } = await signedIn();
    const html = await (await web.request('https://dormant.example.com/', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = (origin: string) =>
      web.request('http://10.0.0.5:8080/auth/logout', {
        method: 'POST',
        headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${csrf}`,
      });
    expect((await post('http://10.0.0.5:8080')).status).toBe(403);
    expect((await post('https://dormant.example.com')).status).toBe(303);
  });

  it('refuses a short session secret', () => {
    expect(() =>
      createWebApp({
        deps: { store, now: () => new Date() },
        auth: { kind: 'link', link: new OneTimeLink(), name: 'x' },
        sessionSecret: 'short',
        baseUrl: null,
      }),
    ).toThrow('the session secret must be at least 32 characters');
  });
});
