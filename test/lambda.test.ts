// The scheduled Lambda (DESIGN §10) as Lambda runs it: `scripts/package-lambda.mjs` builds
// handler.mjs (into a temp directory with no node_modules beside it, like /var/task), and this
// file loads THAT bundle with Node's own ES module loader
// (not vitest's transform) and invokes its handler with an EventBridge scheduled event, against
// moto (IAM) and a real PostgreSQL database (DORMANT_TEST_PG_URL). It checks the summary, the
// store's rows and IAM, and that failures are one-line thrown errors with the CLI's exit codes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decide } from '../src/engine/decide.js';
import type { CycleSummary } from '../src/lambda/handler.js';
import { Store } from '../src/store/store.js';
import { activeSeedUser, staleSeedUser } from './support/identities.js';
import { awsTestEnv, iamAccessKeys, iamHasLoginProfile, useMoto } from './support/moto.js';
import { clearPgDatabase, freshPgDatabase, type FreshPgDatabase } from './support/pg.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = mkdtempSync(join(tmpdir(), 'dormant-lambda-'));
const BUNDLE = join(OUT, 'handler.mjs');
const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString();

type Handler = (event: unknown, context?: unknown) => Promise<CycleSummary>;
interface CycleFailure extends Error {
  exitCode: number;
}

// Node's require() of an ES module (Node >= 20.19), which vitest's module runner leaves alone:
// the bundle is loaded by Node's ESM loader, as Lambda's runtime loads handler.mjs.
const nodeRequire = createRequire(import.meta.url);

/** An EventBridge "Scheduled Event", as the template's rule sends it. */
function scheduledEvent(): object {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/dormant-DormantSchedule-1A2B3C'],
    detail: {},
  };
}

/**
 * Auto-approves disable-user so a cycle applies something; 100%: a three-user account passes
 * the guard; 2 attempts: moto answers the evidence calls it lacks with HTTP 500, retried.
 */
const CONFIG = `
inactiveDays: 90
review: { autoApprove: [disable-user] }
remediation: { maxActionsPercent: 100 }
aws: { maxAttempts: 2 }
`;

const { moto, iam } = useMoto({ resetEach: true });
let pg: FreshPgDatabase;
let handler: Handler;
const coldStart = { importMs: 0, firstInvocationMs: 0 };
const savedEnv = { ...process.env };

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/package-lambda.mjs', '--out', OUT], { cwd: ROOT, stdio: 'pipe' });
  expect(existsSync(BUNDLE)).toBe(true);
  pg = await freshPgDatabase();
  const started = performance.now();
  ({ handler } = nodeRequire(BUNDLE) as { handler: Handler });
  coldStart.importMs = Math.round(performance.now() - started);
}, 120_000);

afterAll(async () => {
  process.env = savedEnv;
  await pg?.drop();
  rmSync(OUT, { recursive: true, force: true });
  console.info(
    `lambda cold start: import ${coldStart.importMs} ms, first invocation ${coldStart.firstInvocationMs} ms`,
  );
});

/** The function's environment, as the template sets it (the store URL resolved from Secrets Manager). */
function lambdaEnv(extra: Record<string, string | undefined> = {}): void {
  process.env = {
    ...savedEnv,
    ...awsTestEnv(moto.endpoint),
    DORMANT_LOG_FORMAT: 'json',
    DORMANT_CONFIG: CONFIG,
    DORMANT_STORE_URL: pg.url,
    ...extra,
  };
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete process.env[k];
}

/** Invokes the handler, capturing what it writes to stderr (Lambda sends that to CloudWatch). */
async function invoke(): Promise<{ summary?: CycleSummary; error?: CycleFailure; logs: string; ms: number }> {
  let logs = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logs += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  const started = performance.now();
  try {
    const summary = await handler(scheduledEvent(), {});
    return { summary, logs, ms: performance.now() - started };
  } catch (err) {
    return { error: err as CycleFailure, logs, ms: performance.now() - started };
  } finally {
    spy.mockRestore();
  }
}

