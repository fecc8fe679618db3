// Crash safety of `dormant apply` (DESIGN §4.3–§4.4, §6 "kill -9 during apply"), on SQLite and
// on PostgreSQL: the built CLI is killed with SIGKILL at random moments, again and again, while it
// disables and deletes 60 approved users in moto; then apply runs to completion. Every approved
// item must end done exactly once, every deleted user must have a backup taken before its first
// change, the journal must pair each step's outcome with an earlier intent, and nothing that was
// not approved may be touched.
//
// The kill delays come from a seeded PRNG; the seed is printed. Rerun a failure with
// DORMANT_CRASH_SEED=<seed>.
import { randomBytes } from 'node:crypto';
import {
  AddUserToGroupCommand,
  CreateGroupCommand,
  GetLoginProfileCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListGroupsForUserCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliExit as Exit, expectOk, runCli as runDormant, startCli as startDormant } from './support/cli.js';
import { iamUserExists, useMoto, type SeedUser } from './support/moto.js';
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

const APPROVED_USERS = 60;
const UNAPPROVED_USERS = 10;
/** Enough identities that 120 actions stay within maxActionsPercent: 100 (it counts actions). */
const ACTIVE_USERS = 60;
/** At least this many kills; more (up to MAX_KILLS) until DELETE_KILLS landed in delete items. */
const KILLS = 20;
const MAX_KILLS = 30;
const DELETE_KILLS = 3;
const GROUPS = ['crash-engineering', 'crash-operations'];
const CONFIG =
  'inactiveDays: 90\nremediation: { deleteAfterDays: 0, maxActionsPerRun: 500, maxActionsPercent: 100 }\nexempt: { users: [] }\n';
const INLINE_POLICY = 'crash-scratch';
const INLINE_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::crash-bucket/*' }],
});

// ------------------------------------------------------------------ helpers

/** mulberry32: a small seeded PRNG, so a failing sequence of kills can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isoAgo(days: number): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 - days * DAY_MS).toISOString();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const startCli = (args: string[], cwd: string, endpoint: string) => startDormant(args, { cwd, endpoint });

const runCli = (args: string[], cwd: string, endpoint: string, timeoutMs = 120_000): Promise<Exit> =>
  runDormant(args, { cwd, endpoint, timeoutMs });

// ------------------------------------------------------------------ stores, read directly

interface BackupRow {
  id: string;
  identity_name: string;
  item_id: string | null;
  created_at: string;
  data: string;
}

// ------------------------------------------------------------------ moto

const { moto, iam } = useMoto();

function staleUser(name: string, i: number): SeedUser {
  const keys = [{ createDate: isoAgo(400), lastUsed: isoAgo(200) }];
  if (i % 2 === 1) keys.push({ createDate: isoAgo(300), lastUsed: isoAgo(150) });
  return { name, createDate: isoAgo(500), password: true, passwordLastUsed: isoAgo(180), keys };
}

/** Stale users (password, 1–2 keys, an inline policy, a group) and active users around them. */
async function seedAccount(approved: string[], unapproved: string[], active: string[]): Promise<void> {
  await moto.reset();
  const stale = [...approved, ...unapproved];
  await moto.seed({
    users: [
      ...stale.map((name, i) => staleUser(name, i)),
      ...active.map((name) => ({
        name,
        createDate: isoAgo(400),
        password: true,
        passwordLastUsed: isoAgo(2),
        keys: [{ createDate: isoAgo(30), lastUsed: isoAgo(1) }],
      })),
    ],
  });
  for (const g of GROUPS) await iam.send(new CreateGroupCommand({ GroupName: g }));
  const limit = pLimit(8);
  await Promise.all(
    stale.map((name, i) =>
      limit(async () => {
        await iam.send(new AddUserToGroupCommand({ UserName: name, GroupName: GROUPS[i % GROUPS.length]! }));
        await iam.send(
          new PutUserPolicyCommand({ UserName: name, PolicyName: INLINE_POLICY, PolicyDocument: INLINE_DOCUMENT }),
        );
      }),
    ),
  );
}

