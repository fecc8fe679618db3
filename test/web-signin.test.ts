// Signing in to the dashboard through a real OIDC provider (oidc-provider), over HTTP:
// authorization code with PKCE, state and nonce; who is let in (approvers and viewers by email
// or group, verified emails only); forged and stale callbacks; the provider down; the sign-in
// rate limit; sign-out; and nothing secret in the logs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { listenLocal } from './support/http.js';
import { WebClient, csrfOf, signIn } from './support/webClient.js';
import { type WebWorld, type WebWorldOptions, startWebWorld } from './support/webWorld.js';
import http from 'node:http';

const dir = mkdtempSync(join(tmpdir(), 'dormant-web-signin-'));
let seq = 0;
const worlds: WebWorld[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function world(o: Partial<WebWorldOptions> = {}): Promise<WebWorld> {
  const w = await startWebWorld({ storeUrl: join(dir, `state-${++seq}.db`), ...o });
  worlds.push(w);
  return w;
}

/** A port nothing listens on any more. */
async function closedPort(): Promise<string> {
  const s = await listenLocal(http.createServer());
  await s.stop();
  return s.url;
}

function expectNoSecrets(w: WebWorld, ...more: string[]): void {
  for (const line of w.logs) {
    for (const secret of [...w.secrets, ...more]) expect(line).not.toContain(secret);
    expect(line).not.toMatch(/code=|access_token|id_token|dormant_session=/);
  }
}

describe('OIDC sign-in', () => {
  it('signs an approver in with the authorization code flow, PKCE (S256), state and nonce', async () => {
    const w = await world();
    const client = new WebClient();
    const start = await client.request(`${w.url}/auth/login?next=${encodeURIComponent('/plans?status=pending')}`);
    expect(start.status).toBe(302);
    const auth = new URL(start.headers.get('location')!);
    expect(auth.origin).toBe(w.oidc.issuer);
    expect(auth.searchParams.get('response_type')).toBe('code');
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(auth.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(auth.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(auth.searchParams.get('redirect_uri')).toBe(`${w.url}/auth/callback`);
    expect(auth.searchParams.get('scope')).toBe('openid email profile');
    // The verifier never leaves the server in the clear: the pending cookie is signed, HttpOnly.
    expect(client.cookies.get('dormant_signin')!.attributes).toMatch(/HttpOnly/);

    const fresh = new WebClient();
    const { callback, callbackUrl } = await signIn(fresh, w.url, 'alice', '/plans?status=pending');
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/plans?status=pending');
    expect(fresh.cookies.has('dormant_signin')).toBe(false);
    expect(fresh.cookies.has('dormant_session')).toBe(true);
    const page = await fresh.request(`${w.url}/plans?status=pending`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('alice@example.com');
    // The token endpoint and userinfo were used (email and groups come from userinfo).
    expect(w.oidc.requests).toEqual(expect.arrayContaining(['/token', '/me']));
    expect(w.logs).toContain('info web: alice@example.com signed in (approver)');
    const code = new URL(callbackUrl).searchParams.get('code')!;
    expect(html).not.toContain(code);
    expectNoSecrets(w, code);

    // The code was used once: replaying the callback signs nobody in.
    const replay = new WebClient();
    const again = await replay.request(callbackUrl);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('Sign-in expired');
    expect(replay.cookies.has('dormant_session')).toBe(false);
  });

  it('lets in approvers and viewers by email or group, and refuses everyone else with a page', async () => {
    const w = await world();
    const viewer = new WebClient();
    expect((await signIn(viewer, w.url, 'victor')).callback.status).toBe(302);
    expect(w.logs).toContain('info web: victor@example.com signed in (viewer)');
    const byGroup = new WebClient();
    expect((await signIn(byGroup, w.url, 'gail')).callback.status).toBe(302);
    expect(w.logs).toContain('info web: gail@example.com signed in (approver)');
    // Only the groups the lists name are kept in the session cookie.
    const payload = byGroup.cookies.get('dormant_session')!.value.split('.')[0]!;
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString()).groups).toEqual(['secops']);

    const outsider = new WebClient();
    const { callback } = await signIn(outsider, w.url, 'oscar');
    expect(callback.status).toBe(403);
    const text = await callback.text();
    expect(text).toContain('Not allowed');
    expect(text).toContain('oscar@example.com');
    expect(text).toContain('web.approvers or web.viewers');
    expect(outsider.cookies.has('dormant_session')).toBe(false);
    expect((await outsider.request(`${w.url}/`)).status).toBe(302);
  });

  it('refuses an account whose email the provider has not verified', async () => {
    const w = await world();
    const client = new WebClient();
    const { callback } = await signIn(client, w.url, 'unverified');
    expect(callback.status).toBe(400);
    expect(await callback.text()).toContain('the provider says the email bob@example.com is not verified');
    expect(client.cookies.has('dormant_session')).toBe(false);
    // A provider that does not say at all is refused too: approvers are matched by email.
    const other = new WebClient();
    const silent = await signIn(other, w.url, 'unvouched');
    expect(silent.callback.status).toBe(400);
    expect(await silent.callback.text()).toContain(
      'the provider does not say that the email bob@example.com is verified (no email_verified claim); configure it to send email_verified',
    );
    expect(other.cookies.has('dormant_session')).toBe(false);
  });

  it('refuses a forged callback (wrong state, an error from the provider) and one without a sign-in started', async () => {
    const w = await world();
    const client = new WebClient();
    expect((await client.request(`${w.url}/auth/login`)).status).toBe(302);
    const forged = await client.request(
      `${w.url}/auth/callback?code=abc&state=not-the-state&iss=${encodeURIComponent(w.oidc.issuer)}`,
    );
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('Sign-in failed');
    expect(client.cookies.has('dormant_session')).toBe(false);

    const restart = await client.request(`${w.url}/auth/login`);
    const state = new URL(restart.headers.get('location')!).searchParams.get('state')!;
    const iss = encodeURIComponent(w.oidc.issuer);
    const denied = await client.request(`${w.url}/auth/callback?error=access_denied&state=${state}&iss=${iss}`);
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('Sign-in failed: the sign-in could not be completed (access_denied)');

    const none = await new WebClient().request(`${w.url}/auth/callback?code=abc&state=x`);
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('Sign-in expired');
  });

  it('returns only to a page of the dashboard after sign-in', async () => {
    const w = await world();
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/auth/logout']) {
      const { callback } = await signIn(new WebClient(), w.url, 'alice', next);
      expect(callback.headers.get('location'), next).toBe('/');
    }
  });

  it('shows a clear page when the provider is down, and signs in again once it is back', async () => {
    const down = await world({ issuer: await closedPort() });
    const page = await new WebClient().request(`${down.url}/auth/login`);
    expect(page.status).toBe(503);
    const html = await page.text();
    expect(html).toContain('Sign-in unavailable');
    expect(html).toContain('cannot be reached');
    expect(html).not.toMatch(/\n\s+at |TypeError|ECONNREFUSED/);
    expect(down.logs.some((l) => /^error web: sign-in unavailable: cannot reach the sign-in provider/.test(l))).toBe(
      true,
    );

    // Up for the start of the sign-in, failing (503) when the code is exchanged.
    const w = await world();
    const client = new WebClient();
    const start = await client.request(`${w.url}/auth/login`);
    const form = await client.follow(start.headers.get('location')!);
    const action = /action="([^"]+)"/.exec(await form.response.text())![1]!;
    const posted = await client.post(new URL(action.replace(/&amp;/g, '&'), form.url).href, {
      prompt: 'login',
      login: 'alice',
      password: 'x',
    });
    const back = await client.follow(new URL(posted.headers.get('location')!, form.url).href, {
      stop: (u) => u.startsWith(`${w.url}/auth/callback`),
    });
    w.oidc.down(true);
    const callback = await client.request(back.url);
    expect(callback.status).toBe(503);
    expect(await callback.text()).toContain('Sign-in unavailable');
    expect(client.cookies.has('dormant_session')).toBe(false);
    w.oidc.down(false);
    expect((await signIn(new WebClient(), w.url, 'alice')).callback.status).toBe(302);
    expectNoSecrets(w);
  });

  it('limits finishing sign-ins per client address; starting one is never limited', async () => {
    const w = await world({ overrides: { signInLimit: { attempts: 3, windowMs: 60_000 } } });
    const client = new WebClient();
    // Starting a sign-in holds no secret: a flood of them (or an office of expired tabs) locks nobody out.
    for (let i = 0; i < 6; i++) expect((await client.request(`${w.url}/auth/login`)).status).toBe(302);
    // Callbacks count: a flood of guessed codes is refused before the provider is asked.
    for (let i = 0; i < 3; i++) {
      expect((await client.request(`${w.url}/auth/callback?code=guess&state=x`)).status).not.toBe(429);
    }
    const tokenCalls = w.oidc.requests.filter((p) => p === '/token').length;
    const limited = await client.request(`${w.url}/auth/callback?code=guess&state=x`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.text()).toContain('Too many sign-in attempts');
    expect(w.oidc.requests.filter((p) => p === '/token').length).toBe(tokenCalls);
    expect(w.logs).toContain('warn web: too many sign-in attempts from 127.0.0.1');
    expect((await client.request(`${w.url}/auth/login`)).status).toBe(302);
  });

  it('signs out only with the CSRF token, and the old cookie is refused after', async () => {
    const w = await world();
    const client = new WebClient();
    await signIn(client, w.url, 'alice');
    const csrf = csrfOf(await (await client.request(`${w.url}/`)).text());
    const old = client.cookies.get('dormant_session')!.value;
    const forged = await client.post(`${w.url}/auth/logout`, {});
    expect(forged.status).toBe(403);
    expect((await client.request(`${w.url}/`)).status).toBe(200);
    const out = await client.post(`${w.url}/auth/logout`, { _csrf: csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/auth/signed-out');
    expect(client.cookies.has('dormant_session')).toBe(false);
    const signedOut = await client.request(`${w.url}/auth/signed-out`);
    expect(await signedOut.text()).toContain('Sign in again');
    // Replaying the cookie of the ended session: not signed in.
    const replay = new WebClient();
    replay.cookies.set('dormant_session', { value: old, attributes: '' });
    expect((await replay.request(`${w.url}/`)).status).toBe(302);
  });

  it('treats a cookie changed by the browser as no session', async () => {
    const w = await world();
    const client = new WebClient();
    await signIn(client, w.url, 'victor');
    const [payload, signature] = client.cookies.get('dormant_session')!.value.split('.');
    const session = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...session, email: 'alice@example.com' })).toString('base64url');
    client.cookies.set('dormant_session', { value: `${forged}.${signature}`, attributes: '' });
    const page = await client.request(`${w.url}/`);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/auth/login?next=%2F');
  });
});
