// Two applies of one plan cannot both act (DESIGN §4.4: "take a lock in the store"), on SQLite
// and on PostgreSQL, with the built CLI against moto:
// - two `dormant apply PLAN` started within a few milliseconds: one works, the other exits 4
//   with one line saying another apply is running;
// - a second apply started while the first is in the middle of its items: exit 4;
// - an apply killed with SIGKILL leaves its lock behind; two applies restarted at the same time
//   race to take it over, and exactly one wins;
// - in-process: a second apply that read the plan before the first one released the lock must
//   not redo (or overwrite) what the first one did.
// After each, one more apply finishes everything; the journal shows every item done exactly
// once, and no two runs ever journaled at the same time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { apply, type ApplyReport } from '../src/engine/apply.js';
import { createAwsClients } from '../src/providers/aws/aws-client.js';
import { AwsRemediation } from '../src/providers/aws/aws-remediation.js';
import { Store } from '../src/store/store.js';
import {
  type CliExit as Exit,
  type RunningCli,
  expectOk,
  runCli as runDormant,
  startCli as startDormant,
} from './support/cli.js';
import { awsTestEnv, iamUserExists, useMoto, type SeedUser } from './support/moto.js';
import {
  ENGINES,
  type JournalRow,
  type PlanItemRow as ItemRow,
  type TestStore,
  journalOf,
  openTestStore,
  runOverlaps,
} from './support/stores.js';

const DAY_MS = 86_400_000;

/** Users per round: each round approves 20 users' disable-user and delete-user items (40). */
const BATCH = 20;
const ROUNDS = ['together', 'midrun', 'takeover', 'stale'] as const;
type Round = (typeof ROUNDS)[number];
const CONFIG =
  'inactiveDays: 90\nremediation: { deleteAfterDays: 0, maxActionsPerRun: 500, maxActionsPercent: 100 }\nexempt: { users: [] }\n';

// ------------------------------------------------------------------ helpers

function isoAgo(days: number): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 - days * DAY_MS).toISOString();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const startCli = (args: string[], cwd: string, endpoint: string): RunningCli =>
  startDormant(args, { cwd, endpoint, timeoutMs: 180_000 });

const runCli = (args: string[], cwd: string, endpoint: string): Promise<Exit> =>
  runDormant(args, { cwd, endpoint, timeoutMs: 180_000 });

/** The one-line refusal of an apply that found the plan's lock held (exit 4). */
function expectLockRefusal(exit: Exit, planId: string): void {
  expect(exit.code, `${exit.stderr}\n${exit.stdout}`).toBe(4);
  expect(exit.stderr).toMatch(new RegExp(`^dormant: another apply of plan ${planId} is running \\(.+\\)[^\\n]*\\n$`));
  expect(exit.stdout).toBe('');
}

// ------------------------------------------------------------------ stores, read directly

/** Item ids with a number of `item`/`outcome`/`done` journal entries other than one. */
function doneCounts(journal: JournalRow[], ids: Set<string>): { once: Set<string>; notOnce: string[] } {
  const count = new Map<string, number>();
  for (const r of journal) {
    if (r.step === 'item' && r.phase === 'outcome' && r.status === 'done') {
      count.set(r.item_id, (count.get(r.item_id) ?? 0) + 1);
    }
  }
  const notOnce = [...ids].filter((id) => count.get(id) !== 1).map((id) => `${id}: ${count.get(id) ?? 0}`);
  return { once: new Set([...count.keys()].filter((id) => count.get(id) === 1)), notOnce };
}

/**
 * Problems with the journal, as sentences (empty: consistent):
 * - every outcome has an earlier intent for the same item, step and run ('item', 'backup' and
 *   'warning' are written as outcomes only);
 * - no two runs journaled at the same time: the spans (first to last entry) of different runs
 *   never interleave, neither for one item nor across the plan (warnings, written without
 *   waiting, are left out of the spans).
 */
function journalProblems(journal: JournalRow[], items: Map<string, ItemRow>): string[] {
  const problems: string[] = [];
  const OUTCOME_ONLY = new Set(['item', 'backup', 'warning']);
  const label = (id: string) => {
    const item = items.get(id);
    return item ? `item ${item.seq} (${item.action} ${item.identity_name})` : `item ${id}`;
  };
  const intents = new Set<string>();
  for (const row of journal) {
    const key = `${row.item_id}|${row.run_id}|${row.step}`;
    if (row.phase === 'intent') intents.add(key);
    else if (!OUTCOME_ONLY.has(row.step) && !intents.has(key)) {
      problems.push(`${label(row.item_id)}: outcome of ${row.step} (journal ${row.id}) has no earlier intent`);
    }
  }
  problems.push(...runOverlaps(journal, 'the plan'));
  const byItem = new Map<string, JournalRow[]>();
  for (const row of journal) byItem.set(row.item_id, [...(byItem.get(row.item_id) ?? []), row]);
  for (const [id, rows] of byItem) problems.push(...runOverlaps(rows, label(id)));
  return problems;
}

