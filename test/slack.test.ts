// Slack reviews against a local fake of the Slack Web API (and Socket Mode), on a real SQLite store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogLevel, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../src/config/config.js';
import { decide } from '../src/engine/decide.js';
import { scan } from '../src/engine/scan.js';
import { storePlan } from '../src/engine/storePlan.js';
import { CloudError, UsageError } from '../src/errors.js';
import { type Evidence, unavailableSection } from '../src/model/evidence.js';
import type { Identity } from '../src/model/identity.js';
import type { Plan } from '../src/model/plan.js';
import { MemoryAccount } from '../src/providers/memory/memory-provider.js';
import { approvalsFor, getItem, getPlan } from '../src/store/plans.js';
import { type ReviewView, getMessage, reviewViews, staleMessages } from '../src/store/review.js';
import { Store } from '../src/store/store.js';
import {
  ACTION_IDS,
  SLACK_LIMITS,
  decidedBlocks,
  escapeMrkdwn,
  itemBlocks,
  planBlocks,
  truncate,
} from '../src/workflow/slack/slack-blocks.js';
import { handleSlackRequest } from '../src/workflow/slack/slack-http.js';
import { SlackReview } from '../src/workflow/slack/slack-review.js';
import { verifySlackSignature } from '../src/workflow/slack/slack-signature.js';
import { SlackSocketReceiver } from '../src/workflow/slack/slack-socket.js';
import { accessKey, awsUser, password } from './support/identities.js';
import {
  type SlackFake,
  blockActionsBody,
  blockActionsPayload,
  signSlackRequest,
  startSlackFake,
  validateBlocks,
} from './support/slackFake.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ACCOUNT = '123456789012';
const CHANNEL = 'C0REVIEW';
const APPROVER = 'U0APPROVER';
const STRANGER = 'U0STRANGER';
const DAY = 86_400_000;

function ago(days: number): string {
  return new Date(NOW.getTime() - days * DAY).toISOString();
}

function user(name: string, tags: Record<string, string>, extra: Partial<Identity> = {}): Identity {
  return awsUser(name, ago(400), {
    credentials: [accessKey({ handle: 'access_key_1', createdAt: ago(400), lastUse: 'used', lastUsedAt: ago(200) })],
    tags,
    ...extra,
  });
}

/** alice and dave (same owner, in Slack), bob (owner not in Slack), carol (an unused key only, no owner). */
function account(extraStale = 0): MemoryAccount {
  const identities: Identity[] = [
    user('alice', { owner: 'alice.owner@example.com' }),
    user('bob', { owner: 'bob.owner@example.com' }),
    user(
      'carol',
      {},
      {
        credentials: [
          password({ createdAt: ago(400), lastUse: 'used', lastUsedAt: ago(2) }),
          accessKey({ handle: 'access_key_1', createdAt: ago(300), lastUse: 'used', lastUsedAt: ago(150) }),
        ],
      },
    ),
    user('dave', { owner: 'Alice.Owner@example.com' }),
    user('dormant-runner', {}, { createdAt: ago(1), credentials: [] }),
  ];
  for (let i = 0; i < extraStale; i++) identities.push(user(`bulk-${String(i).padStart(2, '0')}`, {}));
  return MemoryAccount.fromIdentities(ACCOUNT, identities);
}

function config(slack: Record<string, unknown> = {}): Config {
  return parseConfig({
    remediation: { deleteAfterDays: null, maxActionsPercent: 100 },
    slack: { enabled: true, channel: CHANNEL, approvers: [APPROVER], notifyOwners: true, ...slack },
  });
}