const userExists = (name: string): Promise<boolean> => iamUserExists(iam, name);

// ------------------------------------------------------------------ journal checks

/**
 * Problems with the journal of the given items, as sentences (empty: consistent):
 * - every outcome has an earlier intent for the same item, step and run ('item', 'backup' and
 *   'warning' are written as outcomes only);
 * - every step intent other than the re-check comes after the item's committed backup;
 * - a done item of a delete shows a delete-user intent before it; of a disable, a key or
 *   password step intent;
 * - no two runs journaled at the same time: the spans (first to last entry) of different runs
 *   never interleave, neither for one item nor across the plan (warnings, written without
 *   waiting, are left out of the spans).
 */
function journalProblems(journal: JournalRow[], items: Map<string, ItemRow>): string[] {
  const problems: string[] = [];
  const OUTCOME_ONLY = new Set(['item', 'backup', 'warning']);
  problems.push(...runOverlaps(journal, 'the plan'));
  const byItem = new Map<string, JournalRow[]>();
  for (const row of journal) byItem.set(row.item_id, [...(byItem.get(row.item_id) ?? []), row]);
  for (const [itemId, rows] of byItem) {
    const item = items.get(itemId);
    const label = item ? `item ${item.seq} (${item.action} ${item.identity_name})` : `item ${itemId}`;
    const intents = new Set<string>();
    let backupAt: number | null = null;
    for (const row of rows) {
      const key = `${row.run_id}|${row.step}`;
      if (row.phase === 'intent') {
        intents.add(key);
        if (row.step !== 'recheck' && backupAt === null) {
          problems.push(`${label}: step ${row.step} (journal ${row.id}) began before any backup was committed`);
        }
      } else if (!OUTCOME_ONLY.has(row.step) && !intents.has(key)) {
        problems.push(
          `${label}: outcome of ${row.step} (journal ${row.id}) has no earlier intent in run ${row.run_id}`,
        );
      }
      if (row.step === 'backup' && row.phase === 'outcome' && backupAt === null) backupAt = row.id;
      if (row.step === 'item' && row.phase === 'outcome' && row.status === 'done') {
        const before = rows.filter((r) => r.id < row.id && r.phase === 'intent');
        const acted =
          item?.action === 'delete-user'
            ? before.some((r) => r.step === 'delete-user')
            : before.some((r) => r.step.startsWith('deactivate-key:') || r.step === 'delete-login-profile');
        if (!acted) problems.push(`${label}: done (journal ${row.id}) without an earlier intent of its action's steps`);
      }
    }
    problems.push(...runOverlaps(rows, label));
  }
  return problems;
}

// ------------------------------------------------------------------ the test

interface PlanJson {
  id: string;
  items: { id: string; seq: number; identityName: string; action: string; status: string }[];
}

interface HistoryJson {
  plans: { id: string; items: { id: string; status: string }[] }[];
  events: { kind: string; itemId: string | null }[];
}

