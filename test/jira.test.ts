// Jira review tickets against a local fake of the Jira Cloud REST API v3 and a real SQLite
// store: one ticket per plan (or item) with the evidence in ADF, no duplicates on rerun or
// after a crash between create and save, outcome comments, configured transitions, auth errors
// that never show the token — and the fake's own validation, proven with direct requests.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Version3Client, type Version3Models } from 'jira.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../src/config/config.js';
import { storePlan } from '../src/engine/storePlan.js';
import { scan } from '../src/engine/scan.js';
import { CloudError, UsageError } from '../src/errors.js';
import type { Evidence } from '../src/model/evidence.js';
import type { Identity } from '../src/model/identity.js';
import type { Plan, PlanItem } from '../src/model/plan.js';
import { accessAdvisorSection } from '../src/providers/aws/aws-access-advisor-evidence.js';
import { cloudTrailSection } from '../src/providers/aws/aws-cloudtrail-evidence.js';
import { MemoryAccount } from '../src/providers/memory/memory-provider.js';
import { getPlan, setItemStatus } from '../src/store/plans.js';
import { type ReviewView, getTicket, reviewViews, saveEvidence } from '../src/store/review.js';
import { Store } from '../src/store/store.js';
import type { TicketTracker } from '../src/workflow/service.js';
import { outcomeComment, planDescription } from '../src/workflow/jira/jira-adf.js';
import { JiraTickets, itemScope, planScope, scopeLabel } from '../src/workflow/jira/jira-tickets.js';
import { accessKey, awsUser } from './support/identities.js';
import { type JiraFake, adfText, adfTypes, startJiraFake, validateAdf } from './support/jiraFake.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ACCOUNT = '123456789012';
const TOKEN_ENV = 'DORMANT_TEST_JIRA_TOKEN';

function staleUser(name: string, owner?: string): Identity {
  return awsUser(name, '2025-01-01T00:00:00Z', {
    credentials: [
      accessKey({
        handle: 'access_key_1',
        createdAt: '2025-10-01T00:00:00Z',
        lastUse: 'used',
        lastUsedAt: '2025-11-01T00:00:00Z',
      }),
    ],
    ...(owner ? { tags: { owner } } : {}),
  });
}

const EVIDENCE_OK: Evidence = [
  cloudTrailSection({
    status: 'ok',
    collectedAt: NOW.toISOString(),
    data: {
      regions: ['us-east-1', 'eu-west-1'],
      events: [
        {
          name: 'ConsoleLogin',
          time: '2026-08-01T09:15:00Z',
          sourceIp: '203.0.113.9',
          region: 'us-east-1',
          source: 'signin.amazonaws.com',
        },
        { name: 'GetCallerIdentity', time: '2026-07-30T10:00:00Z', sourceIp: null, region: 'eu-west-1', source: null },
      ],
    },
  }),
  accessAdvisorSection({
    status: 'ok',
    collectedAt: NOW.toISOString(),
    data: {
      services: [
        { namespace: 'ec2', name: 'Amazon EC2', lastAccessedAt: null, lastAccessedRegion: null },
        { namespace: 's3', name: 'Amazon S3', lastAccessedAt: '2026-08-01T09:20:00Z', lastAccessedRegion: 'us-east-1' },
      ],
    },
  }),
];

const EVIDENCE_UNAVAILABLE: Evidence = [
  cloudTrailSection({
    status: 'unavailable',
    collectedAt: NOW.toISOString(),
    reason: 'AccessDenied: not authorized to perform cloudtrail:LookupEvents',
  }),
  accessAdvisorSection({
    status: 'unavailable',
    collectedAt: NOW.toISOString(),
    reason: 'the report job timed out after 60 s',
  }),
];