// ------------------------------------------------------------------ moto

const { moto, iam } = useMoto();

beforeAll(() => {
  const env = awsTestEnv(moto.endpoint);
  // For the in-process apply (the SDK's default credential chain).
  process.env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
});

function staleUser(name: string, i: number): SeedUser {
  const keys = [{ createDate: isoAgo(400), lastUsed: isoAgo(200) }];
  if (i % 3 === 0) keys.push({ createDate: isoAgo(300), lastUsed: isoAgo(150) });
  return { name, createDate: isoAgo(500), password: true, passwordLastUsed: isoAgo(180), keys };
}

const userExists = (name: string): Promise<boolean> => iamUserExists(iam, name);

interface PlanJson {
  id: string;
  items: { id: string; seq: number; identityName: string; action: string }[];
}

describe.each(ENGINES)('two applies of one plan (%s)', (engine) => {
  let dir: string;
  let store: TestStore;
  let plan: PlanJson;
  const users = new Map<Round, string[]>(
    ROUNDS.map((r) => [r, Array.from({ length: BATCH }, (_, i) => `conc-${r}-${String(i).padStart(2, '0')}`)]),
  );
  const cli = (args: string[]) => runCli([...args, '--db', store.db], dir, moto.endpoint);
  const startApply = () => startCli(['apply', plan.id, '--db', store.db], dir, moto.endpoint);

  /** Approve one round's 40 items; their ids. */
  async function approveRound(round: Round): Promise<Set<string>> {
    const names = new Set(users.get(round));
    const items = plan.items.filter((i) => names.has(i.identityName));
    expect(items).toHaveLength(2 * BATCH);
    expectOk(await cli(['approve', plan.id, ...items.map((i) => i.id), '--by', 'concurrency-test']), 'dormant approve');
    return new Set(items.map((i) => i.id));
  }

  /** One more apply, then: every item of the round done once, the journal consistent, users gone. */
  async function finishAndCheck(round: Round, ids: Set<string>): Promise<void> {
    const last = await cli(['apply', plan.id]);
    expectOk(last, 'the last dormant apply');
    expect(last.stdout).toMatch(/\b0 failed, 0 waiting\n$/);
    const items = await store.rows<ItemRow>('plan_items', 'seq');
    const byId = new Map(items.map((i) => [i.id, i]));
    expect(items.filter((i) => ids.has(i.id) && i.status !== 'done').map((i) => `${i.seq} ${i.status}`)).toEqual([]);
    const journal = await journalOf(store);
    expect(doneCounts(journal, ids).notOnce, 'items without exactly one item/outcome/done').toEqual([]);
    expect(journalProblems(journal, byId)).toEqual([]);
    for (const name of users.get(round)!) expect(await userExists(name), name).toBe(false);
    expect(await store.rows('locks', 'name')).toEqual([]);
  }

  /** Runs (journal run ids) that journaled anything for these items. */
  async function runsFor(ids: Set<string>): Promise<Set<string>> {
    return new Set((await journalOf(store)).filter((r) => ids.has(r.item_id)).map((r) => r.run_id));
  }

  beforeAll(async () => {
    store = await openTestStore(engine, `dormant-concurrency-${engine}-`, CONFIG);
    dir = store.dir;
    await moto.reset();
    const stale = ROUNDS.flatMap((r) => users.get(r)!);
    await moto.seed({
      users: [
        ...stale.map((name, i) => staleUser(name, i)),
        ...Array.from({ length: 10 }, (_, i) => ({
          name: `conc-active-${i}`,
          createDate: isoAgo(400),
          password: true,
          passwordLastUsed: isoAgo(3),
        })),
      ],
    });
    const planned = await cli(['plan', '--format', 'json']);
    expectOk(planned, 'dormant plan');
    plan = JSON.parse(planned.stdout) as PlanJson;
  }, 120_000);

  afterAll(async () => {
    await store?.drop();
  });

  it('two applies started together: one works, the other exits 4 with one line', async () => {
    const ids = await approveRound('together');
    const a = startApply();
    const b = startApply();
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    const exits = [ea, eb].sort((x, y) => (x.code ?? 99) - (y.code ?? 99));
    const [winner, loser] = exits as [Exit, Exit];
    expectOk(winner, 'the apply that took the lock');
    if (loser.code === 0) {
      // Only if the first finished before the second even started: then nothing was due.
      expect(loser.stdout).toMatch(/^0 done, 0 skipped, 0 failed, 0 waiting\n$/);
    } else {
      expectLockRefusal(loser, plan.id);
    }
    expect(winner.stdout).toMatch(new RegExp(`^${2 * BATCH} done, 0 skipped, 0 failed, 0 waiting$`, 'm'));
    expect((await runsFor(ids)).size, 'runs that journaled this round').toBe(1);
    await finishAndCheck('together', ids);
  }, 180_000);

  it('an apply started while another is in the middle of its items exits 4', async () => {
    const ids = await approveRound('midrun');
    const a = startApply();
    await a.lines(1);
    expect(a.exit, 'the first apply was still running').toBeNull();
    const b = await startApply().exited;
    expect(a.exit, 'the first apply was still running when the second gave up').toBeNull();
    expectLockRefusal(b, plan.id);
    expectOk(await a.exited, 'the first apply');
    expect((await runsFor(ids)).size).toBe(1);
    await finishAndCheck('midrun', ids);
  }, 180_000);

  it('after kill -9, two applies restarted together race for the dead lock: exactly one takes it over', async () => {
    const ids = await approveRound('takeover');
    const a = startApply();
    await a.lines(1);
    await sleep(300);
    a.kill();
    const killed = await a.exited;
    expect(killed.signal, `the first apply was killed mid-run: ${JSON.stringify(killed)}`).toBe('SIGKILL');
    const dead = await store.rows<{ name: string; pid: number }>('locks', 'name');
    // Its plan lock, and the identity locks of the items it was in the middle of (at most
    // remediation.concurrency of them, each one of this round's users): all taken over below.
    expect(
      dead.filter((l) => !l.name.startsWith('identity:')).map((l) => l.name),
      'the killed apply left its lock',
    ).toEqual([`apply:${plan.id}`]);
    const identityLocks = dead.filter((l) => l.name.startsWith('identity:'));
    expect(identityLocks.length).toBeLessThanOrEqual(4);
    for (const l of identityLocks) expect(l.name).toMatch(/^identity:aws\|arn:aws:iam::\d{12}:user\/conc-takeover-/);

    const b = startApply();
    const c = startApply();
    const [eb, ec] = await Promise.all([b.exited, c.exited]);
    const [winner, loser] = [eb, ec].sort((x, y) => (x.code ?? 99) - (y.code ?? 99)) as [Exit, Exit];
    expectOk(winner, 'the apply that took the lock over');
    expectLockRefusal(loser, plan.id);
    expect((await runsFor(ids)).size, 'the killed run and the one that took over').toBe(2);
    await finishAndCheck('takeover', ids);
  }, 180_000);

  it('an apply that read the plan before another one released the lock redoes nothing', async () => {
    const ids = await approveRound('stale');
    const config = parseConfig({
      remediation: { deleteAfterDays: 0, maxActionsPerRun: 500, maxActionsPercent: 100 },
      aws: { endpointUrl: moto.endpoint },
    });
    const aws = createAwsClients({
      profile: null,
      region: 'us-east-1',
      endpointUrl: moto.endpoint,
      maxAttempts: 3,
      retryMode: 'standard',
      concurrency: 4,
    });
    const provider = new AwsRemediation(aws, { remediation: config.remediation, evidence: config.evidence });
    const storeA = await Store.open(store.db);
    const storeB = await Store.open(store.db);
    try {
      // B reads the plan, then is slow to take the lock (a paused process, a slow network, a
      // busy database): A takes the lock, applies everything, and releases it meanwhile.
      let bAtLock: () => void = () => undefined;
      const bReadPlan = new Promise<void>((resolve) => (bAtLock = resolve));
      let aDone: () => void = () => undefined;
      const aFinished = new Promise<void>((resolve) => (aDone = resolve));
      const slowB = Object.create(storeB) as Store;
      slowB.acquireLock = async (name: string, ttlMs: number) => {
        bAtLock();
        await aFinished;
        return storeB.acquireLock(name, ttlMs);
      };
      const options = { planId: plan.id, config, by: 'concurrency-test' };
      const b = apply(slowB, provider, options).catch((err: unknown) => err);
      let reportA: ApplyReport;
      try {
        await bReadPlan;
        reportA = await apply(storeA, provider, options);
      } finally {
        aDone();
      }
      const reportB = await b;
      if (!(reportB && typeof reportB === 'object' && 'runId' in reportB)) throw reportB;
      expect(reportA.done).toHaveLength(2 * BATCH);
      // Everything was done by A when B got the lock: nothing was due for B.
      const rb = reportB as ApplyReport;
      expect({
        done: rb.done.map((i) => `${i.seq} ${i.action}`),
        skipped: rb.skipped.map((s) => `${s.item.seq} ${s.item.action}: ${s.reason}`),
        failed: rb.failed.map((f) => `${f.item.seq} ${f.item.action}: ${f.reason}`),
      }).toEqual({ done: [], skipped: [], failed: [] });
      const items = await store.rows<ItemRow>('plan_items', 'seq');
      expect(items.filter((i) => ids.has(i.id) && i.status !== 'done').map((i) => `${i.seq} ${i.status}`)).toEqual([]);
      const journal = await journalOf(store);
      expect(doneCounts(journal, ids).notOnce, 'items without exactly one item/outcome/done').toEqual([]);
      expect([...(await runsFor(ids))], 'only A journaled these items').toEqual([reportA.runId]);
    } finally {
      await storeA.close();
      await storeB.close();
      aws.destroy();
    }
    await finishAndCheck('stale', ids);
  }, 180_000);
});