let dir: string;
let store: Store;
let fake: SlackFake;
let logs: string[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dormant-slack-'));
  store = await Store.open(join(dir, 'state.db'));
  fake = await startSlackFake({ users: { 'alice.owner@example.com': 'U0ALICEOWNER' } });
  logs = [];
});
afterEach(async () => {
  await fake.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function makePlan(cfg: Config, extraStale = 0): Promise<{ plan: Plan; views: ReviewView[] }> {
  const result = await scan(account(extraStale), { config: cfg, now: NOW });
  const { plan } = await storePlan(store, result, cfg, 'test', NOW);
  const stored = (await getPlan(store.db, plan.id))!;
  return { plan: stored, views: await reviewViews(store.db, stored.items, cfg.slack.ownerTag) };
}

function client(token = fake.botToken): WebClient {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
}

function review(cfg: Config, token?: string): SlackReview {
  return new SlackReview(store, cfg.slack, client(token), { log: (l) => logs.push(l), now: () => NOW });
}

function byName(views: ReviewView[], name: string): ReviewView {
  const v = views.find((x) => x.item.identityName === name);
  if (!v) throw new Error(`no item for ${name}`);
  return v;
}

async function click(r: SlackReview, userId: string, actionId: string, itemId: string) {
  const m = await getMessage(store.db, itemId);
  return r.handleAction(
    blockActionsPayload({
      userId,
      username: userId === APPROVER ? 'jane' : 'mallory',
      actionId,
      itemId,
      channel: m?.channel ?? CHANNEL,
      ts: m?.ts ?? '1.000001',
    }),
  );
}

describe('Block Kit builders', () => {
  it('build valid blocks with the identity, rule, activity, evidence, owner, action and buttons', async () => {
    const cfg = config();
    const { views } = await makePlan(cfg);
    const alice = byName(views, 'alice');
    const blocks = itemBlocks(alice, 'https://example.atlassian.net/browse/SEC-42');
    expect(validateBlocks(blocks)).toBeNull();
    const text = JSON.stringify(blocks);
    expect(text).toContain('alice');
    expect(text).toContain(`arn:aws:iam::${ACCOUNT}:user/alice`);
    expect(text).toContain('DORMANT-AWS-001');
    expect(text).toContain('inactive-user');
    expect(text).toContain('days without activity');
    expect(text).toContain('evidence not collected');
    expect(text).toContain('alice.owner@example.com');
    expect(text).toContain(alice.item.sentence);
    expect(text).toContain('SEC-42');
    const actions = blocks.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' && actions.elements.map((e) => [e.action_id, e.value, e.style])).toEqual([
      [ACTION_IDS.approve, alice.item.id, 'primary'],
      [ACTION_IDS.deny, alice.item.id, 'danger'],
      [ACTION_IDS.snooze, alice.item.id, undefined],
    ]);

    const plan = planBlocks(alice.item.planId, views, null);
    expect(validateBlocks(plan)).toBeNull();
    const actionBlocks = plan.filter((b) => b.type === 'actions');
    expect(actionBlocks).toHaveLength(views.length);
    expect(new Set(actionBlocks.map((b) => b.block_id)).size).toBe(views.length);

    const decided = decidedBlocks(alice, {
      status: 'approved',
      by: `slack:jane (${APPROVER})`,
      at: NOW.toISOString(),
      reason: null,
    });
    expect(validateBlocks(decided)).toBeNull();
    expect(decided.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(decided)).toContain(`Approved by <@${APPROVER}> at 2026-11-22 12:00 UTC`);
    const snoozed = decidedBlocks(alice, {
      status: 'denied',
      by: 'cli:bob',
      at: NOW.toISOString(),
      reason: null,
      snoozeUntil: '2026-12-22T12:00:00Z',
    });
    expect(JSON.stringify(snoozed)).toContain('Snoozed until 2026-12-22 by cli:bob');
    const failed = decidedBlocks(alice, { status: 'failed', by: null, at: null, reason: 'DeleteConflict <x>' });
    expect(JSON.stringify(failed)).toContain('Failed: DeleteConflict &lt;x&gt;');
  });

  it('escapes &, < and > everywhere and keeps every text inside the limits', async () => {
    const cfg = config();
    const { views } = await makePlan(cfg);
    const long = 'x'.repeat(10_000);
    const evidence: Evidence = [
      unavailableSection('cloudtrail', 'CloudTrail', `AccessDenied <@channel> & ${long}`, NOW),
      unavailableSection('access-advisor', 'Access Advisor', 'n/a', NOW),
    ];
    const hostile: ReviewView = {
      ...views[0]!,
      owner: '<!channel> & <script>',
      evidence,
      item: { ...views[0]!.item, sentence: 'Disable <!here> & co' },
    };
    expect(escapeMrkdwn('a & <b> c')).toBe('a &amp; &lt;b&gt; c');
    // Cutting never leaves half an entity or half a link behind.
    expect(truncate(`${'a'.repeat(8)}&amp;${'b'.repeat(20)}`, 12, '…')).toBe(`${'a'.repeat(8)}…`);
    expect(truncate(`abc <https://example.com/x|x> ${'d'.repeat(40)}`, 20, '…')).toBe('abc …');
    expect(truncate('short', 3000)).toBe('short');
    const other: ReviewView = { ...hostile, item: { ...hostile.item, id: `${hostile.item.id}-b`, seq: 99 } };
    for (const blocks of [itemBlocks(hostile, null), planBlocks('pl-1', [hostile, other], null)]) {
      expect(validateBlocks(blocks)).toBeNull();
      const json = JSON.stringify(blocks);
      expect(json).not.toContain('<!channel>');
      expect(json).not.toContain('<!here>');
      expect(json).not.toContain('<script>');
      expect(json).toContain('&lt;!channel&gt; &amp; &lt;script&gt;');
      expect(json).toContain('truncated');
      expect(json).toContain('Disable &lt;!here&gt; &amp; co');
      for (const b of blocks)
        if (b.type === 'section') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.text);
    }
  });

  it('never builds more than 50 blocks, and says when items are left out', async () => {
    const cfg = config();
    const { views } = await makePlan(cfg);
    const many = Array.from({ length: 40 }, (_, i) => ({
      ...views[0]!,
      item: { ...views[0]!.item, id: `it-${i}`, seq: i + 1 },
    }));
    const blocks = planBlocks('pl-1', many, null);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(validateBlocks(blocks)).toBeNull();
    expect(JSON.stringify(blocks)).toContain('more item(s) not shown');
  });
});