let dir: string;
let store: Store;
let fake: JiraFake;
const savedEnv = process.env[TOKEN_ENV];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dormant-jira-'));
  store = await Store.open(join(dir, 'state.db'));
  fake = await startJiraFake();
  process.env[TOKEN_ENV] = fake.apiToken;
});
afterEach(async () => {
  await fake.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (savedEnv === undefined) delete process.env[TOKEN_ENV];
  else process.env[TOKEN_ENV] = savedEnv;
});

function configFor(jira: Record<string, unknown> = {}): Config {
  return parseConfig({
    remediation: { deleteAfterDays: null },
    jira: {
      enabled: true,
      baseUrl: fake.url,
      email: fake.email,
      apiToken: { env: TOKEN_ENV },
      project: 'SEC',
      issueType: 'Task',
      ticketPer: 'plan',
      transitions: { approved: 'In Review', done: 'Done', denied: "Won't Do" },
      ...jira,
    },
  });
}

/** A plan from the real engine over an in-memory account: alice (evidence) and bob (unavailable). */
async function makePlan(config: Config): Promise<{ plan: Plan; views: ReviewView[] }> {
  const account = MemoryAccount.fromIdentities(ACCOUNT, [
    staleUser('alice', 'alice.owner@example.com'),
    staleUser('bob'),
  ]);
  const result = await scan(account, { config, now: NOW });
  const { plan } = await storePlan(store, result, config, 'tester', NOW);
  expect(plan.items.length).toBeGreaterThanOrEqual(2);
  for (const item of plan.items) {
    await saveEvidence(store.db, item.id, item.identityName === 'alice' ? EVIDENCE_OK : EVIDENCE_UNAVAILABLE);
  }
  const views = await reviewViews(store.db, plan.items, config.slack.ownerTag);
  return { plan, views };
}

function expectedAuth(): string {
  return `Basic ${Buffer.from(`${fake.email}:${fake.apiToken}`).toString('base64')}`;
}

function creates() {
  return fake.requestsTo('POST', /^\/rest\/api\/3\/issue$/);
}

async function freshPlanItem(planId: string, seq: number): Promise<PlanItem> {
  const plan = await getPlan(store.db, planId);
  const item = plan?.items.find((i) => i.seq === seq);
  if (!item) throw new Error(`no item ${seq}`);
  return item;
}

interface Node {
  type: string;
  content?: Node[];
  text?: string;
}

/** The text of the `label` row in the table that follows the heading naming `who`. */
function evidenceCell(description: unknown, who: string, label: string): string {
  const blocks = (description as Node).content ?? [];
  const at = blocks.findIndex((b) => b.type === 'heading' && adfText(b).includes(` ${who} `));
  const table = blocks[at + 1];
  expect(table?.type).toBe('table');
  const row = table!.content!.find((r) => adfText(r.content![0]) === label);
  expect(row, `${label} row for ${who}`).toBeDefined();
  return adfText(row!.content![1]);
}

/** Everything SQLite wrote to disk, as text. */
function storeBytes(): string {
  return ['state.db', 'state.db-wal']
    .map((f) => join(dir, f))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
}

