// Bad input and failures for the remediation commands, on both stores (SQLite in a temp file
// and a real PostgreSQL server): unknown plans and items, broken or unusable stores, and AWS
// failing in the middle of an item (through the fault proxy in front of moto), then resuming.
// DESIGN §3 (exit codes, one-line errors), §4 (journal, resume, DeleteConflict), §6 (bad input).
// Run `npm run build` first.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { storePlan } from '../src/engine/storePlan.js';
import type { ScanResult } from '../src/model/finding.js';
import type { PlanItem } from '../src/model/plan.js';
import { journalFor } from '../src/store/journal.js';
import { getPlan } from '../src/store/plans.js';
import { Store } from '../src/store/store.js';
import { type CliExit, type Workspace, describeRun, runInWorkspace } from './support/cli.js';
import { startFaultProxy, type FaultProxy, type FaultReply } from './support/faultProxy.js';
import {
  activeSeedUser as active,
  awsFinding,
  awsUser,
  scanResult,
  scanned,
  staleSeedUser as stale,
} from './support/identities.js';
import { iamHasLoginProfile, iamUserExists, useMoto } from './support/moto.js';
import { testPgUrl } from './support/pg.js';
import { ENGINES, useBothEngines, withStore } from './support/stores.js';

const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString();

/** Runs the built CLI asynchronously (the fault proxy runs in this process meanwhile). */
function dormant(ws: Workspace, args: string[], env: Record<string, string> = {}): Promise<CliExit> {
  return runInWorkspace(ws, args, { endpoint: moto.endpoint, env });
}