describe('the Slack fake checks like Slack', () => {
  it('rejects bad tokens, missing fields and invalid blocks', async () => {
    const button = (over: Record<string, unknown> = {}) => ({
      type: 'button',
      text: { type: 'plain_text', text: 'Go' },
      action_id: 'a',
      value: 'v',
      ...over,
    });
    expect(validateBlocks([{ type: 'section', text: { type: 'mrkdwn', text: 'ok' } }])).toBeNull();
    expect(validateBlocks(Array.from({ length: 51 }, () => ({ type: 'divider' })))).toMatch(/too many blocks/);
    expect(validateBlocks([{ type: 'image' }])).toMatch(/invalid block type/);
    expect(validateBlocks([{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }])).toMatch(/3000/);
    expect(validateBlocks([{ type: 'section', text: { type: 'html', text: 'x' } }])).toMatch(/text type/);
    expect(validateBlocks([{ type: 'actions', elements: [button({ style: 'secondary' })] }])).toMatch(/style/);
    expect(validateBlocks([{ type: 'actions', elements: [button(), button()] }])).toMatch(/duplicate action_id/);
    expect(validateBlocks([{ type: 'actions', elements: [button({ value: 'v'.repeat(2001) })] }])).toMatch(/value/);
    expect(validateBlocks([{ type: 'actions', elements: [button({ action_id: 'a'.repeat(256) })] }])).toMatch(
      /action_id/,
    );

    const slack = client();
    await expect(slack.chat.postMessage({ channel: CHANNEL, text: 'x', blocks: [{ type: 'image' }] })).rejects.toThrow(
      /invalid_blocks/,
    );
    await expect(slack.chat.postMessage({ channel: 'general', text: 'x' })).rejects.toThrow(/channel_not_found/);
    await expect(slack.chat.update({ channel: CHANNEL, ts: '1.2', text: 'x' })).rejects.toThrow(/message_not_found/);
    await expect(client('xoxb-wrong').auth.test()).rejects.toThrow(/invalid_auth/);
    await expect(client(fake.appToken).auth.test()).rejects.toThrow(/not_allowed_token_type/);
    expect((await slack.auth.test()).ok).toBe(true);
  });
});