describe('ensureTicket', () => {
  it('creates exactly one ticket per plan, with the evidence in valid ADF, and never a second', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);
    const tracker: TicketTracker = jira;

    const first = await tracker.ensureTicket(plan.id, views);
    expect(first).toEqual([{ key: 'SEC-1', url: `${fake.url}/browse/SEC-1` }]);
    expect(fake.issues.size).toBe(1);
    const issue = fake.issue('SEC-1');
    expect(issue.project).toBe('SEC');
    expect(issue.issueType).toBe('Task');
    expect(issue.summary).toBe(`dormant: review 2 inactive IAM identities (plan ${plan.id})`);
    expect(issue.labels).toContain(`dormant-plan-${plan.id}`);
    expect(scopeLabel(planScope(plan.id))).toBe(`dormant-plan-${plan.id}`);

    // The description is a valid ADF document: heading, summary, a table per item, nested lists.
    expect(validateAdf(issue.description)).toBeNull();
    expect(issue.description).toMatchObject({ type: 'doc', version: 1 });
    const types = adfTypes(issue.description);
    expect(types).toEqual(
      expect.arrayContaining([
        'heading',
        'paragraph',
        'table',
        'tableRow',
        'tableHeader',
        'tableCell',
        'bulletList',
        'listItem',
      ]),
    );
    expect(types.filter((t) => t === 'table')).toHaveLength(views.length);

    const text = adfText(issue.description);
    for (const v of views) {
      expect(text).toContain(v.item.identityName);
      expect(text).toContain(v.item.identityId);
      expect(text).toContain(v.item.sentence);
      for (const r of v.item.ruleIds) expect(text).toContain(r);
    }
    // alice: the CloudTrail events (name, time, source IP, region) and the last service.
    for (const s of [
      'ConsoleLogin',
      '2026-08-01T09:15:00Z',
      '203.0.113.9',
      'us-east-1',
      'GetCallerIdentity',
      'unknown IP',
      'eu-west-1',
      's3',
      '2026-08-01T09:20:00Z',
    ]) {
      expect(text).toContain(s);
    }
    expect(text).toContain('alice.owner@example.com');
    // bob: the sources are "unavailable: reason", never "no activity".
    expect(text).toContain('unavailable: AccessDenied: not authorized to perform cloudtrail:LookupEvents');
    expect(text).toContain('unavailable: the report job timed out after 60 s');
    expect(text).not.toMatch(/no CloudTrail events|no service accessed/i);
    // bob's evidence cells say exactly why, and nothing that reads as "no activity".
    expect(evidenceCell(issue.description, 'bob', 'CloudTrail')).toBe(
      'unavailable: AccessDenied: not authorized to perform cloudtrail:LookupEvents',
    );
    expect(evidenceCell(issue.description, 'bob', 'Access Advisor')).toBe(
      'unavailable: the report job timed out after 60 s',
    );
    expect(evidenceCell(issue.description, 'alice', 'CloudTrail')).toMatch(
      /^last 2 event\(s\) in us-east-1, eu-west-1: ConsoleLogin at 2026-08-01T09:15:00Z from 203\.0\.113\.9 in us-east-1 \(signin\.amazonaws\.com\) GetCallerIdentity/,
    );
    expect(evidenceCell(issue.description, 'alice', 'Access Advisor')).toBe(
      'last services used: s3 (Amazon S3) at 2026-08-01T09:20:00Z in us-east-1',
    );
    expect(text).not.toMatch(/undefined|null/);

    // What Jira saw: Basic auth with the configured pair on every request, JSON bodies.
    expect(fake.requests.length).toBeGreaterThan(0);
    for (const r of fake.requests) expect(r.headers.authorization).toBe(expectedAuth());
    const create = creates()[0]!;
    expect(create.status).toBe(201);
    expect(create.headers['content-type']).toMatch(/^application\/json/);
    expect(create.body).toMatchObject({
      fields: { project: { key: 'SEC' }, issuetype: { name: 'Task' }, summary: issue.summary, labels: issue.labels },
    });
    // Before creating it looked for the scope's label.
    const search = fake.requestsTo('GET', /^\/rest\/api\/3\/search\/jql$/)[0]!;
    expect(search.query.jql).toContain(`labels = "dormant-plan-${plan.id}"`);
    expect(search.query.jql).toContain('project = "SEC"');

    const ticket = await getTicket(store.db, planScope(plan.id));
    expect(ticket).toMatchObject({ planId: plan.id, itemId: null, key: 'SEC-1', url: `${fake.url}/browse/SEC-1` });

    // Rerun: the store answers; nothing is created or even searched.
    const before = fake.requests.length;
    expect(await jira.ensureTicket(plan.id, views)).toEqual(first);
    expect(fake.requests.length).toBe(before);
    expect(fake.issues.size).toBe(1);

    // The token never reaches the store, nor a dump of the object.
    expect(storeBytes()).not.toContain(fake.apiToken);
    expect(JSON.stringify(jira)).not.toContain(fake.apiToken);
    expect(inspect(jira, { depth: 10 })).not.toContain(fake.apiToken);
  });

  it('creates one ticket per item with ticketPer: item, in the order of the views, and none on rerun', async () => {
    const config = configFor({ ticketPer: 'item' });
    const { plan, views } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);

    const tickets = await jira.ensureTicket(plan.id, views);
    expect(tickets).toHaveLength(views.length);
    expect(fake.issues.size).toBe(views.length);
    for (const [i, v] of views.entries()) {
      const issue = fake.issue(tickets[i]!.key);
      expect(tickets[i]!.url).toBe(`${fake.url}/browse/${issue.key}`);
      expect(issue.labels).toContain(`dormant-item-${v.item.id}`);
      expect(issue.summary).toContain(v.item.identityName);
      expect(issue.summary).toContain(plan.id);
      expect(validateAdf(issue.description)).toBeNull();
      expect(adfText(issue.description)).toContain(v.item.identityId);
      expect(await getTicket(store.db, itemScope(v.item.id))).toMatchObject({ key: issue.key, itemId: v.item.id });
    }
    const bob = views.findIndex((v) => v.item.identityName === 'bob');
    expect(adfText(fake.issue(tickets[bob]!.key).description)).toContain('unavailable: AccessDenied');

    expect(await jira.ensureTicket(plan.id, views)).toEqual(tickets);
    expect(creates()).toHaveLength(views.length);
    expect(await jira.ensureTicket(plan.id, [])).toEqual([]);
  });

  it('finds the issue by its label after a crash between create and save: no duplicate', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    // The crash: the issue was created in Jira, the store never heard of it.
    const direct = new Version3Client({
      host: fake.url,
      authentication: { basic: { email: fake.email, apiToken: fake.apiToken } },
    });
    const orphan = await direct.issues.createIssue({
      fields: {
        project: { key: 'SEC' },
        issuetype: { name: 'Task' },
        summary: `dormant: review 2 inactive IAM identities (plan ${plan.id})`,
        description: planDescription(plan.id, views) as Version3Models.Document,
        labels: ['dormant', scopeLabel(planScope(plan.id))],
      },
    });
    // An unrelated dormant issue of another plan must not be picked up.
    await direct.issues.createIssue({
      fields: {
        project: { key: 'SEC' },
        issuetype: { name: 'Task' },
        summary: 'other',
        labels: ['dormant', 'dormant-plan-pl-other'],
      },
    });
    expect(await getTicket(store.db, planScope(plan.id))).toBeNull();

    const jira = JiraTickets.fromConfig(store, config);
    const tickets = await jira.ensureTicket(plan.id, views);
    expect(tickets).toEqual([{ key: orphan.key, url: `${fake.url}/browse/${orphan.key}` }]);
    expect(fake.issues.size).toBe(2);
    expect(creates()).toHaveLength(2);
    expect(await getTicket(store.db, planScope(plan.id))).toMatchObject({ key: orphan.key });
  });

  it('maps a Jira validation error to a one-line CloudError naming the field', async () => {
    const config = configFor({ issueType: 'Epic' });
    const { plan, views } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);
    const err = await jira.ensureTicket(plan.id, views).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect((err as CloudError).code).toBe('JiraError');
    expect((err as Error).message).toMatch(/^Jira answered HTTP 400 .*issuetype: Specify a valid issue type/);
    expect((err as Error).message).not.toContain('\n');
    expect(await getTicket(store.db, planScope(plan.id))).toBeNull();
  });
});

