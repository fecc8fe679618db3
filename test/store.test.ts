// The store on both engines (DESIGN §5): SQLite in a temp file and a real PostgreSQL
// server. Migrations on open, all-or-nothing transactions, locks, and the plan/scan records.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { decide } from '../src/engine/decide.js';
import { storePlan } from '../src/engine/storePlan.js';
import { GuardError, UsageError } from '../src/errors.js';
import type { Finding, ScanResult, ScannedIdentity } from '../src/model/finding.js';
import type { Plan } from '../src/model/plan.js';
import {
  getItem,
  getPlan,
  insertPlan,
  listPlans,
  openItems,
  recordDecision,
  setItemStatus,
  snoozedUntil,
} from '../src/store/plans.js';
import { backupsForUser, getBackup, saveBackup } from '../src/store/backups.js';
import { saveScan } from '../src/store/scans.js';
import { Store } from '../src/store/store.js';
import { accessKey, awsFinding, awsUser, scanResult as builtScan, scanned } from './support/identities.js';
import { freshPgDatabase } from './support/pg.js';
import { ENGINES, useBothEngines } from './support/stores.js';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const DAY = 86_400_000;
const TABLES = [
  'scans',
  'identity_snapshots',
  'findings',
  'plans',
  'plan_items',
  'approvals',
  'journal',
  'backups',
  'audit_events',
  'locks',
  'review_messages',
  'tickets',
  'owner_notifications',
] as const;

function identity(name: string, state: ScannedIdentity['state'] = 'inactive'): ScannedIdentity {
  const key = accessKey({
    id: `AKIA${name.toUpperCase().padEnd(16, 'X')}`,
    createdAt: '2025-01-01T00:00:00Z',
    lastUsedAt: '2025-02-01T00:00:00Z',
    lastUse: 'used',
  });
  const user = awsUser(name, '2025-01-01T00:00:00Z', { credentials: [key], tags: { owner: `${name}@example.com` } });
  return scanned(user, { lastActivityAt: '2025-02-01T00:00:00Z', state });
}

function finding(name: string, ruleId: string, credentialId: string | null = null): Finding {
  return awsFinding(name, ruleId, {
    rule: ruleId === 'DORMANT-AWS-001' ? 'inactive-user' : 'unused-access-key',
    credentialId,
    message: `${name} is stale`,
    lastActivityAt: '2025-02-01T00:00:00Z',
    daysSinceActivity: 659,
    compliance: ['CIS AWS 1.12'],
    recommendedAction: ruleId === 'DORMANT-AWS-001' ? 'disable-user' : 'deactivate-key',
  });
}

/** Two stale users (one user-level finding each, one with a key finding too) and an active one. */
function scanResult(identities = [identity('alice'), identity('bob'), identity('carol', 'active')]): ScanResult {
  const names = identities.filter((i) => i.state === 'inactive').map((i) => i.name);
  const findings = names.flatMap((n) => [finding(n, 'DORMANT-AWS-001')]);
  if (names.includes('alice')) findings.push(finding('alice', 'DORMANT-AWS-002', 'AKIAALICEXXXXXXXXXXX'));
  return builtScan(identities, findings, { generatedAt: NOW.toISOString(), warnings: ['a warning'] });
}

const CONFIG = parseConfig({});

async function count(store: Store, table: (typeof TABLES)[number]): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The pid of a process that has exited (on this host). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  expect(child.pid).toBeGreaterThan(0);
  return child.pid!;
}

const stores = useBothEngines('dormant-store-');

