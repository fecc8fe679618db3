// The dashboard's refusals over HTTP (issue 10 "Bad input and faults"), on `dormant serve`'s
// app with the dashboard built from its config, signed in through a real OIDC provider: an
// expired session, a missing or wrong CSRF token, a viewer's approval, a stale decision, an
// unknown plan or item, a store that vanishes. Each refusal is checked in the store too:
// nothing changed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decide } from '../src/engine/decide.js';
import { getItem } from '../src/store/plans.js';
import { freshPgDatabase } from './support/pg.js';
import { WebClient, csrfOf, signIn } from './support/webClient.js';
import { type WebWorld, type WebWorldOptions, startWebWorld } from './support/webWorld.js';

const dir = mkdtempSync(join(tmpdir(), 'dormant-web-http-'));
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

/** Signed in as `login`, with the plan page loaded: its CSRF token. */
async function signedIn(w: WebWorld, login: string): Promise<{ client: WebClient; csrf: string; html: string }> {
  const client = new WebClient();
  const { callback } = await signIn(client, w.url, login, `/plans/${w.planId}`);
  expect(callback.status).toBe(302);
  const page = await client.request(`${w.url}/plans/${w.planId}`);
  expect(page.status).toBe(200);
  const html = await page.text();
  return { client, csrf: csrfOf(html), html };
}

const statusOf = async (w: WebWorld, id: string) => (await getItem(w.store.db, id))!.status;
const decideUrl = (w: WebWorld) => `${w.url}/plans/${w.planId}/decide`;