describe('review requests', () => {
  it('posts one message per item, records it, and posts nothing twice', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    expect(views.length).toBe(4);
    const r = review(cfg);
    expect(await r.requestReview(plan.id, views, null)).toEqual({ posted: 4, skipped: 0 });
    expect(fake.callsTo('chat.postMessage').filter((c) => c.ok)).toHaveLength(4);
    expect(fake.calls.every((c) => c.ok)).toBe(true);
    for (const v of views) {
      const m = (await getMessage(store.db, v.item.id))!;
      expect(m).toMatchObject({ channel: CHANNEL, planId: plan.id, renderedStatus: 'pending' });
      expect(fake.shows(m.channel, m.ts)).toContain(v.item.sentence);
      expect((await getItem(store.db, v.item.id))!.status).toBe('pending');
      const row = await store.db
        .selectFrom('plan_items')
        .select('requested_at')
        .where('id', '=', v.item.id)
        .executeTakeFirst();
      expect(row?.requested_at).toBe(NOW.toISOString());
    }
    expect(await r.requestReview(plan.id, views, null)).toEqual({ posted: 0, skipped: 4 });
    // A restart: a new instance on the same store posts nothing either.
    expect(await review(cfg).requestReview(plan.id, views, null)).toEqual({ posted: 0, skipped: 4 });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(4);
  });

  it('batches one message per plan (split past 15 items), with the same ts for its items', async () => {
    const cfg = config({ batch: 'plan' });
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    expect(await r.requestReview(plan.id, views, 'https://example.atlassian.net/browse/SEC-7')).toEqual({
      posted: 1,
      skipped: 0,
    });
    const ts = new Set<string>();
    for (const v of views) ts.add((await getMessage(store.db, v.item.id))!.ts);
    expect(ts.size).toBe(1);
    const shown = fake.shows(CHANNEL, [...ts][0]!);
    for (const v of views) expect(shown).toContain(v.item.sentence);
    expect(await r.requestReview(plan.id, views, null)).toEqual({ posted: 0, skipped: views.length });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);

    const big = await makePlan(cfg, 16);
    expect(big.views.length).toBeGreaterThanOrEqual(16);
    expect(big.views.length).toBeLessThanOrEqual(30);
    expect(await r.requestReview(big.plan.id, big.views, null)).toEqual({ posted: 2, skipped: 0 });
    expect(fake.calls.every((c) => c.ok)).toBe(true);
  });

  it('refuses to post without a channel', async () => {
    const cfg = config({ channel: null });
    const { plan, views } = await makePlan(cfg);
    await expect(review(cfg).requestReview(plan.id, views, null)).rejects.toThrow(UsageError);
  });
});

