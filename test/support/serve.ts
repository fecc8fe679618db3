// The harness of the `dormant serve` tests (serve-e2e, serve-restart): the built CLI's service
// as a child process (`dormant serve --port 0`), polling it, its store read as it is, the
// Slack, Jira and CloudTrail fakes it reviews and gathers evidence through, and Slack clicks
// signed like Slack signs them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startCli } from './cli.js';
import { type CloudTrailFake, startCloudTrailFake } from './cloudtrailFake.js';
import { type JiraFake, startJiraFake } from './jiraFake.js';
import type { IAMClient } from '@aws-sdk/client-iam';
import { awsTestEnv, iamAccessKeys } from './moto.js';
import {
  type SlackFake,
  type SlackFakeOptions,
  blockActionsBody,
  signSlackRequest,
  startSlackFake,
} from './slackFake.js';
import { type PlanItemRow, sqliteQuery } from './stores.js';

/** The review channel, and the one approver, of the fakes' configuration. */
export const CHANNEL = 'C0REVIEW';
export const APPROVER = 'U_APPROVER';

// ---------------------------------------------------------------- polling

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `fn` until it returns something truthy; fail with `what` (and the service's stderr). */
export async function waitFor<T>(
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

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Serve {
  port: number;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Review cycles finished so far (one "plan …: N new item(s)" line each). */
  reviewCycles(): number;
  /** Resolves once the process has exited and everything it wrote was read. */
  exited: Promise<ServeExit>;
  /** Set once the process has exited and its output was read. */
  closed: ServeExit | null;
  /** Sends `signal` (SIGKILL by default) unless the process has exited. */
  kill(signal?: NodeJS.Signals): void;
}

const running: Serve[] = [];

/** Starts `dormant serve --port 0` on this config and SQLite store; resolves once it listens. */
export async function startServe(o: {
  configPath: string;
  dbPath: string;
  env: Record<string, string>;
}): Promise<Serve> {
  const cli = startCli(['serve', '--port', '0', '--config', o.configPath, '--db', `sqlite:${o.dbPath}`], {
    env: o.env,
  });
  const exited = cli.exited.then(({ code, signal }): ServeExit => ({ code, signal }));
  const serve: Serve = {
    port: 0,
    url: '',
    stdout: cli.stdout,
    stderr: cli.stderr,
    reviewCycles: () => (cli.stderr().match(/new item\(s\) from \d+ finding\(s\)/g) ?? []).length,
    exited,
    closed: null,
    kill: (signal) => cli.kill(signal),
  };
  void exited.then((how) => (serve.closed = how));
  running.push(serve);
  const port = await Promise.race([
    waitFor('dormant serve to print its listening line', () => {
      const m = /dormant serve: listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(cli.stdout());
      return m ? Number(m[1]) : null;
    }),
    exited.then(({ code, signal }) => {
      throw new Error(`dormant serve exited early (code ${code}, signal ${signal})`);
    }),
  ]).catch((e: unknown) => {
    throw new Error(`${String(e)}\n--- stderr ---\n${cli.stderr()}`);
  });
  serve.port = port;
  serve.url = `http://127.0.0.1:${port}`;
  return serve;
}

/** Kills it (SIGKILL) unless it has exited, and waits for the end. */
export async function stopServe(serve: Serve): Promise<void> {
  serve.kill('SIGKILL');
  await serve.exited;
}

/** Stops every service started so far (for afterEach). */
export async function stopServes(): Promise<void> {
  for (const s of running.splice(0)) await stopServe(s);
}

/** Wait until `n` more review cycles have finished (an apply cycle queued between them has finished too). */
export async function waitForReviewCycles(serve: Serve, n: number): Promise<void> {
  const target = serve.reviewCycles() + n;
  await waitFor(`${n} more review cycle(s)`, () => serve.reviewCycles() >= target, { serve, timeoutMs: 20_000 });
}

// ---------------------------------------------------------------- the store, read as it is

export interface ItemRow extends PlanItemRow {
  reason: string | null;
  decided_by: string | null;
  decided_at: string | null;
  evidence: string | null;
  requested_at: string | null;
}

export function query<T>(dbPath: string, sql: string): T[] {
  return sqliteQuery<T>(dbPath, sql, { readonly: true });
}

export function items(dbPath: string): ItemRow[] {
  return query<ItemRow>(
    dbPath,
    'SELECT id, plan_id, seq, identity_name, action, status, reason, decided_by, decided_at, evidence, requested_at FROM plan_items ORDER BY plan_id, seq',
  );
}

export function itemById(dbPath: string, id: string): ItemRow {
  const row = items(dbPath).find((i) => i.id === id);
  if (!row) throw new Error(`no item ${id} in the store`);
  return row;
}

export function messageOf(dbPath: string, itemId: string): { channel: string; ts: string } | undefined {
  return query<{ item_id: string; channel: string; ts: string }>(
    dbPath,
    'SELECT item_id, channel, ts FROM review_messages',
  ).find((m) => m.item_id === itemId);
}

/**
 * The disable and delete items of `user`, once their review was requested: a Slack message
 * for each (and, with `jiraTicket`, a Jira ticket).
 */
export function waitForReview(
  f: ServeFakes,
  serve: Serve,
  user: string,
  o: { jiraTicket?: boolean } = {},
): Promise<{ disable: ItemRow; del: ItemRow }> {
  return waitFor(
    `the review of ${user} to be requested${o.jiraTicket ? ' in Slack and Jira' : ''}`,
    () => {
      const rows = items(f.dbPath).filter((i) => i.identity_name === user);
      const disable = rows.find((i) => i.action === 'disable-user');
      const del = rows.find((i) => i.action === 'delete-user');
      if (!disable?.requested_at || !del?.requested_at) return null;
      if (!messageOf(f.dbPath, disable.id) || !messageOf(f.dbPath, del.id)) return null;
      if (o.jiraTicket && f.jira.issues.size === 0) return null;
      return { disable, del };
    },
    { serve, timeoutMs: 30_000 },
  );
}

// ---------------------------------------------------------------- the fakes it reviews through

/** A directory for the config and the store, the Slack, Jira and CloudTrail fakes, and Slack's signing secret. */
export interface ServeFakes {
  dir: string;
  dbPath: string;
  configPath: string;
  slack: SlackFake;
  jira: JiraFake;
  trail: CloudTrailFake;
  signingSecret: string;
}

export async function startServeFakes(prefix: string, slack: SlackFakeOptions = {}): Promise<ServeFakes> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    dbPath: join(dir, 'state.db'),
    configPath: join(dir, 'dormant.yml'),
    slack: await startSlackFake(slack),
    jira: await startJiraFake(),
    trail: await startCloudTrailFake(),
    signingSecret: randomBytes(16).toString('hex'),
  };
}