describe('the dashboard behind sign-in', () => {
  it('sends a visitor without a session to sign in, and leaves health checks and Slack outside', async () => {
    const w = await world();
    const client = new WebClient();
    const page = await client.request(`${w.url}/plans?page=1`);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe(`/auth/login?next=${encodeURIComponent('/plans?page=1')}`);
    expect((await client.request(`${w.url}/healthz`)).status).toBe(200);
    const ready = await client.request(`${w.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    // Slack is not enabled: its route answers itself (404 JSON), not the dashboard's sign-in.
    const slack = await client.request(`${w.url}/slack/events`, { method: 'POST', body: 'x' });
    expect(slack.status).toBe(404);
    expect(await slack.json()).toEqual({ error: 'Slack over HTTP is not enabled' });
    // Static assets load before sign-in (the sign-in and error pages use them).
    const css = await client.request(`${w.url}/assets/app.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
  });

  it('sets a strict Content-Security-Policy, no framing, no referrer to other sites, and no caching of pages', async () => {
    const w = await world();
    const { client } = await signedIn(w, 'alice');
    const page = await client.request(`${w.url}/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    // No inline script or style anywhere: every script is a file, no style attributes.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
    const cookie = client.cookies.get('dormant_session')!;
    expect(cookie.attributes).toMatch(/HttpOnly/);
    expect(cookie.attributes).toMatch(/SameSite=Lax/);
    for (const secret of w.secrets) expect(html).not.toContain(secret);
  });

  it('refuses a POST without a CSRF token, with a wrong one, or from another origin: 403 and nothing changes', async () => {
    const w = await world();
    const { client, csrf } = await signedIn(w, 'alice');
    const item = w.items[0]!;
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['no token', { item: item.id, decision: 'approve' }, {}],
      ['a wrong token', { item: item.id, decision: 'approve', _csrf: `${csrf.slice(0, -2)}xx` }, {}],
      ['an empty token', { item: item.id, decision: 'approve', _csrf: '' }, {}],
      ['a wrong header', { item: item.id, decision: 'approve' }, { 'x-csrf-token': 'nope' }],
      ['another origin', { item: item.id, decision: 'approve', _csrf: csrf }, { origin: 'https://evil.example' }],
      ['another site', { item: item.id, decision: 'approve', _csrf: csrf }, { 'sec-fetch-site': 'cross-site' }],
      ['an opaque origin', { item: item.id, decision: 'approve', _csrf: csrf }, { origin: 'null' }],
    ];
    for (const [what, form, headers] of attempts) {
      const res = await client.post(decideUrl(w), form, headers);
      expect(res.status, what).toBe(403);
      expect(await res.text(), what).toContain('nothing was changed');
      expect(await statusOf(w, item.id), what).toBe('pending');
    }
    const audit = await w.store.db
      .selectFrom('audit_events')
      .select('kind')
      .where('kind', '=', 'item.approved')
      .execute();
    expect(audit).toHaveLength(0);
    expect(w.logs.filter((l) => l.includes('refused POST')).length).toBe(attempts.length);

    // The same form with the page's token (field or header) is accepted, and recorded as web:EMAIL.
    const ok = await client.post(decideUrl(w), { item: item.id, decision: 'approve', _csrf: csrf });
    expect(ok.status).toBe(200);
    expect(await statusOf(w, item.id)).toBe('approved');
    const byHeader = await client.post(
      decideUrl(w),
      { item: w.items[1]!.id, decision: 'deny', reason: 'still needed' },
      { 'x-csrf-token': csrf },
    );
    expect(byHeader.status).toBe(200);
    const rows = await w.store.db
      .selectFrom('approvals')
      .select(['item_id', 'decided_by', 'channel', 'decision', 'reason'])
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      expect.objectContaining({
        item_id: item.id,
        decided_by: 'web:alice@example.com',
        channel: 'web',
        decision: 'approve',
      }),
      expect.objectContaining({ item_id: w.items[1]!.id, decided_by: 'web:alice@example.com', reason: 'still needed' }),
    ]);
  });

  it('refuses an expired session: a page asks to sign in again, a POST is refused and changes nothing', async () => {
    let now = Date.now();
    const w = await world({ overrides: { clock: () => now } });
    const { client, csrf } = await signedIn(w, 'alice');
    now += 8 * 3_600_000 + 1000;
    const item = w.items[0]!;
    const post = await client.post(decideUrl(w), { item: item.id, decision: 'approve', _csrf: csrf });
    expect(post.status).toBe(403);
    const text = await post.text();
    expect(text).toContain('Session expired');
    expect(text).toContain('nothing was changed');
    expect(await statusOf(w, item.id)).toBe('pending');
    // The expired cookie was deleted; a page now goes to sign-in.
    expect(client.cookies.has('dormant_session')).toBe(false);
    const page = await client.request(`${w.url}/plans/${w.planId}`);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toMatch(/^\/auth\/login\?next=/);
  });

  it('shows a viewer no decision buttons and refuses a forged approval from one: 403, nothing changes', async () => {
    const w = await world();
    const viewer = await signedIn(w, 'victor'); // listed as Victor@Example.com: emails match without case
    expect(viewer.html).toContain('victor@example.com');
    expect(viewer.html).not.toMatch(/<button[^>]*value="approve"/);
    expect(viewer.html).not.toMatch(/<button[^>]*value="deny"/);
    const item = w.items[0]!;
    for (const decision of ['approve', 'deny', 'snooze']) {
      const res = await viewer.client.post(decideUrl(w), { item: item.id, decision, _csrf: viewer.csrf });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('Viewers cannot decide');
    }
    const backups = await viewer.client.post(`${w.url}/backups/bk-none/restore`, { _csrf: viewer.csrf });
    expect(backups.status).toBe(403);
    expect(await statusOf(w, item.id)).toBe('pending');
    expect(await w.store.db.selectFrom('approvals').selectAll().execute()).toHaveLength(0);

    // An approver by group (secops) gets the buttons.
    const byGroup = await signedIn(w, 'gail');
    expect(byGroup.html).toMatch(/<button[^>]*value="approve"/);
  });

  it('tells a stale page who decided an item first, and changes nothing', async () => {
    const w = await world();
    const { client, csrf } = await signedIn(w, 'alice');
    const item = w.items[0]!;
    // Someone approves it at the command line while the page is open.
    await decide(w.store, {
      planId: w.planId,
      items: [item.id],
      all: false,
      decision: 'approve',
      by: 'carol',
      reason: 'left in March',
      channel: 'cli',
    });
    const res = await client.post(decideUrl(w), { item: item.id, decision: 'deny', reason: 'keep', _csrf: csrf });
    expect(res.status).toBe(200);
    // The deny overturned carol's approval: the page says whose, and how it was decided.
    expect(await res.text()).toMatch(
      /Item \d+ \([^)]+\) was approved by carol via cli at [^;]+ \(left in March\); you changed it to denied\./,
    );
    const late = await client.post(decideUrl(w), { item: item.id, decision: 'approve', _csrf: csrf });
    // Deny of an approved item is a change of mind the engine allows; approving a denied one is stale.
    expect(await statusOf(w, item.id)).toBe('denied');
    expect(late.status).toBe(409);
    expect(await late.text()).toMatch(/already denied by web:alice@example\.com via web/);

    const other = w.items[1]!;
    await decide(w.store, {
      planId: w.planId,
      items: [other.id],
      all: false,
      decision: 'deny',
      by: 'carol',
      reason: null,
      channel: 'cli',
    });
    const stale = await client.post(decideUrl(w), { item: other.id, decision: 'approve', _csrf: csrf });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toMatch(/already denied by carol via cli at \d{4}-\d\d-\d\d/);
    expect(await statusOf(w, other.id)).toBe('denied');
  });

  it('answers an unknown plan, item, identity or page with a 404 page', async () => {
    const w = await world();
    const { client, csrf } = await signedIn(w, 'alice');
    const plan = await client.request(`${w.url}/plans/pl-nope`);
    expect(plan.status).toBe(404);
    expect(await plan.text()).toContain('There is no plan pl-nope');
    const item = await client.post(decideUrl(w), { item: 'it-nope', decision: 'approve', _csrf: csrf });
    expect(item.status).toBe(404);
    expect(await item.text()).toContain('has no item it-nope');
    const decideUnknownPlan = await client.post(`${w.url}/plans/pl-nope/decide`, {
      item: w.items[0]!.id,
      decision: 'approve',
      _csrf: csrf,
    });
    expect(decideUnknownPlan.status).toBe(404);
    expect(await statusOf(w, w.items[0]!.id)).toBe('pending');
    const who = await client.request(
      `${w.url}/identities/aws/123456789012/${encodeURIComponent('arn:aws:iam::1:user/x')}`,
    );
    expect(who.status).toBe(404);
    const page = await client.request(`${w.url}/no-such-page`);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('Not found');
  });

  it('answers 503 with a page when the store vanishes, and /readyz says so', async () => {
    const pg = await freshPgDatabase();
    try {
      const w = await world({ storeUrl: pg.url });
      const { client } = await signedIn(w, 'alice');
      await pg.drop();
      const page = await client.request(`${w.url}/plans/${w.planId}`);
      expect(page.status).toBe(503);
      const html = await page.text();
      expect(html).toContain('Store unavailable');
      expect(html).not.toMatch(/\n\s+at /);
      expect(html).not.toContain(pg.url);
      const ready = await client.request(`${w.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'store unavailable' });
      expect(w.logs.some((l) => l.startsWith('error web: the store is unavailable'))).toBe(true);
    } finally {
      await pg.drop();
    }
  });
});