describe('clicks', () => {
  it("an approver's click approves the item and updates the message", async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const alice = byName(views, 'alice').item;
    const out = await click(r, APPROVER, ACTION_IDS.approve, alice.id);
    expect(out).toMatchObject({ outcome: 'decided', status: 'approved', messageUpdated: true });
    const item = (await getItem(store.db, alice.id))!;
    expect(item.status).toBe('approved');
    expect(item.decidedBy).toBe(`slack:jane (${APPROVER})`);
    expect(item.decidedAt).toBe(NOW.toISOString());
    const approvals = await approvalsFor(store.db, plan.id);
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ decision: 'approve', channel: 'slack', item_id: alice.id });
    const m = (await getMessage(store.db, alice.id))!;
    expect(m.renderedStatus).toBe('approved');
    expect(fake.shows(m.channel, m.ts)).toContain(`Approved by <@${APPROVER}> at 2026-11-22 12:00 UTC`);
    expect(fake.message(m.channel, m.ts)!.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(await staleMessages(store.db)).toHaveLength(0);

    // Clicking again (a stale message elsewhere): an ephemeral note, nothing changes.
    const again = await click(r, APPROVER, ACTION_IDS.deny, alice.id);
    expect(again).toMatchObject({ outcome: 'already', status: 'approved' });
    expect(fake.ephemerals.at(-1)).toMatchObject({ user: APPROVER, channel: CHANNEL });
    expect(fake.ephemerals.at(-1)!.text).toContain(`already approved by <@${APPROVER}>`);
    expect((await getItem(store.db, alice.id))!.status).toBe('approved');
    expect(await approvalsFor(store.db, plan.id)).toHaveLength(1);
  });

  it('anyone else gets an ephemeral refusal and nothing changes', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const alice = byName(views, 'alice').item;
    const m = (await getMessage(store.db, alice.id))!;
    const before = JSON.stringify(fake.message(m.channel, m.ts)!.blocks);
    const out = await click(r, STRANGER, ACTION_IDS.approve, alice.id);
    expect(out).toEqual({ outcome: 'refused', userId: STRANGER });
    expect(fake.ephemerals).toHaveLength(1);
    expect(fake.ephemerals[0]).toMatchObject({ channel: CHANNEL, user: STRANGER });
    expect(fake.ephemerals[0]!.text).toMatch(/^Only the configured approvers can decide/);
    expect((await getItem(store.db, alice.id))!.status).toBe('pending');
    expect(await approvalsFor(store.db, plan.id)).toHaveLength(0);
    expect(fake.callsTo('chat.update')).toHaveLength(0);
    expect(JSON.stringify(fake.message(m.channel, m.ts)!.blocks)).toBe(before);
    const audit = await store.db.selectFrom('audit_events').select('kind').where('item_id', '=', alice.id).execute();
    expect(audit).toHaveLength(0);
  });

  it('snooze denies the item and keeps the identity out for 30 days', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const bob = byName(views, 'bob').item;
    expect(await click(r, APPROVER, ACTION_IDS.snooze, bob.id)).toMatchObject({ outcome: 'decided', status: 'denied' });
    expect((await getItem(store.db, bob.id))!.status).toBe('denied');
    const [approval] = await approvalsFor(store.db, plan.id);
    expect(approval).toMatchObject({ decision: 'deny', channel: 'slack' });
    const until = Date.parse(approval!.snooze_until!);
    expect(Math.abs(until - (NOW.getTime() + 30 * DAY))).toBeLessThan(60_000);
    const m = (await getMessage(store.db, bob.id))!;
    expect(fake.shows(m.channel, m.ts)).toContain(`Snoozed until 2026-12-22 by <@${APPROVER}>`);
  });

  it('deny denies, and an unknown item gets an ephemeral error', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const carol = byName(views, 'carol').item;
    expect(await click(r, APPROVER, ACTION_IDS.deny, carol.id)).toMatchObject({ outcome: 'decided', status: 'denied' });
    const m = (await getMessage(store.db, carol.id))!;
    expect(fake.shows(m.channel, m.ts)).toContain(`Denied by <@${APPROVER}>`);
    expect((await approvalsFor(store.db, plan.id))[0]!.snooze_until).toBeNull();

    expect(await click(r, APPROVER, ACTION_IDS.approve, 'pl-nope-1')).toEqual({
      outcome: 'unknown',
      itemId: 'pl-nope-1',
    });
    expect(fake.ephemerals.at(-1)!.text).toContain('does not know the plan item');
  });

  it('in a batched message, a click updates that item and leaves the others open', async () => {
    const cfg = config({ batch: 'plan' });
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const alice = byName(views, 'alice').item;
    await click(r, APPROVER, ACTION_IDS.approve, alice.id);
    const m = (await getMessage(store.db, alice.id))!;
    const msg = fake.message(m.channel, m.ts)!;
    expect(fake.shows(m.channel, m.ts)).toContain(`Approved by <@${APPROVER}>`);
    const open = msg.blocks.filter((b) => b.type === 'actions');
    expect(open).toHaveLength(views.length - 1);
    expect(JSON.stringify(open)).not.toContain(alice.id);
    expect(validateBlocks(msg.blocks)).toBeNull();
  });
});