describe.each(ENGINES)('apply survives kill -9 at random moments (%s)', (engine) => {
  let dir: string;
  let store: TestStore;

  beforeAll(async () => {
    store = await openTestStore(engine, `dormant-crash-${engine}-`, CONFIG);
    dir = store.dir;
  }, 120_000);

  afterAll(async () => {
    await store?.drop();
  });

  it('ends with every approved item done exactly once, backed up, journaled, and nothing else touched', async () => {
    const seed = process.env.DORMANT_CRASH_SEED
      ? Number(process.env.DORMANT_CRASH_SEED)
      : randomBytes(4).readUInt32BE();
    console.log(`[apply-crash ${engine}] kill delay seed: ${seed} (rerun with DORMANT_CRASH_SEED=${seed})`);
    const random = prng(seed);
    const started = Date.now();

    const approvedUsers = Array.from({ length: APPROVED_USERS }, (_, i) => `crash-stale-${String(i).padStart(2, '0')}`);
    const otherUsers = Array.from({ length: UNAPPROVED_USERS }, (_, i) => `crash-other-${String(i).padStart(2, '0')}`);
    const activeUsers = Array.from({ length: ACTIVE_USERS }, (_, i) => `crash-active-${String(i).padStart(2, '0')}`);
    await seedAccount(approvedUsers, otherUsers, activeUsers);
    const db = ['--db', store.db];
    const cli = (args: string[]) => runCli([...args, ...db], dir, moto.endpoint);

    // Plan, and approve only the 60 users' items.
    const planned = await cli(['plan', '--format', 'json']);
    expectOk(planned, 'dormant plan');
    const plan = JSON.parse(planned.stdout) as PlanJson;
    const approvedSet = new Set(approvedUsers);
    const mine = plan.items.filter((i) => approvedSet.has(i.identityName));
    const others = plan.items.filter((i) => otherUsers.includes(i.identityName));
    expect(plan.items.filter((i) => activeUsers.includes(i.identityName))).toEqual([]);
    for (const name of [...approvedUsers, ...otherUsers]) {
      expect(
        plan.items.filter((i) => i.identityName === name).map((i) => i.action),
        name,
      ).toEqual(['disable-user', 'delete-user']);
    }
    expect(mine).toHaveLength(2 * APPROVED_USERS);
    expect(mine.filter((i) => i.action === 'delete-user').length).toBeGreaterThanOrEqual(50);
    const approve = await cli(['approve', plan.id, ...mine.map((i) => i.id), '--by', 'crash-test']);
    expectOk(approve, 'dormant approve');
    const myIds = new Set(mine.map((i) => i.id));
    const otherIds = new Set(others.map((i) => i.id));
    const setupMs = Date.now() - started;

    // Kill apply again and again. Starting node, opening the store, taking the lock and the
    // pre-flight guard (a live re-read of every due user) take longer than 1.5 s on a busy 2-core
    // machine, so a kill timed from the spawn alone would hardly ever land in the work, and the
    // 60 disables (which all run before any delete) would use up every kill. So every fifth run
    // is killed 100–1500 ms after its spawn (startup, lock, guard); the others 100–1500 ms after
    // their first 1–12 stdout lines (about one per finished item), in the middle of the work, and on
    // through the disables into the deletes. Both numbers come from the seeded PRNG. Past 20
    // kills, it goes on (up to 30) while fewer than 3 kills have landed in a delete item.
    const kills: { what: string; outcome: string }[] = [];
    const actionOf = new Map(mine.map((i) => [i.id, i.action]));
    let seenJournal = 0;
    let interrupted = 0;
    let interruptedDeletes = 0;
    let leftUnfinished = 0;
    let exitedEarly = 0;
    let remaining = mine.length;
    for (let k = 0; k < KILLS || (k < MAX_KILLS && remaining > 0 && interruptedDeletes < DELETE_KILLS); k++) {
      const delayMs = 100 + Math.floor(random() * 1401);
      const afterLines = k % 5 === 0 ? 0 : 1 + Math.floor(random() * 12);
      const run = startCli(['apply', plan.id, ...db], dir, moto.endpoint);
      if (afterLines > 0) await run.lines(afterLines);
      await sleep(delayMs);
      const what = afterLines > 0 ? `${delayMs} ms after line ${afterLines}` : `${delayMs} ms after spawn`;
      let outcome: string;
      if (run.exit !== null) {
        exitedEarly++;
        outcome = `already exited ${run.exit.code}`;
        expect(run.exit.code, run.exit.stderr).toBe(0);
      } else {
        run.kill();
        const exit = await run.exited;
        if (exit.signal === 'SIGKILL') outcome = 'killed';
        else {
          exitedEarly++;
          outcome = `exited ${exit.code} before the kill`;
        }
      }
      // What did this run leave behind?
      const journal = await journalOf(store);
      const fresh = journal.filter((r) => r.id > seenJournal);
      seenJournal = journal.at(-1)?.id ?? seenJournal;
      const last = fresh.at(-1);
      if (last && outcome === 'killed') {
        const finished = fresh.some(
          (r) => r.item_id === last.item_id && r.run_id === last.run_id && r.step === 'item' && r.phase === 'outcome',
        );
        if (!finished) {
          interrupted++;
          if (actionOf.get(last.item_id) === 'delete-user') interruptedDeletes++;
          outcome += ` in ${actionOf.get(last.item_id)} item at ${last.step}/${last.phase}`;
        }
      }
      const status = await store.rows<ItemRow>('plan_items', 'seq');
      const notDone = status.filter((i) => myIds.has(i.id) && i.status !== 'done').length;
      if (outcome.startsWith('killed') && notDone > 0) leftUnfinished++;
      kills.push({ what, outcome: `${outcome}; ${notDone} approved items not done` });
      remaining = notDone;
    }
    const killMs = Date.now() - started - setupMs;

    // Then apply to completion.
    const finals: Exit[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const exit = await cli(['apply', plan.id]);
      finals.push(exit);
      const items = await store.rows<ItemRow>('plan_items', 'seq');
      if (exit.code === 0 && items.filter((i) => myIds.has(i.id)).every((i) => i.status === 'done')) break;
    }
    const lastFinal = finals.at(-1)!;
    console.log(
      `[apply-crash ${engine}] setup ${setupMs} ms, ${kills.length} kills in ${killMs} ms, ` +
        `${interrupted} interrupted an item (${interruptedDeletes} a delete), ${leftUnfinished} left approved items not done, ${exitedEarly} exited first; ` +
        `${finals.length} final run(s) in ${Date.now() - started - setupMs - killMs} ms\n` +
        kills.map((k, i) => `  kill ${i + 1}, ${k.what}: ${k.outcome}`).join('\n'),
    );
    expectOk(lastFinal, 'the final dormant apply');
    expect(lastFinal.stdout).toMatch(/0 failed, 0 waiting/);

    // The kills did interrupt work.
    expect(interrupted, 'kills that landed in the middle of an item').toBeGreaterThan(0);
    expect(kills.length).toBeGreaterThanOrEqual(KILLS);
    expect(interruptedDeletes, 'kills that landed in the middle of a delete-user item').toBeGreaterThan(0);
    expect(leftUnfinished, 'kills that left approved items not done').toBeGreaterThan(0);

    // Every approved item is done, exactly once: plan items, history, audit events, journal.
    const items = await store.rows<ItemRow>('plan_items', 'seq');
    const byId = new Map(items.map((i) => [i.id, i]));
    expect(items.filter((i) => myIds.has(i.id) && i.status !== 'done').map((i) => `${i.seq} ${i.status}`)).toEqual([]);
    expect(items.filter((i) => otherIds.has(i.id)).map((i) => i.status)).toEqual(others.map(() => 'pending'));

    const historyExit = await cli(['history', '--format', 'json']);
    expectOk(historyExit, 'dormant history');
    const history = JSON.parse(historyExit.stdout) as HistoryJson;
    const histPlan = history.plans.find((p) => p.id === plan.id)!;
    for (const i of histPlan.items) expect(i.status, i.id).toBe(myIds.has(i.id) ? 'done' : 'pending');
    const doneEvents = new Map<string, number>();
    for (const e of history.events.filter((e) => e.kind === 'item.done')) {
      doneEvents.set(e.itemId ?? '', (doneEvents.get(e.itemId ?? '') ?? 0) + 1);
    }
    expect([...doneEvents.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(new Set(doneEvents.keys())).toEqual(myIds);

    const journal = await journalOf(store);
    const doneRows = new Map<string, number>();
    for (const r of journal.filter((r) => r.step === 'item' && r.phase === 'outcome' && r.status === 'done')) {
      doneRows.set(r.item_id, (doneRows.get(r.item_id) ?? 0) + 1);
    }
    expect([...doneRows.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(new Set(doneRows.keys())).toEqual(myIds);
    expect(journalProblems(journal, byId)).toEqual([]);
    // Nothing was journaled for items that were never approved: no delete-user intent, nothing.
    expect(journal.filter((r) => otherIds.has(r.item_id))).toEqual([]);
    expect(journal.every((r) => myIds.has(r.item_id))).toBe(true);

    // Every deleted user has a backup of its disable or delete item, with its group and inline
    // policy; the disable item's backup shows the user before any change.
    const backups = await store.rows<BackupRow>('backups', 'created_at');
    const perItem = new Map<string, number>();
    for (const b of backups) perItem.set(b.item_id ?? '', (perItem.get(b.item_id ?? '') ?? 0) + 1);
    expect(
      [...perItem.entries()].filter(([, n]) => n > 1),
      'more than one backup for an item',
    ).toEqual([]);
    for (const [i, name] of approvedUsers.entries()) {
      const userItems = mine.filter((m) => m.identityName === name);
      const disable = userItems.find((m) => m.action === 'disable-user')!;
      const mineBackups = backups.filter((b) => b.item_id !== null && userItems.some((m) => m.id === b.item_id));
      expect(mineBackups.length, `backups of ${name}`).toBeGreaterThan(0);
      for (const b of mineBackups) {
        // Backups are envelopes ({provider, kind, version, data}); the IAM snapshot is `data`.
        const data = (
          JSON.parse(b.data) as {
            data: { user: { name: string }; groups: string[]; inlinePolicies: { name: string; document: string }[] };
          }
        ).data;
        expect(data.user.name).toBe(name);
        expect(data.groups).toEqual([GROUPS[i % GROUPS.length]]);
        expect(data.inlinePolicies.map((p) => p.name)).toEqual([INLINE_POLICY]);
        expect(JSON.parse(data.inlinePolicies[0]!.document)).toEqual(JSON.parse(INLINE_DOCUMENT));
      }
      const before = backups.find((b) => b.item_id === disable.id);
      expect(before, `backup of ${name}'s disable item`).toBeDefined();
      const data = (
        JSON.parse(before!.data) as { data: { loginProfile: { exists: boolean }; accessKeys: { status: string }[] } }
      ).data;
      expect(data.loginProfile.exists, `${name} had its password in the backup`).toBe(true);
      expect(data.accessKeys.map((k) => k.status)).toEqual(i % 2 === 1 ? ['Active', 'Active'] : ['Active']);
    }

    // moto: the 60 are gone; the 10 unapproved are untouched.
    const limit = pLimit(8);
    const stillThere = await Promise.all(
      approvedUsers.map((n) => limit(async () => ((await userExists(n)) ? n : null))),
    );
    expect(stillThere.filter(Boolean)).toEqual([]);
    for (const [i, name] of otherUsers.entries()) {
      const keys = await iam.send(new ListAccessKeysCommand({ UserName: name }));
      expect(
        keys.AccessKeyMetadata?.map((k) => k.Status),
        name,
      ).toEqual((APPROVED_USERS + i) % 2 === 1 ? ['Active', 'Active'] : ['Active']);
      const login = await iam.send(new GetLoginProfileCommand({ UserName: name }));
      expect(login.LoginProfile?.UserName).toBe(name);
      const policy = await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: INLINE_POLICY }));
      expect(policy.PolicyName).toBe(INLINE_POLICY);
      const groups = await iam.send(new ListGroupsForUserCommand({ UserName: name }));
      expect(groups.Groups?.map((g) => g.GroupName)).toEqual([GROUPS[(APPROVED_USERS + i) % GROUPS.length]]);
    }
    for (const name of activeUsers.slice(0, 5)) expect(await userExists(name)).toBe(true);

    // The lock was released by the last run.
    expect(await store.rows<{ name: string }>('locks', 'name')).toEqual([]);
  }, 480_000);
});