async function rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const { default: pgLib } = await import('pg');
  const client = new pgLib.Client({ connectionString: pg.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

interface ItemRow {
  id: string;
  plan_id: string;
  seq: number;
  identity_name: string;
  action: string;
  status: string;
  requested_at: string | null;
  decided_by: string | null;
}

const items = (): Promise<ItemRow[]> =>
  rows<ItemRow>(
    'select id, plan_id, seq, identity_name, action, status, requested_at, decided_by from plan_items order by plan_id, seq',
  );

async function seedWorld(): Promise<void> {
  await moto.seed({
    users: [
      // Inactive for 300 days: disable-user (auto-approved by CONFIG), then delete-user when due.
      staleSeedUser('stale.alice'),
      // Signs in, but one key unused for 200 days: deactivate-key, for a human to decide.
      {
        name: 'key.bob',
        createDate: ago(400),
        password: true,
        passwordLastUsed: ago(1),
        keys: [{ createDate: ago(300), lastUsed: ago(200) }],
      },
      activeSeedUser('active.carol'),
    ],
  });
}

describe('the scheduled Lambda bundle', () => {
  it('runs one review cycle on a scheduled event: plan stored, reviews requested, approved items applied', async () => {
    await clearPgDatabase(pg.url);
    await seedWorld();
    lambdaEnv();

    const first = await invoke();
    coldStart.firstInvocationMs = Math.round(first.ms);
    expect(first.error, first.logs).toBeUndefined();
    const summary = first.summary!;
    expect(summary).toEqual({
      planId: expect.stringMatching(/^pl-/) as string,
      items: expect.any(Number) as number,
      applied: 1,
      skipped: 0,
      failed: 0,
      durationMs: expect.any(Number) as number,
    });

    // The store: the plan the cycle stored, every item of it asked about, the auto-approved one applied.
    const plans = await rows<{ id: string; created_by: string }>('select id, created_by from plans');
    expect(plans).toEqual([{ id: summary.planId, created_by: 'dormant-service' }]);
    const all = await items();
    expect(all).toHaveLength(summary.items);
    const of = (name: string, action: string) => all.find((i) => i.identity_name === name && i.action === action);
    expect(of('stale.alice', 'disable-user')).toMatchObject({
      status: 'done',
      decided_by: 'dormant-service (review.autoApprove)',
    });
    expect(of('key.bob', 'deactivate-key')).toMatchObject({ status: 'pending', decided_by: null });
    expect(all.some((i) => i.identity_name === 'active.carol')).toBe(false);
    for (const item of all.filter((i) => i.status === 'pending')) expect(item.requested_at).not.toBeNull();
    // Evidence collected for every item, as the cycle does; moto implements neither LookupEvents nor
    // Access Advisor, so both are recorded as unavailable (which never blocks a review).
    const evidence = await rows<{ evidence: string | null }>('select evidence from plan_items');
    for (const row of evidence) {
      const sources = JSON.parse(row.evidence ?? '[]') as { source: string; status: string }[];
      expect(sources.map((e) => `${e.source} ${e.status}`).sort()).toEqual([
        'access-advisor unavailable',
        'cloudtrail unavailable',
      ]);
    }
    const audit = await rows<{ kind: string }>('select kind from audit_events order by id');
    expect(audit.map((a) => a.kind)).toEqual(expect.arrayContaining(['plan.created']));

    // IAM: alice disabled (key inactive, no console password); bob untouched until a human decides.
    expect((await iamAccessKeys(iam, 'stale.alice')).map((k) => k.Status)).toEqual(['Inactive']);
    expect(await iamHasLoginProfile(iam, 'stale.alice')).toBe(false);
    expect((await iamAccessKeys(iam, 'key.bob')).map((k) => k.Status)).toEqual(['Active']);

    // Logs: JSON lines (DORMANT_LOG_FORMAT=json), the summary among them, never the store URL.
    expect(first.logs).toContain('review cycle done');
    expect(first.logs).not.toContain(pg.url);

    // Nothing new on the next schedule: no plan, nothing applied, the pending request left as it was.
    const requested = of('key.bob', 'deactivate-key')!.requested_at;
    const second = await invoke();
    expect(second.error, second.logs).toBeUndefined();
    expect(second.summary).toMatchObject({ planId: null, items: 0, applied: 0, skipped: 0, failed: 0 });
    expect(await rows('select id from plans')).toHaveLength(1);
    const bob = (await items()).find((i) => i.identity_name === 'key.bob')!;
    expect(bob.requested_at).toBe(requested);

    // A human approves with the CLI's engine on the same store; the next cycle applies it.
    const store = await Store.open(pg.url);
    try {
      await decide(store, {
        planId: bob.plan_id,
        items: [bob.id],
        all: false,
        decision: 'approve',
        by: 'alice.security',
        reason: null,
        channel: 'cli',
        now: new Date(),
      });
    } finally {
      await store.close();
    }
    const third = await invoke();
    expect(third.error, third.logs).toBeUndefined();
    expect(third.summary).toMatchObject({ planId: null, items: 0, applied: 1, failed: 0 });
    expect((await iamAccessKeys(iam, 'key.bob')).map((k) => k.Status)).toEqual(['Inactive']);
    expect((await items()).find((i) => i.id === bob.id)?.status).toBe('done');
  });

  it('throws a guard refusal as one line (exit 4), after storing the plan and applying nothing', async () => {
    await clearPgDatabase(pg.url);
    await seedWorld();
    // The default 10% cap: one action in a three-user account is too many.
    lambdaEnv({ DORMANT_CONFIG: 'review: { autoApprove: [disable-user] }\naws: { maxAttempts: 2 }' });
    const run = await invoke();
    expect(run.summary).toBeUndefined();
    expect(run.error).toMatchObject({ name: 'ApplyError', exitCode: 4 });
    expect(run.error!.message).toMatch(
      /^review cycle: 1 problem\(s\) applying approved items: plan pl-\S+ would act on 1 of 3 identities, .*10%/,
    );
    expect(run.error!.message).not.toContain('\n');
    expect(run.error!.stack).toBe(`ApplyError: ${run.error!.message}`);
    expect(await rows('select id from plans')).toHaveLength(1);
    const alice = (await items()).find((i) => i.identity_name === 'stale.alice' && i.action === 'disable-user');
    expect(alice?.status).toBe('approved');
    expect((await iamAccessKeys(iam, 'stale.alice')).map((k) => k.Status)).toEqual(['Active']);
  });

  it('refuses a store that is not PostgreSQL (exit 2) and never shows the password of one it cannot reach (exit 3)', async () => {
    lambdaEnv({ DORMANT_STORE_URL: undefined });
    const sqlite = await invoke();
    expect(sqlite.error).toMatchObject({ name: 'UsageError', exitCode: 2 });
    expect(sqlite.error!.message).toMatch(/keeps its state in PostgreSQL.*DORMANT_STORE_URL/);

    lambdaEnv({ DORMANT_STORE_URL: 'postgres://dormant:hunter2-not-shown@127.0.0.1:1/dormant' });
    const down = await invoke();
    expect(down.error).toMatchObject({ name: 'StoreError', exitCode: 3 });
    expect(down.error!.message).toMatch(/^cannot use PostgreSQL store postgres:\/\/dormant:\*\*\*@127\.0\.0\.1:1/);
    expect(down.error!.message).not.toContain('\n');
    expect(`${down.error!.message}\n${down.logs}`).not.toContain('hunter2');

    lambdaEnv({ DORMANT_CONFIG: 'inactiveDays: [90' });
    const bad = await invoke();
    expect(bad.error).toMatchObject({ name: 'UsageError', exitCode: 2 });
    expect(bad.error!.message).toMatch(/^DORMANT_CONFIG: invalid YAML/);
  });
});
