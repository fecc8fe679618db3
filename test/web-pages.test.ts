// The dashboard's pages (issue 10 "Pages"), rendered through app.request() behind a fake
// sign-in, on SQLite and on PostgreSQL: what each page shows from a store the real engine
// filled (scan → plan → decide → apply → restore), decisions recorded as web:EMAIL on channel
// 'web', stale decisions, refusals that change nothing, exports, and clear empty states.
import { parse as parseCsv } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply } from '../src/engine/apply.js';
import { decide } from '../src/engine/decide.js';
import { restore } from '../src/engine/restore.js';
import type { Plan } from '../src/model/plan.js';
import { googleDescriber } from '../src/providers/google/google-describer.js';
import { insertPlan } from '../src/store/plans.js';
import { saveEvidence } from '../src/store/review.js';
import { Store } from '../src/store/store.js';
import { ENGINES, useBothEngines } from './support/stores.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  APPROVER,
  NOW,
  VIEWER,
  type PagesWorld,
  form,
  pagesApp,
  seedWorld,
  textOf,
} from './support/webPages.js';

const engines = useBothEngines('dormant-web-pages-');

const rowsIn = (html: string) => (html.match(/data-label="Severity"/g) ?? []).length;
const itemOf = (w: PagesWorld, name: string, action: string) => {
  const item = w.plan.items.find((i) => i.identityName === name && i.action === action);
  if (!item) throw new Error(`no ${action} item for ${name}`);
  return item;
};