describe('recordOutcome', () => {
  it('comments on the plan ticket and moves it: approved at the first approval, done only when every item is finished', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);
    const [{ key }] = (await jira.ensureTicket(plan.id, views)) as [{ key: string; url: string }];
    const items = plan.items;
    expect(fake.issue(key).status).toBe('To Do');

    // Approve item 1: a comment with the outcome and reason; the ticket goes to In Review.
    await setItemStatus(store.db, items[0]!.id, 'approved', 'stale for months', { by: 'U123', at: NOW.toISOString() });
    const approved = await jira.recordOutcome(await freshPlanItem(plan.id, 1), 'approved', 'stale for months');
    expect(approved).toMatchObject({ key, transitioned: 'In Review', warnings: [] });
    const issue = fake.issue(key);
    expect(issue.status).toBe('In Review');
    expect(issue.comments).toHaveLength(1);
    expect(validateAdf(issue.comments[0]!.body)).toBeNull();
    expect(adfText(issue.comments[0]!.body)).toMatch(/Approved:.*item #1.*stale for months.*decided by U123/);

    // A second approval comments but does not move it again.
    await setItemStatus(store.db, items[1]!.id, 'approved', null, { by: 'U123', at: NOW.toISOString() });
    expect(await jira.recordOutcome(await freshPlanItem(plan.id, 2), 'approved', null)).toMatchObject({
      transitioned: null,
    });
    expect(issue.transitions).toEqual(['In Review']);

    // Item 1 done, the rest still open: a comment, no Done yet.
    await setItemStatus(store.db, items[0]!.id, 'done', null);
    expect(await jira.recordOutcome(await freshPlanItem(plan.id, 1), 'done', null)).toMatchObject({
      transitioned: null,
    });
    expect(issue.status).toBe('In Review');
    expect(adfText(issue.comments.at(-1)!.body)).toMatch(/^Done: item #1/);

    // The other items finish (skipped, failed — the outcome counts even before the store says so).
    for (const item of items.slice(1, -1)) {
      await setItemStatus(store.db, item.id, 'skipped', 'user already gone');
      await jira.recordOutcome(await freshPlanItem(plan.id, item.seq), 'skipped', 'user already gone');
      expect(issue.status).toBe('In Review');
    }
    const last = await freshPlanItem(plan.id, items.at(-1)!.seq);
    const finished = await jira.recordOutcome(last, 'failed', 'AccessDenied: iam:DeleteLoginProfile');
    expect(finished).toMatchObject({ key, transitioned: 'Done', warnings: [] });
    expect(issue.status).toBe('Done');
    expect(issue.transitions).toEqual(['In Review', 'Done']);
    expect(adfText(issue.comments.at(-1)!.body)).toContain('Error: AccessDenied: iam:DeleteLoginProfile');
    for (const c of issue.comments) expect(validateAdf(c.body)).toBeNull();
    expect(issue.comments).toHaveLength(items.length + 2);
    expect((await getTicket(store.db, planScope(plan.id)))?.lastStatus).toBe('done');

    // Requests: comment and transition bodies as Jira wants them.
    const move = fake.requestsTo('POST', /\/transitions$/).at(-1)!;
    expect(move.body).toEqual({ transition: { id: '31' } });
    expect(move.status).toBe(204);
    for (const r of fake.requests) expect(r.headers.authorization).toBe(expectedAuth());
  });

  it('moves a plan ticket to the denied transition when every item was denied', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);
    const [{ key }] = (await jira.ensureTicket(plan.id, views)) as [{ key: string; url: string }];
    for (const item of plan.items) {
      await setItemStatus(store.db, item.id, 'denied', 'still needed', { by: 'U9', at: NOW.toISOString() });
      await jira.recordOutcome(await freshPlanItem(plan.id, item.seq), 'denied', 'still needed');
    }
    expect(fake.issue(key).transitions).toEqual(["Won't Do"]);
    expect(adfText(fake.issue(key).comments[0]!.body)).toMatch(/^Denied: .*Reason: still needed/);
  });

  it('moves item tickets with their item: approved, done, denied', async () => {
    const config = configFor({ ticketPer: 'item' });
    const { plan, views } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);
    const tickets = await jira.ensureTicket(plan.id, views);
    const keyOf = (itemId: string) => tickets[views.findIndex((v) => v.item.id === itemId)]!.key;
    const [a, b] = plan.items as [PlanItem, PlanItem];

    await jira.recordOutcome(a, 'approved', null);
    expect(fake.issue(keyOf(a.id)).status).toBe('In Review');
    expect(fake.issue(keyOf(b.id)).status).toBe('To Do');
    await jira.recordOutcome(a, 'done', null);
    expect(fake.issue(keyOf(a.id)).status).toBe('Done');
    await jira.recordOutcome(b, 'denied', 'keep it');
    expect(fake.issue(keyOf(b.id)).status).toBe("Won't Do");
    expect(fake.issue(keyOf(a.id)).comments).toHaveLength(2);
    expect(fake.issue(keyOf(b.id)).comments).toHaveLength(1);
    // Done is final: a later outcome comments, never moves it back.
    expect(await jira.recordOutcome(a, 'approved', null)).toMatchObject({ transitioned: null });
    expect(fake.issue(keyOf(a.id)).status).toBe('Done');
  });

  it('returns a warning, not an error, when the configured transition is not offered', async () => {
    const config = configFor({ transitions: { approved: 'Start Review', done: null, denied: null } });
    const { plan, views } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);
    const [{ key }] = (await jira.ensureTicket(plan.id, views)) as [{ key: string; url: string }];
    const out = await jira.recordOutcome(plan.items[0]!, 'approved', null);
    expect(out.transitioned).toBeNull();
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(
      /'Start Review' is not available on SEC-1 .*'In Review'.*jira\.transitions\.approved/,
    );
    expect(fake.issue(key).comments).toHaveLength(1);
    expect(fake.issue(key).status).toBe('To Do');
    // No transition configured: comment only, nothing asked about transitions.
    const gets = fake.requestsTo('GET', /\/transitions$/).length;
    for (const item of plan.items) await jira.recordOutcome(item, 'done', null);
    expect(fake.requestsTo('GET', /\/transitions$/)).toHaveLength(gets);
  });

  it('warns when no ticket covers the item', async () => {
    const config = configFor();
    const { plan } = await makePlan(config);
    const jira = JiraTickets.fromConfig(store, config);
    const out = await jira.recordOutcome(plan.items[0]!, 'done', null);
    expect(out).toMatchObject({ key: null, commentId: null, transitioned: null });
    expect(out.warnings[0]).toMatch(/no Jira ticket covers item #1/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('credentials', () => {
  it('wrong credentials: a one-line JiraAuth error naming Jira and the fix, without the token', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    const wrong = 'wrong-token-Zq81xY';
    process.env[TOKEN_ENV] = wrong;
    const jira = JiraTickets.fromConfig(store, config);
    const err = await jira.ensureTicket(plan.id, views).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    const e = err as CloudError;
    expect(e.code).toBe('JiraAuth');
    expect(e.exitCode).toBe(3);
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.message).toMatch(
      /^Jira rejected the credentials of reviewer@example\.com .*\(HTTP 401\).*jira\.email.*\$DORMANT_TEST_JIRA_TOKEN/,
    );
    const b64 = Buffer.from(`${fake.email}:${wrong}`).toString('base64');
    for (const s of [e.message, e.stack ?? '', JSON.stringify(e), String(e.cause ?? '')]) {
      expect(s).not.toContain(wrong);
      expect(s).not.toContain(b64);
    }
    expect(fake.requests[0]!.status).toBe(401);
    expect(fake.issues.size).toBe(0);
    expect(await getTicket(store.db, planScope(plan.id))).toBeNull();
    expect(storeBytes()).not.toContain(wrong);
  });

  it('no permission (403): a JiraAuth error naming the project and the permissions', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    fake.forbidden = true;
    const jira = JiraTickets.fromConfig(store, config);
    const err = await jira.ensureTicket(plan.id, views).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect((err as CloudError).code).toBe('JiraAuth');
    expect((err as Error).message).toMatch(/HTTP 403.*project SEC/);
    expect((err as Error).message).not.toContain(fake.apiToken);
  });

  it('an unreachable Jira names the base URL', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    await fake.stop();
    const jira = JiraTickets.fromConfig(store, config);
    const err = await jira.ensureTicket(plan.id, views).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect((err as Error).message).toMatch(
      /^cannot reach Jira at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*jira\.baseUrl/,
    );
  });

  it('a missing token or setting is a usage error before any request', async () => {
    delete process.env[TOKEN_ENV];
    expect(() => JiraTickets.fromConfig(store, configFor())).toThrow(UsageError);
    expect(() => JiraTickets.fromConfig(store, configFor())).toThrow(/DORMANT_TEST_JIRA_TOKEN/);
    process.env[TOKEN_ENV] = fake.apiToken;
    expect(() => JiraTickets.fromConfig(store, configFor({ project: null }))).toThrow(/jira\.project/);
    expect(() => JiraTickets.fromConfig(store, configFor({ baseUrl: null }))).toThrow(/jira\.baseUrl/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('ADF builders', () => {
  it('never emit empty or null text, and say "evidence not collected" without evidence', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    const bare = views.map((v) => ({ ...v, evidence: null, identity: null, findings: [], owner: null }));
    const d = planDescription(plan.id, bare);
    expect(validateAdf(d)).toBeNull();
    expect(adfText(d)).toContain('evidence not collected');
    expect(adfText(d)).toContain('no owner tag');
    const item = { ...plan.items[0]!, sentence: '', decidedBy: null };
    for (const outcome of ['done', 'skipped', 'failed', 'approved', 'denied'] as const) {
      for (const detail of [null, '', 'why']) expect(validateAdf(outcomeComment(item, outcome, detail))).toBeNull();
    }
  });

  it('stays under Jira field limit with deep evidence on many items', async () => {
    const config = configFor();
    const { plan, views } = await makePlan(config);
    const events = Array.from({ length: 500 }, (_, i) => ({
      name: `Event${i}`,
      time: NOW.toISOString(),
      sourceIp: '198.51.100.7',
      region: 'us-east-1',
      source: 'iam.amazonaws.com',
    }));
    const deep: Evidence = [
      cloudTrailSection({ status: 'ok', collectedAt: NOW.toISOString(), data: { regions: ['us-east-1'], events } }),
      EVIDENCE_OK[1]!,
    ];
    const many = Array.from({ length: 120 }, (_, i) => ({
      ...views[0]!,
      item: { ...views[0]!.item, seq: i + 1 },
      evidence: deep,
    }));
    const d = planDescription(plan.id, many);
    expect(validateAdf(d)).toBeNull();
    expect(JSON.stringify(d).length).toBeLessThanOrEqual(30_000);
    expect(adfText(d)).toMatch(/more item\(s\) not shown/);
    // And Jira takes it.
    const jira = JiraTickets.fromConfig(store, config);
    await jira.ensureTicket(plan.id, many);
    expect(creates()[0]!.status).toBe(201);
  });
});

describe('the Jira fake checks requests like Jira', () => {
  async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { authorization: expectedAuth(), 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as { errorMessages: string[]; errors: Record<string, string> },
    };
  }
  const fields = (extra: Record<string, unknown> = {}) => ({
    fields: { project: { key: 'SEC' }, issuetype: { name: 'Task' }, summary: 'x', ...extra },
  });
  const docWith = (...content: unknown[]) => ({ type: 'doc', version: 1, content });

  it('rejects malformed ADF descriptions and comments with 400 in Jira error shape', async () => {
    const bad: unknown[] = [
      'plain string',
      { type: 'doc', content: [] },
      docWith({ type: 'paragraph', content: [{ type: 'text', text: '' }] }),
      docWith({ type: 'paragraph', content: [{ type: 'text' }] }),
      docWith({ type: 'heading', attrs: { level: 7 }, content: [{ type: 'text', text: 'h' }] }),
      docWith({ type: 'panel', content: [] }),
      docWith({ type: 'paragraph', content: [{ type: 'text', text: 'x', marks: [{ type: 'underline' }] }] }),
      docWith({ type: 'paragraph', content: [{ type: 'text', text: 'x', marks: [{ type: 'link', attrs: {} }] }] }),
      docWith({ type: 'bulletList', content: [{ type: 'paragraph' }] }),
      docWith({ type: 'table', content: [] }),
      docWith({ type: 'text', text: 'bare text at the top' }),
    ];
    for (const description of bad) {
      const res = await post('/rest/api/3/issue', fields({ description }));
      expect(res.status, JSON.stringify(description)).toBe(400);
      expect(res.body.errorMessages).toEqual([]);
      expect(res.body.errors.description).toMatch(/Atlassian Document/);
    }
    const good = await post(
      '/rest/api/3/issue',
      fields({
        description: docWith({
          type: 'paragraph',
          content: [{ type: 'text', text: 'ok', marks: [{ type: 'link', attrs: { href: 'https://x' } }] }],
        }),
      }),
    );
    expect(good.status).toBe(201);
    const comment = await post('/rest/api/3/issue/SEC-1/comment', { body: docWith({ type: 'mystery' }) });
    expect(comment.status).toBe(400);
    expect(comment.body.errors.comment).toMatch(/unknown node type 'mystery'/);
    expect((await post('/rest/api/3/issue/SEC-1/comment', { body: docWith({ type: 'rule' }) })).status).toBe(201);
    expect(fake.issue('SEC-1').comments).toHaveLength(1);
    expect((await post('/rest/api/3/issue/SEC-404/comment', { body: docWith() })).status).toBe(404);
  });

  it('checks auth, content type, required fields and transitions', async () => {
    expect(
      (
        await post('/rest/api/3/issue', fields(), {
          authorization: 'Basic ' + Buffer.from(`${fake.email}:nope`).toString('base64'),
        })
      ).status,
    ).toBe(401);
    expect((await post('/rest/api/3/issue', fields(), { authorization: '' })).status).toBe(401);
    expect((await post('/rest/api/3/issue', JSON.stringify(fields()), { 'content-type': 'text/plain' })).status).toBe(
      415,
    );
    expect((await post('/rest/api/3/issue', '{nope', {})).status).toBe(400);

    const missing = await post('/rest/api/3/issue', { fields: { project: { key: 'NOPE' }, summary: '' } });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toMatchObject({
      project: 'valid project is required',
      issuetype: 'Specify an issue type',
      summary: 'You must specify a summary of the issue.',
    });
    const long = await post(
      '/rest/api/3/issue',
      fields({ summary: 'x'.repeat(256), labels: ['has space'], customfield_1: 1 }),
    );
    expect(long.body.errors.summary).toMatch(/less than 255/);
    expect(long.body.errors.labels).toMatch(/spaces/);
    expect(long.body.errors.customfield_1).toMatch(/cannot be set/);
    expect(fake.issues.size).toBe(0);

    expect((await post('/rest/api/3/issue', fields({ labels: ['dormant', 'dormant-plan-pl-1'] }))).status).toBe(201);
    expect((await post('/rest/api/3/issue/SEC-1/transitions', { transition: { id: '99' } })).status).toBe(400);
    const res = await fetch(
      `${fake.url}/rest/api/3/search/jql?jql=${encodeURIComponent('labels = "dormant-plan-pl-1"')}`,
      {
        headers: { authorization: expectedAuth() },
      },
    );
    expect(((await res.json()) as { issues: { key: string }[] }).issues.map((i) => i.key)).toEqual(['SEC-1']);
    const unbounded = await fetch(`${fake.url}/rest/api/3/search/jql?jql=`, {
      headers: { authorization: expectedAuth() },
    });
    expect(unbounded.status).toBe(400);
  });
});
