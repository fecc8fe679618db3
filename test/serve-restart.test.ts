// `dormant serve` across restarts: with review requests pending, the service is killed
// (SIGKILL) or stopped (SIGTERM, which must end gracefully with exit code 0), then started
// again on the same store. Pending approvals stay pending, the next review cycle posts no
// Slack message and creates no Jira ticket twice, and a click on a message posted before the
// restart still works. The built CLI runs as a child process against moto, the CloudTrail,
// Slack and Jira fakes. AWS points at moto itself, which has no Access Advisor: that evidence
// must be recorded as unavailable, never as "no activity". Run `npm run build` first.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetLoginProfileCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evidenceSummary, type Evidence } from '../src/model/evidence.js';
import { type CloudTrailFake, startCloudTrailFake } from './support/cloudtrailFake.js';
import { type JiraFake, startJiraFake } from './support/jiraFake.js';
import { type MotoServer, awsTestEnv, startMoto } from './support/moto.js';
import { type SlackFake, blockActionsBody, signSlackRequest, startSlackFake } from './support/slackFake.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const DAY = 86_400_000;
const CHANNEL = 'C0REVIEW';
const APPROVER = 'U_APPROVER';
const STALE = 'stale.alice';
const OWNER = 'alice.owner@example.com';

const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---------------------------------------------------------------- polling

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `fn` until it returns something truthy; fail with `what` (and the service's stderr). */
async function waitFor<T>(
  what: string,
  fn: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  options: { timeoutMs?: number; serve?: Serve } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const tail = options.serve ? `\n--- dormant serve stderr ---\n${options.serve.stderr().slice(-4000)}` : '';
      const why = lastError ? ` (last error: ${String(lastError)})` : '';
      throw new Error(`timed out waiting for ${what}${why}${tail}`);
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------- the service under test

interface Serve {
  child: ChildProcess;
  url: string;
  stderr(): string;
  /** Review cycles finished so far (one "plan …: N new item(s)" line each). */
  reviewCycles(): number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set once the process has exited and its output was read. */
  closed: { code: number | null; signal: NodeJS.Signals | null } | null;
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(AWS_|DORMANT_|SLACK_|JIRA_)/.test(k) || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  return env;
}

const running: Serve[] = [];

async function startServe(w: World): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--config', w.configPath, '--db', `sqlite:${w.dbPath}`],
    { env: { ...cleanEnv(), ...w.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': everything the process wrote has been read by then.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const serve: Serve = {
    child,
    url: '',
    stderr: () => err,
    reviewCycles: () => (err.match(/new item\(s\) from \d+ finding\(s\)/g) ?? []).length,
    exited,
    closed: null,
  };
  void exited.then((how) => (serve.closed = how));
  running.push(serve);
  const port = await Promise.race([
    waitFor('dormant serve to print its listening line', () => {
      const m = /dormant serve: listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
      return m ? Number(m[1]) : null;
    }),
    exited.then(({ code, signal }) => {
      throw new Error(`dormant serve exited early (code ${code}, signal ${signal})`);
    }),
  ]).catch((e: unknown) => {
    throw new Error(`${String(e)}\n--- stderr ---\n${err}`);
  });
  serve.url = `http://127.0.0.1:${port}`;
  return serve;
}

/** How the process ended, or null while it runs. */
function exitOf(serve: Serve): { code: number | null; signal: NodeJS.Signals | null } | null {
  return serve.closed;
}

async function waitForReviewCycles(serve: Serve, n: number): Promise<void> {
  const target = serve.reviewCycles() + n;
  await waitFor(`${n} more review cycle(s)`, () => serve.reviewCycles() >= target, { serve, timeoutMs: 20_000 });
}

// ---------------------------------------------------------------- the store, read as it is

interface ItemRow {
  id: string;
  plan_id: string;
  seq: number;
  identity_name: string;
  action: string;
  status: string;
  decided_by: string | null;
  evidence: string | null;
  requested_at: string | null;
}

function query<T>(dbPath: string, sql: string): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

function items(dbPath: string): ItemRow[] {
  return query<ItemRow>(
    dbPath,
    'SELECT id, plan_id, seq, identity_name, action, status, decided_by, evidence, requested_at FROM plan_items ORDER BY plan_id, seq',
  );
}

function itemById(dbPath: string, id: string): ItemRow {
  const row = items(dbPath).find((i) => i.id === id);
  if (!row) throw new Error(`no item ${id} in the store`);
  return row;
}

function messageOf(dbPath: string, itemId: string): { channel: string; ts: string } | undefined {
  return query<{ item_id: string; channel: string; ts: string }>(
    dbPath,
    'SELECT item_id, channel, ts FROM review_messages',
  ).find((m) => m.item_id === itemId);
}

// ---------------------------------------------------------------- the world

let moto: MotoServer;
let iam: IAMClient;

interface World {
  dir: string;
  dbPath: string;
  configPath: string;
  slack: SlackFake;
  jira: JiraFake;
  trail: CloudTrailFake;
  signingSecret: string;
  env: Record<string, string>;
  staleKey: string;
}

let world: World | null = null;

beforeAll(async () => {
  moto = await startMoto();
  iam = new IAMClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
});

afterAll(async () => {
  iam?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
});

afterEach(async () => {
  for (const s of running.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
  if (world) {
    await Promise.all([world.slack.stop(), world.jira.stop(), world.trail.stop()]);
    rmSync(world.dir, { recursive: true, force: true });
    world = null;
  }
});

async function setUp(): Promise<World> {
  const seeded = await moto.seed({
    users: [
      {
        name: STALE,
        createDate: ago(400),
        password: true,
        passwordLastUsed: ago(200),
        tags: { owner: OWNER },
        keys: [{ createDate: ago(300), lastUsed: ago(200) }],
      },
      { name: 'active.bob', createDate: ago(10), keys: [{ createDate: ago(10), lastUsed: ago(1) }] },
      { name: 'active.carol', createDate: ago(300), password: true, passwordLastUsed: ago(2) },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'dormant-serve-restart-'));
  const slack = await startSlackFake();
  const jira = await startJiraFake();
  const trail = await startCloudTrailFake();
  const signingSecret = randomBytes(16).toString('hex');
  const configPath = join(dir, 'dormant.yml');
  const config = {
    remediation: { deleteAfterDays: 30, maxActionsPercent: 100 },
    aws: { maxAttempts: 2 },
    evidence: { cloudtrail: { endpointUrl: trail.url }, accessAdvisor: { timeoutSeconds: 5 } },
    slack: { enabled: true, channel: CHANNEL, approvers: [APPROVER], apiUrl: slack.apiUrl },
    jira: {
      enabled: true,
      baseUrl: jira.url,
      email: jira.email,
      project: 'SEC',
      transitions: { approved: 'In Review', done: 'Done', denied: "Won't Do" },
    },
    serve: { schedule: '*/3 * * * * *', applySchedule: '*/2 * * * * *' },
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  world = {
    dir,
    dbPath: join(dir, 'state.db'),
    configPath,
    slack,
    jira,
    trail,
    signingSecret,
    staleKey: seeded.users[0]!.keys[0]!,
    env: {
      ...awsTestEnv(moto.endpoint),
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: signingSecret,
      JIRA_API_TOKEN: jira.apiToken,
    },
  };
  return world;
}

async function waitForReview(w: World, serve: Serve): Promise<{ disable: ItemRow; del: ItemRow }> {
  return waitFor(
    'the review of the stale user to be requested in Slack and Jira',
    () => {
      const rows = items(w.dbPath).filter((i) => i.identity_name === STALE);
      const disable = rows.find((i) => i.action === 'disable-user');
      const del = rows.find((i) => i.action === 'delete-user');
      if (!disable?.requested_at || !del?.requested_at) return null;
      if (!messageOf(w.dbPath, disable.id) || !messageOf(w.dbPath, del.id)) return null;
      if (w.jira.issues.size === 0) return null;
      return { disable, del };
    },
    { serve, timeoutMs: 30_000 },
  );
}

async function click(w: World, serve: Serve, itemId: string, ts: string): Promise<Response> {
  const body = blockActionsBody({ userId: APPROVER, actionId: 'dormant_approve', itemId, channel: CHANNEL, ts });
  return fetch(`${serve.url}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(w.signingSecret, body) },
    body,
  });
}

async function accessKeyStatus(user: string): Promise<string[]> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: user }));
  return (out.AccessKeyMetadata ?? []).map((k) => `${k.AccessKeyId}:${k.Status}`);
}

async function hasLoginProfile(user: string): Promise<boolean> {
  try {
    await iam.send(new GetLoginProfileCommand({ UserName: user }));
    return true;
  } catch (err) {
    if (/^NoSuchEntity/.test((err as { name?: string }).name ?? '')) return false;
    throw err;
  }
}

function adfText(node: unknown): string {
  if (typeof node !== 'object' || node === null) return '';
  const n = node as { type?: string; text?: string; content?: unknown[] };
  if (n.type === 'text') return n.text ?? '';
  return (n.content ?? []).map(adfText).join(n.type === 'paragraph' ? '' : ' ');
}

/** What the review channel and Jira hold: posts, issues, issue creations. */
function counts(w: World): { posts: number; issues: number; creates: number } {
  return {
    posts: w.slack.callsTo('chat.postMessage').filter((c) => c.ok).length,
    issues: w.jira.issues.size,
    creates: w.jira.requestsTo('POST', /^\/rest\/api\/3\/issue$/).length,
  };
}

// ---------------------------------------------------------------- tests

describe('dormant serve, restarted on the same store', () => {
  it.each([['SIGKILL' as const], ['SIGTERM' as const]])(
    'after %s: pending reviews stay pending, nothing is posted twice, and an old message still works',
    async (signal) => {
      const w = await setUp();
      const first = await startServe(w);
      const { disable, del } = await waitForReview(w, first);
      const oldMessage = messageOf(w.dbPath, disable.id)!;
      const before = counts(w);
      expect(before).toEqual({ posts: 2, issues: 1, creates: 1 });
      const issueKey = [...w.jira.issues.keys()][0]!;

      // Access Advisor cannot be had from moto: recorded as unavailable, never as no activity.
      const evidence = JSON.parse(disable.evidence ?? 'null') as Evidence;
      expect(evidence.cloudtrail.status).toBe('ok');
      expect(evidence.accessAdvisor.status).toBe('unavailable');
      const summary = evidenceSummary(evidence);
      expect(summary).toMatch(/Access Advisor unavailable: \S/);
      expect(summary).not.toMatch(/no service accessed/);
      expect(w.slack.shows(CHANNEL, oldMessage.ts)).toContain('Access Advisor unavailable:');

      first.child.kill(signal);
      const exit = await waitFor(`dormant serve to exit after ${signal}`, () => exitOf(first), {
        serve: first,
        timeoutMs: 20_000,
      });
      if (signal === 'SIGTERM') {
        expect(exit).toEqual({ code: 0, signal: null });
        expect(first.stderr()).toContain('dormant: info: SIGTERM: finishing the current step, then stopping');
        expect(first.stderr()).toContain('dormant: info: stopped');
        expect(first.stderr()).not.toContain('dormant: error:');
      } else {
        expect(exit.signal).toBe('SIGKILL');
      }

      // Nothing was decided while it was down.
      for (const id of [disable.id, del.id]) expect(itemById(w.dbPath, id).status).toBe('pending');

      const second = await startServe(w);
      const ready = await fetch(`${second.url}/readyz`);
      expect(ready.status).toBe(200);
      for (const id of [disable.id, del.id]) expect(itemById(w.dbPath, id).status).toBe('pending');

      // The next review cycle asks nothing twice: no Slack message, no Jira ticket.
      await waitForReviewCycles(second, 1);
      expect(counts(w)).toEqual(before);
      expect(
        items(w.dbPath)
          .filter((i) => i.identity_name === STALE)
          .map((i) => i.id),
      ).toEqual([disable.id, del.id]);
      for (const id of [disable.id, del.id]) expect(itemById(w.dbPath, id).status).toBe('pending');
      expect(w.slack.callsTo('chat.update')).toEqual([]);

      // A click on the message posted before the restart is honoured by the new process.
      const res = await click(w, second, disable.id, oldMessage.ts);
      expect(res.status).toBe(200);
      const done = await waitFor(
        'the item clicked on the old message to be applied',
        () => {
          const row = itemById(w.dbPath, disable.id);
          return row.status === 'done' ? row : null;
        },
        { serve: second, timeoutMs: 20_000 },
      );
      expect(done.decided_by).toBe(`slack:u_approver (${APPROVER})`);
      expect(await accessKeyStatus(STALE)).toEqual([`${w.staleKey}:Inactive`]);
      expect(await hasLoginProfile(STALE)).toBe(false);
      expect(itemById(w.dbPath, del.id).status).toBe('pending');

      // The old message shows the outcome; the old ticket got the comments.
      await waitFor(
        'the old Slack message to show the outcome',
        () => w.slack.shows(CHANNEL, oldMessage.ts).includes(':heavy_check_mark: Done'),
        { serve: second },
      );
      expect(w.slack.message(CHANNEL, oldMessage.ts)!.blocks.some((b) => b.type === 'actions')).toBe(false);
      const comments = await waitFor(
        'the Done comment on the ticket created before the restart',
        () => {
          const texts = w.jira.issue(issueKey).comments.map((c) => adfText(c.body));
          return texts.some((t) => t.startsWith('Done:')) ? texts : null;
        },
        { serve: second },
      );
      expect(comments.map((t) => t.split(':')[0])).toEqual(['Approved', 'Done']);
      expect(second.stderr()).not.toContain('dormant: error:');
    },
  );

  it('killed after the Jira ticket was made but before Slack was asked: the restart reuses the ticket and posts each item once', async () => {
    const w = await setUp();
    // The first review cycle creates the ticket, then Slack fails: the cycle stops there. Slack
    // is still down for the first cycle after the restart, and back for the one after.
    w.slack.failNext('chat.postMessage', 'service_unavailable');
    w.slack.failNext('chat.postMessage', 'service_unavailable');
    const first = await startServe(w);
    await waitFor(
      'the ticket, then the failed Slack post',
      () => w.jira.issues.size === 1 && w.slack.calls.some((c) => c.method === 'chat.postMessage' && !c.ok),
      { serve: first },
    );
    first.child.kill('SIGKILL');
    await first.exited;
    expect(counts(w)).toEqual({ posts: 0, issues: 1, creates: 1 });
    expect(w.slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    const pending = items(w.dbPath).filter((i) => i.identity_name === STALE);
    expect(pending.map((i) => [i.action, i.status])).toEqual([
      ['disable-user', 'pending'],
      ['delete-user', 'pending'],
    ]);

    const second = await startServe(w);
    const { disable, del } = await waitForReview(w, second);
    // The items of the first process's plan, asked about once each, linking the first ticket.
    expect([disable.id, del.id]).toEqual(pending.map((i) => i.id));
    expect(second.stderr()).toMatch(/review cycle failed: Slack chat.postMessage failed: service_unavailable/);
    await waitForReviewCycles(second, 1);
    expect(counts(w)).toEqual({ posts: 2, issues: 1, creates: 1 });
    const issueKey = [...w.jira.issues.keys()][0]!;
    expect(w.slack.shows(CHANNEL, messageOf(w.dbPath, disable.id)!.ts)).toContain(`/browse/${issueKey}|${issueKey}>`);
    expect(items(w.dbPath).filter((i) => i.identity_name === STALE)).toHaveLength(2);
  });
});