/** Stops the fakes (and `more`), and removes the directory. */
export async function stopServeFakes(f: ServeFakes, ...more: { stop(): Promise<void> }[]): Promise<void> {
  await Promise.all([f.slack.stop(), f.jira.stop(), f.trail.stop(), ...more.map((m) => m.stop())]);
  rmSync(f.dir, { recursive: true, force: true });
}

/**
 * After each test of the calling file: stops every service it started, then the fakes of the
 * world it set up (and `more` of them) and removes its directory. Returns `track`, which a
 * test's set-up passes its world through.
 */
export function useServeWorlds<W extends ServeFakes>(
  more: (w: W) => { stop(): Promise<void> }[] = () => [],
): (w: W) => W {
  let world: W | null = null;
  afterEach(async () => {
    await stopServes();
    if (world) {
      await stopServeFakes(world, ...more(world));
      world = null;
    }
  });
  return (w) => (world = w);
}

/** The `slack` (with `slack` added) and `jira` sections of dormant.yml, for the fakes. */
export function reviewConfig(f: ServeFakes, slack: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    slack: { enabled: true, channel: CHANNEL, approvers: [APPROVER], apiUrl: f.slack.apiUrl, ...slack },
    jira: {
      enabled: true,
      baseUrl: f.jira.url,
      email: f.jira.email,
      project: 'SEC',
      transitions: { approved: 'In Review', done: 'Done', denied: "Won't Do" },
    },
  };
}

/** Writes dormant.yml (JSON is YAML). */
export function writeServeConfig(f: ServeFakes, config: Record<string, unknown>): void {
  writeFileSync(f.configPath, JSON.stringify(config, null, 2));
}

/** The service's environment: AWS at `awsEndpoint`, and the Slack and Jira secrets of the fakes. */
export function serveEnv(f: ServeFakes, awsEndpoint: string): Record<string, string> {
  return {
    ...awsTestEnv(awsEndpoint),
    SLACK_BOT_TOKEN: f.slack.botToken,
    SLACK_SIGNING_SECRET: f.signingSecret,
    JIRA_API_TOKEN: f.jira.apiToken,
  };
}

/** POST a signed block_actions click (Approve unless `actionId` says otherwise) to the running server. */
export function clickSlack(
  serve: Serve,
  signingSecret: string,
  o: { userId: string; itemId: string; ts: string; actionId?: string },
): Promise<Response> {
  const body = blockActionsBody({
    userId: o.userId,
    actionId: o.actionId ?? 'dormant_approve',
    itemId: o.itemId,
    channel: CHANNEL,
    ts: o.ts,
  });
  return fetch(`${serve.url}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(signingSecret, body) },
    body,
  });
}

/** `KEY_ID:STATUS` of each of the user's access keys. */
export async function accessKeyStatuses(iam: IAMClient, user: string): Promise<string[]> {
  return (await iamAccessKeys(iam, user)).map((k) => `${k.AccessKeyId}:${k.Status}`);
}

/** Every text of an ADF document, in order. */
export function adfText(node: unknown): string {
  if (typeof node !== 'object' || node === null) return '';
  const n = node as { type?: string; text?: string; content?: unknown[] };
  if (n.type === 'text') return n.text ?? '';
  return (n.content ?? []).map(adfText).join(n.type === 'paragraph' ? '' : ' ');
}