describe.each(ENGINES)('dashboard pages on %s', (engine) => {
  let store: Store;
  beforeEach(async () => {
    store = await Store.open(await engines.fresh(engine));
  });
  afterEach(async () => {
    await store.close();
  });

  const approvals = () => store.db.selectFrom('approvals').selectAll().orderBy('id').execute();
  const statusOf = async (id: string) =>
    (await store.db.selectFrom('plan_items').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  it('a fresh store: every page renders a clear empty state', async () => {
    const app = pagesApp(store, APPROVER);
    const expected: Record<string, string> = {
      '/': 'No scans yet',
      '/findings': 'No findings yet',
      '/plans': 'No plans yet',
      '/history': 'Nothing has happened yet',
      '/audit': 'The audit trail is empty',
      '/backups': 'No backups yet',
    };
    for (const [path, text] of Object.entries(expected)) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expect(html.startsWith('<!DOCTYPE html>'), path).toBe(true);
      expect(textOf(html), path).toContain(text);
      expect(html, path).toContain('ann@example.com');
    }
    const csv = await app.request('/findings.csv');
    expect(csv.status).toBe(404);
    expect(textOf(await csv.text())).toContain('No scan is stored yet');
  });

  it('overview: the latest scan counted by provider, account, rule and severity; findings across scans as SVG', async () => {
    const w = await seedWorld(store);
    const app = pagesApp(store, APPROVER);
    const html = await (await app.request('/')).text();
    const count = (key: string, value: string) =>
      w.result.findings.filter((f) => (f as unknown as Record<string, string>)[key] === value).length;
    const row = (param: string, value: string, n: number) =>
      `<a href="/findings?${param}=${value}">${value}</a></th><td class="num">${n}</td>`;
    expect(count('account', ACCOUNT_A)).toBeGreaterThan(0);
    expect(html).toContain(row('account', ACCOUNT_A, count('account', ACCOUNT_A)));
    expect(html).toContain(row('account', ACCOUNT_B, count('account', ACCOUNT_B)));
    expect(html).toContain(row('provider', 'aws', w.result.findings.length));
    for (const rule of new Set(w.result.findings.map((f) => f.ruleId)))
      expect(html).toContain(row('rule', rule, count('ruleId', rule)));
    for (const sev of new Set(w.result.findings.map((f) => f.severity)))
      expect(html).toContain(row('severity', sev, count('severity', sev)));
    expect(html).toContain(row('state', 'pending', w.plan.items.length));
    expect(textOf(html)).toContain(`${w.plan.items.length} plan items waiting for a decision`);
    expect((html.match(/<rect class="bar/g) ?? []).length).toBe(1);

    // A second scan adds a bar; counts come from the latest scan only.
    await seedWorld(store);
    const again = await (await app.request('/')).text();
    expect((again.match(/<rect class="bar/g) ?? []).length).toBe(2);
    expect(again).toContain(row('provider', 'aws', w.result.findings.length));
    expect(again).toMatch(/<svg[^>]*role="img"/);
  });

  it('findings: filter by provider, account, rule, severity and state; search; sort', async () => {
    const w = await seedWorld(store);
    const app = pagesApp(store, APPROVER);
    const get = async (q: string) => (await app.request(`/findings?${q}`)).text();

    const all = await get('');
    expect(rowsIn(all)).toBe(w.result.findings.length);

    const inB = await get(`account=${ACCOUNT_B}`);
    expect(rowsIn(inB)).toBe(w.result.findings.filter((f) => f.account === ACCOUNT_B).length);
    expect(textOf(inB)).toContain('zed');
    expect(textOf(inB)).not.toContain('alice');

    const low = await get('severity=low');
    expect(rowsIn(low)).toBe(w.result.findings.filter((f) => f.severity === 'low').length);
    const rule = await get('rule=DORMANT-AWS-002&provider=aws');
    expect(rowsIn(rule)).toBe(w.result.findings.filter((f) => f.ruleId === 'DORMANT-AWS-002').length);

    // State: 'open' is a finding no plan item carries (the reminders), 'pending' one waiting for review.
    const planned = new Set(w.plan.items.flatMap((i) => i.findingIds));
    const open = w.result.findings.filter((f) => !planned.has(f.id));
    expect(open.length).toBeGreaterThan(0);
    expect(rowsIn(await get('state=open'))).toBe(open.length);
    expect(rowsIn(await get('state=pending'))).toBe(w.result.findings.length - open.length);
    expect(textOf(await get('state=done'))).toContain('No findings match these filters');

    const alice = await get('q=ALI');
    expect(rowsIn(alice)).toBe(w.result.findings.filter((f) => f.identityName === 'alice').length);
    // LIKE wildcards are searched for literally.
    expect(rowsIn(await get('q=%25'))).toBe(0);

    const byName = textOf(await get('sort=identity&dir=desc'));
    expect(byName.indexOf('zed')).toBeLessThan(byName.indexOf('alice'));
    const byDays = await get('sort=days&dir=desc');
    const maxDays = Math.max(...w.result.findings.map((f) => f.daysSinceActivity ?? 0));
    expect(textOf(byDays).match(/\((\d+) days\)/)?.[1]).toBe(String(maxDays));

    const bad = await app.request('/findings?severity=urgent');
    expect(bad.status).toBe(400);
    expect(textOf(await bad.text())).toContain('Severity must be high, medium or low.');
  });

  it('findings: 100 a page, with working pages', async () => {
    const w = await seedWorld(store, 30);
    const total = w.result.findings.length;
    expect(total).toBeGreaterThan(100);
    const app = pagesApp(store, APPROVER);
    const first = await (await app.request('/findings?sort=identity&dir=asc')).text();
    const second = await (await app.request('/findings?sort=identity&dir=asc&page=2')).text();
    expect(rowsIn(first)).toBe(100);
    expect(rowsIn(second)).toBe(total - 100);
    expect(textOf(first)).toContain(`Page 1 of 2 (${total} findings)`);
    expect(first).toContain('href="/findings?sort=identity&amp;dir=asc&amp;page=2"');
    const ids = (html: string) => [...html.matchAll(/href="(\/identities\/[^"]+)"/g)].map((m) => m[1]);
    expect(ids(first).filter((id) => ids(second).includes(id)).length).toBeLessThanOrEqual(1);
    // A state filter pages too.
    const pending = await (await app.request('/findings?state=pending&page=2')).text();
    const planned = new Set(w.plan.items.flatMap((i) => i.findingIds));
    expect(rowsIn(pending)).toBe(w.result.findings.filter((f) => planned.has(f.id)).length - 100);
  });

  it('exports the current view as CSV (formula cells neutralised) and JSON', async () => {
    const w = await seedWorld(store);
    const app = pagesApp(store, APPROVER);
    const res = await app.request(`/findings.csv?account=${ACCOUNT_A}&state=pending`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="dormant-findings-2026-11-22\.csv"$/);
    const rows = parseCsv(await res.text()) as string[][];
    const [header, ...body] = rows;
    const planned = new Set(w.plan.items.flatMap((i) => i.findingIds));
    const expected = w.result.findings.filter((f) => f.account === ACCOUNT_A && planned.has(f.id));
    expect(body.length).toBe(expected.length);
    expect(header).toContain('state');
    const name = header!.indexOf('identityName');
    expect(body.map((r) => r[name])).toContain("'=HYPERLINK");
    for (const r of body) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(new Set(body.map((r) => r[header!.indexOf('state')]))).toEqual(new Set(['pending']));

    const json = await app.request('/findings.json?q=zed');
    const doc = (await json.json()) as { count: number; findings: { identityName: string; state: string }[] };
    expect(doc.count).toBe(w.result.findings.filter((f) => f.identityName === 'zed').length);
    expect(doc.findings.every((f) => f.identityName === 'zed')).toBe(true);
  });

  it('identity: credentials, last activity, evidence, decisions from any channel, journal and backups', async () => {
    const w = await seedWorld(store);
    const [a] = w.accounts;
    const disable = itemOf(w, 'alice', 'disable-user');
    await saveEvidence(store.db, disable.id, [
      {
        source: 'cloudtrail',
        title: 'CloudTrail',
        status: 'ok',
        collectedAt: NOW.toISOString(),
        summary: 'last ConsoleLogin 200 days ago',
        items: [
          { at: '2026-05-06T12:00:00Z', summary: 'ConsoleLogin from 203.0.113.9' },
          ...[1, 2, 3, 4].map((n) => ({ at: `2026-05-0${n}T12:00:00Z`, summary: `ListBuckets number ${n}` })),
        ],
      },
    ]);
    await decide(store, {
      planId: w.plan.id,
      items: [disable.id],
      all: false,
      decision: 'approve',
      by: 'slack:U0BOB',
      reason: 'left in May',
      channel: 'slack',
      now: NOW,
    });
    await apply(store, a!, { planId: w.plan.id, config: w.config, by: 'ops', now: () => NOW });
    const app = pagesApp(store, APPROVER);
    const res = await app.request(`/identities/aws/${ACCOUNT_A}/${encodeURIComponent(disable.identityId)}`);
    expect(res.status).toBe(200);
    const text = textOf(await res.text());
    const key = w.result.identities.find((i) => i.name === 'alice')!.credentials.find((c) => c.kind === 'access-key')!;
    expect(text).toContain(key.id!);
    expect(text).toContain('Last activity 2026-06-25 12:00 UTC');
    expect(text).toContain('CloudTrail : last ConsoleLogin 200 days ago');
    expect(text).toContain('ConsoleLogin from 203.0.113.9');
    expect(text).toContain('ListBuckets number 4');
    // The plan shows the newest three of each section and links to the rest on the identity page.
    const plan = await (await app.request(`/plans/${w.plan.id}`)).text();
    expect(textOf(plan)).toContain('ListBuckets number 2');
    expect(textOf(plan)).not.toContain('ListBuckets number 3');
    expect(plan).toContain(
      `${encodeURIComponent(disable.identityId)}#item-${disable.id}">2 more on the identity page</a>`,
    );
    expect(text).toContain('Approved by slack:U0BOB via slack, 2026-11-22 12:00 UTC : left in May');
    expect(text).toMatch(/item done/);
    expect(text).toMatch(/bk-[0-9a-z]+ taken \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(text).toMatch(/backup ok backup bk-[0-9a-z]+/);

    const unknown = await app.request(
      `/identities/aws/${ACCOUNT_A}/${encodeURIComponent('arn:aws:iam::1:user/nobody')}`,
    );
    expect(unknown.status).toBe(404);
    expect(textOf(await unknown.text())).toContain('dormant knows no aws identity arn:aws:iam::1:user/nobody');
  });

  it('plan: sentences, status, irreversible actions; viewers see no decision controls; unknown plan 404', async () => {
    const w = await seedWorld(store);
    const scanId = (await store.db.selectFrom('scans').select('id').executeTakeFirstOrThrow()).id;
    const sa = 'ci@acme-prod.iam.gserviceaccount.com';
    const google: Plan = {
      id: 'pl-google1',
      createdAt: NOW.toISOString(),
      scanId,
      inventorySize: 5,
      createdBy: 'test',
      items: [
        {
          id: 'it-g1',
          planId: 'pl-google1',
          seq: 1,
          provider: 'google',
          identityId: 'projects/acme-prod/serviceAccounts/1234',
          identityName: sa,
          account: 'acme-prod',
          credentialId: '1a2b3c4d5e6f',
          action: 'delete-key',
          ruleIds: ['DORMANT-GCP-002'],
          findingIds: [],
          status: 'pending',
          notBefore: NOW.toISOString(),
          dependsOn: null,
          sentence: googleDescriber.describe({
            action: 'delete-key',
            identity: { name: sa, kind: 'service-account' },
            credential: { kind: 'key', id: '1a2b3c4d5e6f' },
            reason: 'unused 120 days',
            deleteAfterDays: 0,
          }),
          reason: null,
          decidedBy: null,
          decidedAt: null,
        },
      ],
    };
    await store.transaction((trx) => insertPlan(trx, google));
    const app = pagesApp(store, APPROVER);
    const g = await (await app.request('/plans/pl-google1')).text();
    expect(textOf(g)).toContain('Irreversible: restore cannot undo this action.');
    const html = await (await app.request(`/plans/${w.plan.id}`)).text();
    for (const item of w.plan.items) expect(textOf(html)).toContain(item.sentence.replace(/\s+/g, ' '));
    expect(html).not.toContain('Irreversible');
    expect(html).toContain('Approve selected');
    expect(html).toContain(`name="_csrf" value="${APPROVER.csrf}"`);
    expect((html.match(/>Approve</g) ?? []).length).toBe(w.plan.items.length);
    expect(html).toContain('<label for="sel-1" class="sr-only">Select item 1 (=HYPERLINK)</label>');

    const viewer = await (await pagesApp(store, VIEWER).request(`/plans/${w.plan.id}`)).text();
    expect(viewer).not.toMatch(/<button[^>]*name="decision"/);
    expect(viewer).not.toContain('/decide');
    expect(textOf(viewer)).toContain('You are signed in as a viewer');

    const missing = await app.request('/plans/pl-nope');
    expect(missing.status).toBe(404);
    expect(textOf(await missing.text())).toContain('There is no plan pl-nope');
  });

  it('decisions: one item, in bulk, deny with a reason, snooze; recorded as web:EMAIL on channel web', async () => {
    const w = await seedWorld(store);
    const calls: [string, string | undefined][] = [];
    const app = pagesApp(store, APPROVER, {
      afterDecision: async (id, before) => {
        calls.push([id, before?.status]);
      },
    });
    const url = `/plans/${w.plan.id}/decide`;
    const carol = itemOf(w, 'carol', 'deactivate-key');
    const one = await app.request(url, form({ _csrf: APPROVER.csrf, item: carol.id, decision: 'approve' }));
    expect(one.status).toBe(200);
    expect(textOf(await one.text())).toContain(`Approved 1 item: ${carol.seq} (carol).`);

    const bulk = [itemOf(w, 'alice', 'disable-user'), itemOf(w, 'alice', 'delete-user')];
    const res = await app.request(
      url,
      form({ _csrf: APPROVER.csrf, item: bulk.map((i) => i.id), decision: 'approve', reason: 'left in May' }),
    );
    expect(textOf(await res.text())).toContain(`Approved 2 items: ${bulk[0]!.seq} (alice), ${bulk[1]!.seq} (alice).`);

    const zed = itemOf(w, 'zed', 'disable-user');
    await app.request(
      url,
      form({ _csrf: APPROVER.csrf, item: zed.id, decision: 'deny', reason: 'break-glass account' }),
    );
    const hyper = itemOf(w, '=HYPERLINK', 'disable-user');
    await app.request(url, form({ _csrf: APPROVER.csrf, item: hyper.id, decision: 'snooze', snoozeDays: 7 }));

    const rows = await approvals();
    expect(rows.map((r) => [r.item_id, r.decision, r.decided_by, r.channel, r.reason])).toEqual([
      [carol.id, 'approve', 'web:ann@example.com', 'web', null],
      [bulk[0]!.id, 'approve', 'web:ann@example.com', 'web', 'left in May'],
      [bulk[1]!.id, 'approve', 'web:ann@example.com', 'web', 'left in May'],
      [zed.id, 'deny', 'web:ann@example.com', 'web', 'break-glass account'],
      [hyper.id, 'deny', 'web:ann@example.com', 'web', null],
    ]);
    expect(rows.at(-1)!.snooze_until).toBe(new Date(NOW.getTime() + 7 * 86_400_000).toISOString());
    expect(rows[3]!.snooze_until).toBeNull();
    expect(await statusOf(zed.id)).toBe('denied');
    const audit = await store.db.selectFrom('audit_events').selectAll().where('kind', 'like', 'item.%').execute();
    expect(audit.every((e) => e.actor === 'web:ann@example.com')).toBe(true);
    expect(calls).toEqual([
      [carol.id, 'pending'],
      [bulk[0]!.id, 'pending'],
      [bulk[1]!.id, 'pending'],
      [zed.id, 'pending'],
      [hyper.id, 'pending'],
    ]);
    // The plan page shows who decided, from any channel.
    const page = textOf(await (await app.request(`/plans/${w.plan.id}`)).text());
    expect(page).toContain('Denied by web:ann@example.com via web, 2026-11-22 12:00 UTC : break-glass account');
    expect(page).toContain('Snoozed by web:ann@example.com via web, 2026-11-22 12:00 UTC until 2026-11-29 12:00 UTC');
  });

  it('a stale page deciding an item decided elsewhere says who decided and when, and changes nothing', async () => {
    const w = await seedWorld(store);
    const alice = itemOf(w, 'alice', 'disable-user');
    await decide(store, {
      planId: w.plan.id,
      items: [alice.id],
      all: false,
      decision: 'approve',
      by: 'slack:U0BOB',
      reason: 'confirmed with HR',
      channel: 'slack',
      now: new Date('2026-11-22T11:30:00Z'),
    });
    const before = await approvals();
    const app = pagesApp(store, APPROVER);
    const res = await app.request(
      `/plans/${w.plan.id}/decide`,
      form({ _csrf: APPROVER.csrf, item: alice.id, decision: 'approve' }),
    );
    expect(res.status).toBe(409);
    expect(textOf(await res.text())).toContain(
      `Item ${alice.seq} (alice) was not changed: already approved by slack:U0BOB via slack at 2026-11-22 11:30 UTC (confirmed with HR).`,
    );
    expect(await approvals()).toEqual(before);

    // In bulk, the fresh ones are decided and the stale one is reported.
    const carol = itemOf(w, 'carol', 'deactivate-key');
    const mixed = await app.request(
      `/plans/${w.plan.id}/decide`,
      form({ _csrf: APPROVER.csrf, item: [alice.id, carol.id], decision: 'deny', reason: 'wait' }),
    );
    expect(mixed.status).toBe(200);
    const text = textOf(await mixed.text());
    expect(text).toContain(`Denied 2 items`);
    // Deny still applies to an approved item (it can be withdrawn before apply).
    expect(await statusOf(alice.id)).toBe('denied');
  });

  it('refusals change nothing: viewer 403, unknown plan or item 404, bad form 400', async () => {
    const w = await seedWorld(store);
    const item = w.plan.items[0]!;
    const url = `/plans/${w.plan.id}/decide`;
    const viewer = await pagesApp(store, VIEWER).request(
      url,
      form({ _csrf: VIEWER.csrf, item: item.id, decision: 'approve' }),
    );
    expect(viewer.status).toBe(403);
    expect(textOf(await viewer.text())).toContain('You are signed in as a viewer');
    const app = pagesApp(store, APPROVER);
    const cases: [string, Record<string, string | string[]>, number, string][] = [
      ['/plans/pl-nope/decide', { item: item.id, decision: 'approve' }, 404, 'There is no plan pl-nope'],
      [url, { item: [item.id, 'it-nope'], decision: 'approve' }, 404, `Plan ${w.plan.id} has no item it-nope`],
      [url, { decision: 'approve' }, 400, 'Select at least one item to decide on.'],
      [url, { item: item.id, decision: 'delete' }, 400, 'Choose Approve, Deny or Snooze.'],
      [url, { item: item.id, decision: 'snooze', snoozeDays: '0' }, 400, 'Snooze days must be a whole number'],
      [url, { item: item.id, decision: 'deny', reason: 'x'.repeat(501) }, 400, 'The reason is longer than 500'],
    ];
    for (const [path, fields, status, text] of cases) {
      const res = await app.request(path, form({ _csrf: APPROVER.csrf, ...fields }));
      expect(res.status, text).toBe(status);
      expect(textOf(await res.text())).toContain(text);
    }
    expect(await approvals()).toEqual([]);
    expect(await statusOf(item.id)).toBe('pending');
    const restoreRes = await pagesApp(store, VIEWER).request('/backups/bk-x/restore', form({ _csrf: VIEWER.csrf }));
    expect(restoreRes.status).toBe(403);
  });

  it('history and audit: decisions from every channel and what apply did, newest first; audit filters', async () => {
    const w = await seedWorld(store);
    const [a] = w.accounts;
    const carol = itemOf(w, 'carol', 'deactivate-key');
    const zed = itemOf(w, 'zed', 'disable-user');
    const app = pagesApp(store, APPROVER);
    await app.request(
      `/plans/${w.plan.id}/decide`,
      form({ _csrf: APPROVER.csrf, item: carol.id, decision: 'approve', reason: 'ok' }),
    );
    await decide(store, {
      planId: w.plan.id,
      items: [zed.id],
      all: false,
      decision: 'deny',
      by: 'bob',
      reason: 'service account',
      channel: 'cli',
      now: NOW,
    });
    await apply(store, a!, { planId: w.plan.id, config: w.config, by: 'ops', now: () => NOW });
    const history = textOf(await (await app.request('/history')).text());
    expect(history).toContain(`web:ann@example.com approved item ${carol.seq} of plan ${w.plan.id} via web: ok`);
    expect(history).toContain(`bob denied item ${zed.seq} of plan ${w.plan.id} via cli: service account`);
    expect(history).toContain(`item ${carol.seq} of plan ${w.plan.id} done (run by ops)`);
    expect(history).toContain(`test-planner made plan ${w.plan.id} with ${w.plan.items.length} item(s)`);
    expect(history.indexOf('done (run by ops)')).toBeLessThan(history.indexOf('test-planner made'));

    const audit = await (await app.request('/audit?kind=item.approved')).text();
    expect((audit.match(/<code>item\.approved<\/code>/g) ?? []).length).toBe(1);
    expect(audit).not.toContain('<code>item.denied</code>');
    const byBob = textOf(await (await app.request('/audit?actor=bob')).text());
    expect(byBob).toContain('item.denied');
    expect(byBob).not.toContain('web:ann@example.com item');
  });

  it('backups: restore behind a confirmation page, recorded as web:EMAIL', async () => {
    const w = await seedWorld(store);
    const [a] = w.accounts;
    const alice = itemOf(w, 'alice', 'disable-user');
    await decide(store, {
      planId: w.plan.id,
      items: [alice.id],
      all: false,
      decision: 'approve',
      by: 'x',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
    await apply(store, a!, { planId: w.plan.id, config: w.config, by: 'ops', now: () => NOW });
    const backup = await store.db.selectFrom('backups').selectAll().executeTakeFirstOrThrow();
    const offline = pagesApp(store, APPROVER);
    const list = textOf(await (await offline.request('/backups')).text());
    expect(list).toContain('alice');
    expect(list).toContain('never restored');
    const noCloud = textOf(await (await offline.request(`/backups/${backup.id}/restore`)).text());
    expect(noCloud).toContain(`run dormant restore ${backup.id}`);
    const refused = await offline.request(`/backups/${backup.id}/restore`, form({ _csrf: APPROVER.csrf }));
    expect(refused.status).toBe(503);

    const app = pagesApp(store, APPROVER, {
      restore: async (id, by) => (await restore(store, a!, id, { by })).report,
    });
    const confirm = await (await app.request(`/backups/${backup.id}/restore`)).text();
    expect(textOf(confirm)).toContain('Restore alice?');
    expect(textOf(confirm)).toContain('Some things cannot come back');
    expect(confirm).toMatch(new RegExp(`<form method="post" action="/backups/${backup.id}/restore"`));
    expect(confirm).toContain(`name="_csrf" value="${APPROVER.csrf}"`);
    expect(await store.db.selectFrom('audit_events').selectAll().where('kind', '=', 'restore.done').execute()).toEqual(
      [],
    );

    const done = await app.request(`/backups/${backup.id}/restore`, form({ _csrf: APPROVER.csrf }));
    expect(done.status).toBe(200);
    expect(textOf(await done.text())).toContain(`alice was restored from backup ${backup.id}`);
    const events = await store.db.selectFrom('audit_events').selectAll().where('kind', '=', 'restore.done').execute();
    expect(events.map((e) => e.actor)).toEqual(['web:ann@example.com']);
    expect(textOf(await (await app.request('/backups')).text())).toContain('restored by web:ann@example.com');
    expect((await app.request('/backups/bk-nope/restore')).status).toBe(404);
  });

  it('serves its own CSS and script; no page has an inline script, style or event handler', async () => {
    const w = await seedWorld(store);
    const app = pagesApp(store, APPROVER);
    const css = await app.request('/assets/app.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('@media (max-width: 720px)');
    const js = await app.request('/assets/app.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const item = w.plan.items[0]!;
    for (const path of [
      '/',
      '/findings',
      '/plans',
      `/plans/${w.plan.id}`,
      `/identities/aws/${ACCOUNT_A}/${encodeURIComponent(item.identityId)}`,
      '/history',
      '/audit',
      '/backups',
    ]) {
      const html = await (await app.request(path)).text();
      expect(html, path).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(html, path).not.toMatch(/<style/);
      expect(html, path).not.toMatch(/\sstyle=/);
      expect(html, path).not.toMatch(/\son[a-z]+=/);
      expect(html, path).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    }
  });
});