/** The documented error shape: exactly one line on stderr, `dormant: …`, no stack trace. */
function expectOneLineError(r: CliExit, code: number, pattern: RegExp): void {
  expect(r.code, describeRun(r)).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, describeRun(r)).toHaveLength(1);
  expect(lines[0]).toMatch(/^dormant: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const { moto, iam } = useMoto({ resetEach: true });
const stores = useBothEngines('dormant-errors-');

const userExists = (name: string): Promise<boolean> => iamUserExists(iam, name);
const hasLoginProfile = (name: string): Promise<boolean> => iamHasLoginProfile(iam, name);

/** A scan result built by hand: one stale user, for plans made without AWS. */
function handScan(): ScanResult {
  const identity = scanned(awsUser('stale-zed', ago(400)), { lastActivityAt: ago(300) });
  return scanResult(
    [identity],
    [
      awsFinding(identity.name, 'DORMANT-AWS-001', {
        id: 'f-1',
        rule: 'inactive-user',
        message: 'stale-zed is stale',
        lastActivityAt: ago(300),
        daysSinceActivity: 300,
        recommendedAction: 'disable-user',
      }),
    ],
  );
}

describe.each(ENGINES)('remediation errors, store %s', (engine) => {
  const workspace = (config = 'remediation:\n  deleteAfterDays: 0\n  maxActionsPercent: 100\n'): Promise<Workspace> =>
    stores.workspace(engine, config);

  async function items(ws: Workspace, planId: string): Promise<PlanItem[]> {
    return withStore(ws, async (store) => (await getPlan(store.db, planId))!.items);
  }

  async function planJson(ws: Workspace): Promise<{ id: string; items: { id: string; identityName: string }[] }> {
    const r = await dormant(ws, ['plan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(0);
    return JSON.parse(r.stdout) as { id: string; items: { id: string; identityName: string }[] };
  }

  it('apply of a plan that does not exist: exit 2, "not found", nothing written', async () => {
    const ws = await workspace();
    const r = await dormant(ws, ['apply', 'pl-doesnotexist']);
    expectOneLineError(r, 2, /plan pl-doesnotexist not found/);
    await withStore(ws, async (store) => {
      for (const t of ['plans', 'locks', 'journal', 'audit_events'] as const) {
        expect(await store.db.selectFrom(t).selectAll().execute()).toEqual([]);
      }
    });
  });

  it('approve of an unknown item or plan: exit 2, and no item of the command is approved', async () => {
    const ws = await workspace();
    const planId = await withStore(ws, async (store) => {
      const out = await storePlan(store, handScan(), parseConfig({}), 'tester');
      return out.plan.id;
    });
    // One good item and one unknown: all or nothing.
    expectOneLineError(
      await dormant(ws, ['approve', planId, '1', '99', '--by', 'alice']),
      2,
      new RegExp(`plan ${planId} has no item '99'`),
    );
    expectOneLineError(await dormant(ws, ['approve', 'pl-nope', '1']), 2, /plan pl-nope not found/);
    expect((await items(ws, planId)).map((i) => i.status)).toEqual(['pending', 'pending']);
    await withStore(ws, async (store) => {
      expect(await store.db.selectFrom('approvals').selectAll().execute()).toEqual([]);
    });
  });

  it('restore of a user that has no backup: exit 2, and AWS is not changed', async () => {
    const ws = await workspace();
    await moto.seed({ users: [stale('stale-yan')] });
    const r = await dormant(ws, ['restore', 'nobody-here']);
    expectOneLineError(r, 2, /no backup found for 'nobody-here'/);
    expect(await userExists('nobody-here')).toBe(false);
  });

  it('a corrupted store: a clear one-line error, and the store is left as it was', async () => {
    const ws = await workspace();
    if (engine === 'sqlite') {
      // 4 KB of random bytes where the SQLite file should be. Exit 3: a store dormant cannot use.
      writeFileSync(ws.db, randomBytes(4096));
      const before = sha256(ws.db);
      const r = await dormant(ws, ['history']);
      expectOneLineError(r, 3, /not a valid SQLite database[^\n]*left untouched/);
      expect(r.stderr).toContain(ws.db);
      expect(sha256(ws.db)).toBe(before);
      // No journal or WAL file was created beside it either.
      expect(readdirSync(ws.cwd).sort()).toEqual(['dormant.yml', 'state.db']);
    } else {
      // A database whose migration history is not dormant's (say, from a newer version).
      const url = ws.db;
      await withStore(ws, async () => undefined);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`INSERT INTO kysely_migration (name, timestamp) VALUES ('0000_from_elsewhere', 'x')`);
        const tables = async () =>
          (
            await client.query<{ t: string }>(
              `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
            )
          ).rows.map((row) => row.t);
        const migrations = async () =>
          (await client.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name')).rows;
        const [tablesBefore, migrationsBefore] = [await tables(), await migrations()];
        const r = await dormant(ws, ['history']);
        expectOneLineError(r, 3, /PostgreSQL store postgres:\/\/[^\n]*migration/);
        expect(await tables()).toEqual(tablesBefore);
        expect(await migrations()).toEqual(migrationsBefore);
      } finally {
        await client.query(`DELETE FROM kysely_migration WHERE name = '0000_from_elsewhere'`);
        await client.end();
      }
    }
  });

  it('an unusable store location: a clear one-line error', async () => {
    const ws = await workspace();
    if (engine === 'sqlite') {
      // A directory where the file should be: bad usage, exit 2.
      mkdirSync(ws.db);
      expectOneLineError(await dormant(ws, ['history']), 2, /is a directory[^\n]*--db/);
      // A path under a file: read-only commands find no store there, create nothing, and say so.
      const underFile = join(ws.cwd, 'dormant.yml', 'state.db');
      const read = await dormant({ ...ws, db: underFile }, ['history']);
      expect(read.code, read.stderr).toBe(0);
      expect(read.stdout).toMatch(/no store at .*state\.db yet/);
      expectOneLineError(
        await dormant({ ...ws, db: underFile }, ['approve', 'pl-nope', '--all']),
        2,
        /plan pl-nope not found/,
      );
    } else {
      // A database that does not exist, and a server that is not there; the password never shows.
      const base = new URL(testPgUrl());
      const missing = new URL(base);
      missing.pathname = `/dormant_t_missing_${randomBytes(4).toString('hex')}`;
      missing.password = 's3cret-pw';
      const r1 = await dormant({ ...ws, db: missing.toString() }, ['history']);
      expectOneLineError(r1, 3, /cannot use PostgreSQL store/);
      expect(r1.stderr).not.toContain('s3cret-pw');
      const closed = new URL(missing);
      closed.port = '1';
      const r2 = await dormant({ ...ws, db: closed.toString() }, ['history']);
      expectOneLineError(r2, 3, /cannot use PostgreSQL store[^\n]*ECONNREFUSED/);
      expect(r2.stderr).not.toContain('s3cret-pw');
      // Nothing was created on the server.
      const client = new pg.Client({ connectionString: testPgUrl() });
      await client.connect();
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [missing.pathname.slice(1)]);
      await client.end();
      expect(found.rows).toEqual([]);
    }
  });

  describe('AWS failing in the middle of an item', () => {
    let proxy: FaultProxy | undefined;
    let fault: ((action: string, params: URLSearchParams) => FaultReply | undefined) | undefined;

    beforeEach(async () => {
      fault = undefined;
      proxy = await startFaultProxy(moto.endpoint, { onRequest: (req) => fault?.(req.action, req.params) });
      return async () => {
        await proxy?.stop();
      };
    });

    const CONFIG = 'remediation:\n  deleteAfterDays: 0\n  maxActionsPercent: 100\naws:\n  maxAttempts: 2\n';

    async function twoApproved(ws: Workspace): Promise<{ planId: string; a: string[]; b: string[] }> {
      // Two active users too: maxActionsPercent counts actions (a disable and a delete each here)
      // against the number of identities, so 4 actions need an inventory of at least 4 at 100%.
      await moto.seed({ users: [stale('stale-a'), stale('stale-b'), active('active-c'), active('active-d')] });
      const p = await planJson(ws);
      const a = p.items.filter((i) => i.identityName === 'stale-a').map((i) => i.id);
      const b = p.items.filter((i) => i.identityName === 'stale-b').map((i) => i.id);
      expect([a.length, b.length]).toEqual([2, 2]);
      const r = await dormant(ws, ['approve', p.id, '--all', '--by', 'alice']);
      expect(r.code, describeRun(r)).toBe(0);
      return { planId: p.id, a, b };
    }

    it('a persistent 500 fails that item only (exit 3); apply again finishes it and redoes nothing', async () => {
      const ws = await workspace(CONFIG);
      const { planId, a, b } = await twoApproved(ws);
      fault = (action, params) =>
        action === 'DeleteUser' && params.get('UserName') === 'stale-a'
          ? { status: 500, code: 'InternalFailure', message: 'We encountered an internal error.' }
          : undefined;

      const first = await dormant(ws, ['apply', planId, '--endpoint-url', proxy!.url]);
      expect(first.code, describeRun(first)).toBe(3);
      expect(first.stdout).toMatch(/3 done, 0 skipped, 1 failed/);
      expect(first.stdout).toMatch(/failed: Delete user stale-a[^\n]*DeleteUser[^\n]*500/);
      expect(proxy!.requests.filter((r) => r.action === 'DeleteUser').length).toBeGreaterThanOrEqual(3);
      let now = await items(ws, planId);
      const byId = (id: string) => now.find((i) => i.id === id)!;
      expect(byId(a[0]!).status).toBe('done');
      expect(byId(a[1]!).status).toBe('failed');
      expect(byId(a[1]!).reason).toMatch(/iam:DeleteUser stale-a[^\n]*HTTP 500/);
      expect(b.map((id) => byId(id).status)).toEqual(['done', 'done']);
      expect(await userExists('stale-b')).toBe(false);
      expect(await userExists('stale-a')).toBe(true);
      expect(await hasLoginProfile('stale-a')).toBe(false);

      // The fault is gone: apply again.
      fault = undefined;
      const second = await dormant(ws, ['apply', planId, '--endpoint-url', proxy!.url]);
      expect(second.code, describeRun(second)).toBe(0);
      expect(second.stdout).toMatch(/1 done, 0 skipped, 0 failed/);
      expect(await userExists('stale-a')).toBe(false);
      now = await items(ws, planId);
      expect(now.map((i) => i.status)).toEqual(['done', 'done', 'done', 'done']);
      expect(now.find((i) => i.id === a[1])!.reason).toBeNull();

      // The journal: each item's `item` outcome `done` exactly once; the second run touched only the failed item.
      const journal = await withStore(ws, (store) => journalFor(store.db, { planId }));
      for (const id of [...a, ...b]) {
        const done = journal.filter((e) => e.itemId === id && e.step === 'item' && e.status === 'done');
        expect(done, `item ${id}`).toHaveLength(1);
      }
      const failedOnce = journal.filter((e) => e.itemId === a[1] && e.step === 'item' && e.status === 'failed');
      expect(failedOnce).toHaveLength(1);
      const secondRun = journal.filter((e) => e.runId !== journal[0]!.runId);
      expect(new Set(secondRun.map((e) => e.itemId))).toEqual(new Set([a[1]]));
      expect(secondRun.filter((e) => e.step === 'backup')).toEqual([]);
      expect(secondRun.filter((e) => e.phase === 'intent').map((e) => e.step)).toContain('delete-user');
    });

    it('a DeleteConflict fails only that item, with AWS message; the other user is deleted', async () => {
      const ws = await workspace(CONFIG);
      const { planId, a, b } = await twoApproved(ws);
      const message = 'Cannot delete entity, must detach all policies first.';
      fault = (action, params) =>
        action === 'DeleteUser' && params.get('UserName') === 'stale-a'
          ? { status: 409, code: 'DeleteConflict', message }
          : undefined;

      const r = await dormant(ws, ['apply', planId, '--endpoint-url', proxy!.url]);
      expect(r.code, describeRun(r)).toBe(3);
      expect(r.stdout).toMatch(/3 done, 0 skipped, 1 failed/);
      const now = await items(ws, planId);
      const failed = now.find((i) => i.id === a[1])!;
      expect(failed.status).toBe('failed');
      expect(failed.reason).toContain('DeleteConflict');
      expect(failed.reason).toContain(message);
      expect(now.find((i) => i.id === a[0])!.status).toBe('done');
      expect(b.map((id) => now.find((i) => i.id === id)!.status)).toEqual(['done', 'done']);
      expect(await userExists('stale-a')).toBe(true);
      expect(await userExists('stale-b')).toBe(false);
      // A 409 is an answer, not a transient error: asked once.
      expect(
        proxy!.requests.filter((q) => q.action === 'DeleteUser' && q.params.get('UserName') === 'stale-a'),
      ).toHaveLength(1);
    });
  });
});

// SQLite only: PostgreSQL's pages cannot be corrupted from a test.
describe('a corrupt SQLite store file', () => {
  it('a store with a good header but corrupt pages: the clear store error (exit 3), not an internal error', async () => {
    const cwd = mkdtempSync(join(stores.tmp, 'ws-'));
    writeFileSync(join(cwd, 'dormant.yml'), '{}\n');
    const ws: Workspace = { cwd, db: join(cwd, 'state.db') };
    const store = await Store.open(ws.db);
    await storePlan(store, handScan(), parseConfig({}), 'tester');
    await store.close();
    // Everything in the main file (no WAL left), then one table's root page overwritten.
    const probe = new Database(ws.db);
    probe.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = Number(probe.pragma('page_size', { simple: true }));
    const { rootpage } = probe.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'plan_items'`).get() as {
      rootpage: number;
    };
    probe.close();
    for (const side of ['-wal', '-shm']) rmSync(`${ws.db}${side}`, { force: true });
    expect(existsSync(`${ws.db}-wal`)).toBe(false);
    const bytes = readFileSync(ws.db);
    randomBytes(pageSize).copy(bytes, (rootpage - 1) * pageSize);
    writeFileSync(ws.db, bytes);
    const before = sha256(ws.db);

    const r = await dormant(ws, ['history']);
    expectOneLineError(r, 3, /store[^\n]*(not a valid SQLite database|corrupt|malformed)/);
    expect(sha256(ws.db)).toBe(before);
  });
});