describe('decisions made elsewhere', () => {
  it('a CLI decision is reflected by refreshMessages, once', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const alice = byName(views, 'alice').item;
    await decide(store, {
      planId: plan.id,
      items: [alice.id],
      all: false,
      decision: 'deny',
      by: 'cli:ops-alice',
      reason: 'still needed by billing',
      channel: 'cli',
      now: NOW,
    });
    expect(await r.refreshMessages()).toEqual({ updated: 1 });
    const updates = fake.callsTo('chat.update');
    expect(updates).toHaveLength(1);
    const m = (await getMessage(store.db, alice.id))!;
    expect(updates[0]!.body).toMatchObject({ channel: m.channel, ts: m.ts });
    expect(fake.shows(m.channel, m.ts)).toContain(
      'Denied by cli:ops-alice at 2026-11-22 12:00 UTC: still needed by billing',
    );
    expect(m.renderedStatus).toBe('denied');
    expect(await r.refreshMessages()).toEqual({ updated: 0 });
    expect(fake.callsTo('chat.update')).toHaveLength(1);

    // The outcome of apply shows up the same way.
    const bob = byName(views, 'bob').item;
    await decide(store, {
      planId: plan.id,
      items: [bob.id],
      all: false,
      decision: 'approve',
      by: 'cli:ops-alice',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
    await store.db.updateTable('plan_items').set({ status: 'done' }).where('id', '=', bob.id).execute();
    expect(await r.refreshMessages()).toEqual({ updated: 1 });
    const mb = (await getMessage(store.db, bob.id))!;
    expect(fake.shows(mb.channel, mb.ts)).toContain('Done (approved by cli:ops-alice');
  });

  it('a message that is gone is given up on; a transient failure is retried next time', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const [a, b] = [byName(views, 'alice').item, byName(views, 'bob').item];
    await decide(store, {
      planId: plan.id,
      items: [a.id, b.id],
      all: false,
      decision: 'approve',
      by: 'cli:x',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
    fake.failNext('chat.update', 'message_not_found');
    fake.failNext('chat.update', 'internal_error');
    await expect(r.refreshMessages()).rejects.toThrow(/could not be updated.*internal_error/);
    expect(logs.some((l) => l.includes('message_not_found'))).toBe(true);
    expect(await staleMessages(store.db)).toHaveLength(1);
    expect(await r.refreshMessages()).toEqual({ updated: 1 });
    expect(await staleMessages(store.db)).toHaveLength(0);
  });
});

describe('request signature', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const body = blockActionsBody({
    userId: APPROVER,
    actionId: ACTION_IDS.approve,
    itemId: 'pl-x-1',
    channel: CHANNEL,
    ts: '1.000001',
  });
  const now = Math.floor(NOW.getTime() / 1000);

  it('accepts a correctly signed request', () => {
    expect(
      verifySlackSignature({
        signingSecret: secret,
        rawBody: body,
        headers: signSlackRequest(secret, body, now),
        now: NOW,
      }),
    ).toEqual({ ok: true });
    // Fetch-style headers and a few seconds of skew are fine too.
    const headers = new Headers(signSlackRequest(secret, body, now - 30));
    expect(verifySlackSignature({ signingSecret: secret, rawBody: body, headers, now: NOW }).ok).toBe(true);
  });

  it('rejects a wrong secret, a stale or future timestamp, a modified body and missing headers, with a reason', () => {
    const check = (headers: Record<string, string>, raw = body) =>
      verifySlackSignature({ signingSecret: secret, rawBody: raw, headers, now: NOW });
    const wrong = check(signSlackRequest('another-secret-entirely', body, now));
    expect(wrong).toMatchObject({ ok: false, reason: expect.stringMatching(/bad signature/) });
    const stale = check(signSlackRequest(secret, body, now - 301));
    expect(stale).toMatchObject({ ok: false, reason: expect.stringMatching(/stale/) });
    const future = check(signSlackRequest(secret, body, now + 301));
    expect(future).toMatchObject({ ok: false, reason: expect.stringMatching(/future/) });
    const modified = check(signSlackRequest(secret, body, now), body.replace('dormant_approve', 'dormant_deny'));
    expect(modified).toMatchObject({ ok: false, reason: expect.stringMatching(/bad signature/) });
    const { 'x-slack-signature': sig, 'x-slack-request-timestamp': ts } = signSlackRequest(secret, body, now);
    expect(check({ 'x-slack-request-timestamp': ts })).toEqual({
      ok: false,
      reason: 'missing x-slack-signature header',
    });
    expect(check({ 'x-slack-signature': sig })).toEqual({
      ok: false,
      reason: 'missing x-slack-request-timestamp header',
    });
    expect(check({ 'x-slack-signature': sig, 'x-slack-request-timestamp': 'soon' })).toMatchObject({ ok: false });
    for (const r of [wrong, stale, modified]) expect(JSON.stringify(r)).not.toContain(secret);
  });

  it('the HTTP handler refuses unsigned clicks and handles signed ones', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const alice = byName(views, 'alice').item;
    const m = (await getMessage(store.db, alice.id))!;
    const raw = blockActionsBody({
      userId: APPROVER,
      username: 'jane',
      actionId: ACTION_IDS.approve,
      itemId: alice.id,
      channel: m.channel,
      ts: m.ts,
    });
    const refused = handleSlackRequest({
      review: r,
      signingSecret: secret,
      rawBody: raw,
      headers: signSlackRequest('nope-nope-nope', raw, now),
      now: NOW,
      log: (l) => logs.push(l),
    });
    expect(refused.status).toBe(401);
    expect(await refused.done).toBeNull();
    expect((await getItem(store.db, alice.id))!.status).toBe('pending');
    expect(logs.at(-1)).toMatch(/bad signature/);

    const ok = handleSlackRequest({
      review: r,
      signingSecret: secret,
      rawBody: raw,
      headers: signSlackRequest(secret, raw, now),
      now: NOW,
    });
    expect(ok.status).toBe(200);
    expect(await ok.done).toMatchObject({ outcome: 'decided', status: 'approved' });
    expect((await getItem(store.db, alice.id))!.decidedBy).toBe(`slack:jane (${APPROVER})`);
  });
});