describe.each(ENGINES)('store on %s', (engine) => {
  let url: string;
  let store: Store;
  const opened: Store[] = [];

  async function open(u = url): Promise<Store> {
    const s = await Store.open(u);
    opened.push(s);
    return s;
  }

  beforeEach(async () => {
    url = await stores.fresh(engine, `sqlite:${stores.sqliteFile()}`);
    store = await open();
    return async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    };
  });

  it('runs its migrations on open, and opening again changes nothing', async () => {
    // A database nobody has opened yet: the first open creates the schema.
    const fresh = engine === 'postgres' ? await freshPgDatabase() : null;
    try {
      const freshUrl = fresh?.url ?? `sqlite:${stores.sqliteFile('fresh')}`;
      const first = await open(freshUrl);
      const migrations = async (s: Store) =>
        (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(s.db)).rows.map(
          (r) => r.name,
        );
      expect(await migrations(first)).toEqual([
        '0001_initial',
        '0002_review',
        '0003_providers',
        '0004_dashboard_indexes',
        '0005_org_runs',
      ]);
      for (const t of TABLES) expect(await count(first, t)).toBe(0);
      await saveScan(first.db, scanResult());
      await first.close();

      // Opening again (and a second store at once) neither re-runs nor fails, and keeps the data.
      const [again, third] = await Promise.all([open(freshUrl), open(freshUrl)]);
      expect(await migrations(again)).toEqual([
        '0001_initial',
        '0002_review',
        '0003_providers',
        '0004_dashboard_indexes',
        '0005_org_runs',
      ]);
      expect(await count(again, 'scans')).toBe(1);
      expect(await count(third, 'scans')).toBe(1);
      await again.close();
      await third.close();
    } finally {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
      await fresh?.drop();
    }
  });

  it('saves a scan and a plan, and getPlan reads the same plan back', async () => {
    const result = scanResult();
    const out = await storePlan(store, result, CONFIG, 'tester', NOW);
    const { plan } = out;
    expect(plan.items.map((i) => [i.identityName, i.action])).toEqual([
      ['alice', 'disable-user'],
      ['alice', 'delete-user'],
      ['bob', 'disable-user'],
      ['bob', 'delete-user'],
    ]);

    const read = await getPlan(store.db, plan.id);
    expect(read).toEqual(plan);
    expect(read!.inventorySize).toBe(3);
    expect(read!.scanId).toBe(out.scanId);
    expect(read!.items[1]!.notBefore).toBe(new Date(NOW.getTime() + 30 * DAY).toISOString());
    expect(read!.items[1]!.dependsOn).toBe(read!.items[0]!.id);
    expect(await getItem(store.db, plan.items[2]!.id)).toEqual(plan.items[2]);
    expect(await getPlan(store.db, 'pl-nope')).toBeNull();
    expect(await listPlans(store.db)).toEqual([{ id: plan.id, createdAt: plan.createdAt, createdBy: 'tester' }]);

    // The scan: its summary, its findings, and snapshots of only the flagged identities.
    const scan = await store.db.selectFrom('scans').selectAll().executeTakeFirstOrThrow();
    expect(scan).toMatchObject({ id: out.scanId, created_at: result.generatedAt, source: 'api' });
    expect(JSON.parse(scan.summary)).toEqual(result.summary);
    expect(JSON.parse(scan.warnings)).toEqual(['a warning']);
    const snapshots = await store.db.selectFrom('identity_snapshots').selectAll().orderBy('name').execute();
    expect(snapshots.map((s) => s.name)).toEqual(['alice', 'bob']);
    expect(JSON.parse(snapshots[0]!.data)).toEqual(result.identities[0]);
    const findings = await store.db.selectFrom('findings').selectAll().orderBy('id').execute();
    expect(findings.map((f) => JSON.parse(f.data) as Finding)).toEqual(
      [...result.findings].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    expect(await count(store, 'audit_events')).toBe(1);

    // Open items are not planned twice.
    expect((await openItems(store.db)).map((i) => i.id).sort()).toEqual(plan.items.map((i) => i.id).sort());
    const second = await storePlan(store, scanResult(), CONFIG, 'tester', new Date(NOW.getTime() + DAY));
    expect(second.plan.items).toEqual([]);
    for (const name of ['alice', 'bob']) {
      expect(second.notes.some((n) => n.startsWith(`${name}:`) && n.includes(plan.id))).toBe(true);
    }
    expect(await count(store, 'plan_items')).toBe(4);

    // The item status round trip, with who decided.
    await setItemStatus(store.db, plan.items[0]!.id, 'approved', null, { by: 'alice', at: NOW.toISOString() });
    expect(await getItem(store.db, plan.items[0]!.id)).toMatchObject({
      status: 'approved',
      decidedBy: 'alice',
      decidedAt: NOW.toISOString(),
    });
  });

  it('a transaction that fails half-way leaves nothing written', async () => {
    // Insert the scan and the plan, then fail on the third item (a duplicate id).
    const result = scanResult();
    const { plan } = await storePlan(store, result, CONFIG, 'tester', NOW);
    const broken: Plan = {
      ...plan,
      id: 'pl-broken',
      items: plan.items.map((i, n) => ({
        ...i,
        planId: 'pl-broken',
        id: n === 2 ? 'pl-broken-1' : `pl-broken-${n + 1}`,
      })),
    };
    const before = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await count(store, t)])));
    await expect(
      store.transaction(async (trx) => {
        await saveScan(trx, result);
        await insertPlan(trx, broken);
      }),
    ).rejects.toThrow();
    const after = Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await count(store, t)])));
    expect(after).toEqual(before);
    expect(await getPlan(store.db, 'pl-broken')).toBeNull();

    // An error thrown by the caller after writes: rolled back, and the same error comes out.
    const mine = new UsageError('stop here');
    await expect(
      store.transaction(async (trx) => {
        await saveScan(trx, result);
        await store.audit(trx, { actor: 'x', kind: 'test' });
        throw mine;
      }),
    ).rejects.toBe(mine);
    expect(Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await count(store, t)])))).toEqual(before);

    // storePlan refuses an empty inventory after saving the scan: the scan goes too.
    await expect(storePlan(store, scanResult([]), CONFIG, 'tester', NOW)).rejects.toBeInstanceOf(GuardError);
    expect(Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await count(store, t)])))).toEqual(before);
  });

  it('a transaction rethrows an error of its callback as it is: only driver errors become store errors', async () => {
    // A bug in the caller (a TypeError) must not be reported as "cannot open store …" (exit 3).
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    await expect(
      store.transaction(async (trx) => {
        await store.audit(trx, { actor: 'x', kind: 'test' });
        throw bug;
      }),
    ).rejects.toBe(bug);
    expect(await count(store, 'audit_events')).toBe(0);
  });

  it('locks: one holder at a time; renew and release only by the owner', async () => {
    const first = await store.acquireLock('apply:pl-1', 60_000);
    expect(first).toHaveProperty('owner');
    const owner = (first as { owner: string }).owner;
    const second = await store.acquireLock('apply:pl-1', 60_000);
    expect(second).toEqual({ heldBy: expect.stringContaining(`pid ${process.pid} on ${hostname()}`) as unknown });
    expect((second as { heldBy: string }).heldBy).toContain(owner);
    // Another name is another lock.
    expect(await store.acquireLock('apply:pl-2', 60_000)).toHaveProperty('owner');

    // A second store on the same database sees the lock too.
    const other = await open();
    expect(await other.acquireLock('apply:pl-1', 60_000)).toHaveProperty('heldBy');

    // Renew: only the owner, and it moves the expiry forward.
    const row = async () =>
      store.db.selectFrom('locks').selectAll().where('name', '=', 'apply:pl-1').executeTakeFirstOrThrow();
    const expiresBefore = (await row()).expires_at;
    await new Promise((r) => setTimeout(r, 5));
    expect(await store.renewLock('apply:pl-1', owner, 120_000)).toBe(true);
    expect((await row()).expires_at > expiresBefore).toBe(true);
    expect(await store.renewLock('apply:pl-1', 'run-someone-else', 120_000)).toBe(false);
    expect(await store.renewLock('apply:pl-none', owner, 120_000)).toBe(false);

    // Release: a stranger's release does nothing; the owner's frees it.
    await store.releaseLock('apply:pl-1', 'run-someone-else');
    expect(await store.acquireLock('apply:pl-1', 60_000)).toHaveProperty('heldBy');
    await store.releaseLock('apply:pl-1', owner);
    expect(await count(store, 'locks')).toBe(1);
    const again = await other.acquireLock('apply:pl-1', 60_000);
    expect(again).toHaveProperty('owner');
  });

  it('withLock: runs the function holding the lock, refuses a second holder, releases even on a throw', async () => {
    const other = await open();
    let inside: unknown;
    const out = await store.withLock('apply:pl-w', 60_000, async (lease) => {
      inside = await other.withLock('apply:pl-w', 60_000, async () => 'never');
      expect(lease.lost()).toBe(false);
      return 'done';
    });
    expect(out).toEqual({ value: 'done' });
    expect(inside).toEqual({ held: expect.stringContaining(`pid ${process.pid}`) as unknown });
    expect(await count(store, 'locks')).toBe(0);
    await expect(
      store.withLock('apply:pl-w', 60_000, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await count(store, 'locks')).toBe(0);
  });

  it('backups are envelopes with their provider; a row from before envelopes reads as an AWS user backup', async () => {
    const envelope = {
      provider: 'entra' as const,
      kind: 'user' as const,
      version: 1,
      takenAt: NOW.toISOString(),
      account: 'tenant-1',
      identityId: 'object-1',
      identityName: 'bob@contoso.com',
      data: { user: { id: 'object-1' } },
    };
    const id = await saveBackup(store.db, { backup: envelope, planId: null, itemId: null });
    const saved = await getBackup(store.db, id);
    expect(saved).toMatchObject({ provider: 'entra', identityId: 'object-1', envelope });
    expect((await backupsForUser(store.db, 'object-1')).map((b) => b.id)).toEqual([id]);

    // A backup written by an earlier version: the IAM snapshot itself, no envelope.
    const legacy = { version: 1, takenAt: '2026-01-01T00:00:00.000Z', account: '123456789012', user: { name: 'old' } };
    await store.db
      .insertInto('backups')
      .values({
        id: 'bk-legacy',
        identity_id: 'arn:aws:iam::123456789012:user/old',
        identity_name: 'old',
        account: '123456789012',
        plan_id: null,
        item_id: null,
        created_at: '2026-01-01T00:00:00.000Z',
        data: JSON.stringify(legacy),
      })
      .execute();
    expect((await getBackup(store.db, 'bk-legacy'))!).toMatchObject({
      provider: 'aws',
      envelope: { provider: 'aws', kind: 'user', version: 1, identityName: 'old', data: legacy },
    });
  });

  it('locks: a lock whose process died on this host is taken over; a live one elsewhere is not', async () => {
    const far = new Date(Date.now() + 3_600_000).toISOString();
    const past = new Date(Date.now() - 1_000).toISOString();
    const lock = (name: string, owner: string, host: string, pid: number, expires: string) =>
      store.db
        .insertInto('locks')
        .values({ name, owner, host, pid, acquired_at: NOW.toISOString(), expires_at: expires })
        .execute();

    await lock('dead-here', 'run-dead', hostname(), deadPid(), far);
    await lock('live-elsewhere', 'run-far', 'some-other-host.example', process.pid, far);
    await lock('expired-elsewhere', 'run-old', 'some-other-host.example', 1, past);
    await lock('live-here', 'run-live', hostname(), process.pid, far);

    const dead = await store.acquireLock('dead-here', 60_000);
    expect(dead).toHaveProperty('owner');
    const taken = await store.db
      .selectFrom('locks')
      .selectAll()
      .where('name', '=', 'dead-here')
      .executeTakeFirstOrThrow();
    expect(taken).toMatchObject({ owner: (dead as { owner: string }).owner, pid: process.pid, host: hostname() });

    expect(await store.acquireLock('live-elsewhere', 60_000)).toEqual({
      heldBy: 'run-far (pid ' + String(process.pid) + ' on some-other-host.example)',
    });
    expect(await store.acquireLock('expired-elsewhere', 60_000)).toHaveProperty('owner');
    expect(await store.acquireLock('live-here', 60_000)).toHaveProperty('heldBy');

    // Two contenders for one stale lock: exactly one wins.
    await lock('contended', 'run-dead-2', hostname(), deadPid(), far);
    const other = await open();
    const results = await Promise.all([store.acquireLock('contended', 60_000), other.acquireLock('contended', 60_000)]);
    expect(results.filter((r) => 'owner' in r)).toHaveLength(1);
  });

  it('snoozedUntil: denied identities until the latest snooze that has not passed', async () => {
    const { plan } = await storePlan(store, scanResult(), CONFIG, 'tester', NOW);
    const [aliceDisable, , bobDisable, bobDelete] = plan.items;
    const at = NOW.toISOString();
    const in10 = new Date(NOW.getTime() + 10 * DAY).toISOString();
    const in20 = new Date(NOW.getTime() + 20 * DAY).toISOString();
    const ago = new Date(NOW.getTime() - DAY).toISOString();
    const base = { by: 'alice', reason: 'on leave', channel: 'cli', at };
    await recordDecision(store.db, { ...base, item: bobDisable!, decision: 'deny', snoozeUntil: in10 });
    await recordDecision(store.db, { ...base, item: bobDelete!, decision: 'deny', snoozeUntil: in20 });
    await recordDecision(store.db, { ...base, item: aliceDisable!, decision: 'deny', snoozeUntil: ago });
    await recordDecision(store.db, { ...base, item: aliceDisable!, decision: 'approve', snoozeUntil: in20 });

    const snoozed = await snoozedUntil(store.db, at);
    expect([...snoozed]).toEqual([[bobDisable!.identityId, in20]]);
    // After the snooze, nothing.
    expect((await snoozedUntil(store.db, new Date(NOW.getTime() + 21 * DAY).toISOString())).size).toBe(0);

    // Through decide(): a deny with a snooze keeps the identity out of the next plan.
    const denied = await decide(store, {
      planId: plan.id,
      items: ['1', '2'],
      all: false,
      decision: 'deny',
      by: 'carol',
      reason: 'still needed',
      channel: 'cli',
      snoozeDays: 30,
      now: NOW,
    });
    expect(denied.changed.map((i) => i.status)).toEqual(['denied', 'denied']);
    const until = (await snoozedUntil(store.db, at)).get(aliceDisable!.identityId);
    expect(until).toBe(new Date(NOW.getTime() + 30 * DAY).toISOString());
    const next = await storePlan(store, scanResult(), CONFIG, 'tester', new Date(NOW.getTime() + DAY));
    expect(next.plan.items.map((i) => i.identityName)).not.toContain('alice');
    expect(next.notes).toContain(`alice: snoozed until ${until!}`);
  });
});