describe('owner notification', () => {
  it('sends one DM per owner covering each item once, and records owners not in Slack', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    expect(await r.notifyOwners(views, '2026-11-25')).toEqual({ sent: 1, notFound: 1, failed: 0 });
    const dms = fake.callsTo('chat.postMessage');
    expect(dms).toHaveLength(1);
    expect(dms[0]!.body.channel).toBe('D0ALICEOWNER');
    const text = String(dms[0]!.body.text);
    expect(text).toContain(
      'Your AWS IAM user *alice* in account 123456789012 will be disabled on *2026-11-25* unless someone responds',
    );
    expect(text).toContain('*dave*');
    expect(text).toContain(`<#${CHANNEL}>`);
    expect(fake.callsTo('users.lookupByEmail').map((c) => c.error)).toEqual([null, 'users_not_found']);

    const rows = await store.db.selectFrom('owner_notifications').selectAll().orderBy('item_id').execute();
    const status = Object.fromEntries(rows.map((n) => [n.item_id, [n.status, n.slack_user]]));
    expect(status).toEqual({
      [byName(views, 'alice').item.id]: ['sent', 'U0ALICEOWNER'],
      [byName(views, 'dave').item.id]: ['sent', 'U0ALICEOWNER'],
      [byName(views, 'bob').item.id]: ['not-found', null],
    });

    // Never twice, not even after a restart, and no lookups either.
    const calls = fake.calls.length;
    expect(await review(cfg).notifyOwners(views, '2026-11-25')).toEqual({ sent: 0, notFound: 0, failed: 0 });
    expect(fake.calls.length).toBe(calls);
    void plan;
  });

  it('a failed DM is not recorded, so it is tried again', async () => {
    const cfg = config();
    const { views } = await makePlan(cfg);
    const r = review(cfg);
    fake.failNext('conversations.open', 'ratelimited');
    expect(await r.notifyOwners(views, '2026-11-25')).toEqual({ sent: 0, notFound: 1, failed: 1 });
    expect(logs.some((l) => l.includes('ratelimited'))).toBe(true);
    expect(await r.notifyOwners(views, '2026-11-25')).toEqual({ sent: 1, notFound: 0, failed: 0 });
  });
});

describe('secrets', () => {
  it('a bad token fails with a clear error that never contains a token', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const badToken = `xoxb-9999-8888-${'f'.repeat(24)}`;
    const r = review(cfg, badToken);
    const err = await r.requestReview(plan.id, views, null).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CloudError);
    expect((err as Error).message).toMatch(/chat\.postMessage failed: invalid_auth; check the bot token/);
    const everything = [
      (err as Error).message,
      (err as Error).stack ?? '',
      ...logs,
      JSON.stringify(fake.calls),
      JSON.stringify(await store.db.selectFrom('review_messages').selectAll().execute()),
      JSON.stringify(await store.db.selectFrom('audit_events').selectAll().execute()),
    ].join('\n');
    expect(everything).not.toContain(badToken);
    expect(everything).not.toContain(fake.botToken);
    expect(fake.calls.at(-1)).toMatchObject({ ok: false, error: 'invalid_auth' });

    // A good token: the same flow works, and the token is nowhere in what was recorded.
    await review(cfg).requestReview(plan.id, views, null);
    await click(review(cfg), STRANGER, ACTION_IDS.approve, views[0]!.item.id);
    const after = [
      JSON.stringify(fake.calls),
      ...logs,
      JSON.stringify(await store.db.selectFrom('review_messages').selectAll().execute()),
    ].join('\n');
    expect(after).not.toContain(fake.botToken);
  });

  it('fromConfig reads the bot token from the environment and uses apiUrl', async () => {
    const env = 'DORMANT_TEST_SLACK_BOT_TOKEN';
    const cfg = config({ apiUrl: fake.apiUrl.replace(/\/$/, ''), botToken: { env } });
    const { plan, views } = await makePlan(cfg);
    delete process.env[env];
    expect(() => SlackReview.fromConfig(store, cfg)).toThrow(new RegExp(`export ${env}`));
    process.env[env] = fake.botToken;
    try {
      const r = SlackReview.fromConfig(store, cfg);
      expect(await r.requestReview(plan.id, views.slice(0, 1), null)).toEqual({ posted: 1, skipped: 0 });
    } finally {
      delete process.env[env];
    }
  });
});

describe('Socket Mode', () => {
  it('acks interactive envelopes and hands block_actions to the review', async () => {
    const cfg = config();
    const { plan, views } = await makePlan(cfg);
    const r = review(cfg);
    await r.requestReview(plan.id, views, null);
    const alice = byName(views, 'alice').item;
    const m = (await getMessage(store.db, alice.id))!;
    const outcomes: unknown[] = [];
    let handled: () => void = () => undefined;
    const receiver = new SlackSocketReceiver({
      appToken: fake.appToken,
      apiUrl: fake.apiUrl,
      review: r,
      log: (l) => logs.push(l),
      onAction: (o) => {
        outcomes.push(o);
        handled();
      },
      autoReconnect: false,
    });
    await receiver.start();
    try {
      expect(fake.callsTo('apps.connections.open')).toHaveLength(1);
      const done = new Promise<void>((resolve) => (handled = resolve));
      const payload = blockActionsPayload({
        userId: APPROVER,
        username: 'jane',
        actionId: ACTION_IDS.approve,
        itemId: alice.id,
        channel: m.channel,
        ts: m.ts,
      });
      const envelope = await fake.sendInteractive(payload);
      expect(fake.acks).toContain(envelope);
      await done;
      expect(outcomes[0]).toMatchObject({ outcome: 'decided', status: 'approved' });
      expect((await getItem(store.db, alice.id))!.status).toBe('approved');
      expect(fake.shows(m.channel, m.ts)).toContain(`Approved by <@${APPROVER}>`);
    } finally {
      await receiver.stop();
    }
    expect(logs.join('\n')).not.toContain(fake.appToken);
  });

  it('a bad app token fails to connect with a clear error and no token in it', async () => {
    const bad = `xapp-1-A0DORMANT-0000-${'e'.repeat(24)}`;
    const receiver = new SlackSocketReceiver({
      appToken: bad,
      apiUrl: fake.apiUrl,
      review: review(config()),
      log: (l) => logs.push(l),
      autoReconnect: false,
    });
    const err = await receiver.start().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(CloudError);
    expect(err!.message).toContain('invalid_auth');
    expect([err!.message, ...logs].join('\n')).not.toContain(bad);
    await receiver.stop();
  });
});
