// `dormant worker` and `scan --org --workers` on the real PostgreSQL server (issue 9, DESIGN §8):
// two workers share a run and one is killed with SIGKILL mid-account (its job expires and the
// other scans that account again, counted once); a second coordinator of the same run is
// refused (exit 4); the queue's database vanishing under the coordinator exits 3 with one line
// and a rerun with the same --run-id resumes; a worker on SQLite exits 2. The accounts are
// reached through a latency proxy, so that each takes long enough to be killed in the middle.
import net from 'node:net';
import pg from 'pg';
import PgBoss from 'pg-boss';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountOutcome } from '../src/engine/org-scan.js';
import { UsageError } from '../src/errors.js';
import type { ScanResult } from '../src/model/finding.js';
import { type OrgRunSettings, saveOutcome } from '../src/store/org-runs.js';
import { Store } from '../src/store/store.js';
import { queueRunner } from '../src/workflow/org-queue/coordinator.js';
import { SCAN_QUEUE, doneQueue, jobSchema } from '../src/workflow/org-queue/queue.js';
import { type RunningCli, describeRun, runCli, startCli } from './support/cli.js';
import { type FaultProxy, startFaultProxy } from './support/faultProxy.js';
import { activeSeedUser, staleSeedUser } from './support/identities.js';
import { type BuiltOrg, buildOrg } from './support/motoOrg.js';
import { type MotoServer, startMoto } from './support/moto.js';
import { type FreshPgDatabase, freshPgDatabase } from './support/pg.js';
import { freshDir, writeConfig } from './scan-helpers.js';

let moto: MotoServer;
let slow: FaultProxy;
let org: BuiltOrg;
let db: FreshPgDatabase;
let dir: string;
let config: string;
const running: RunningCli[] = [];
const MEMBERS = 8;

beforeAll(async () => {
  moto = await startMoto();
  org = await buildOrg(moto, {
    accounts: Array.from({ length: MEMBERS }, (_, i) => ({
      name: `member-${i}`,
      users: [staleSeedUser(`old-${i}`), activeSeedUser(`ci-${i}`)],
    })),
  });
  // 150 ms a call: an account (a dozen calls) takes a couple of seconds.
  slow = await startFaultProxy(moto.endpoint, { onRequest: () => ({ delayMs: 150 }) });
  db = await freshPgDatabase();
  dir = freshDir('dormant-workers-');
  config = writeConfig(dir, 'aws:\n  organization:\n    jobTimeoutSeconds: 4\n    retryLimit: 3\n    concurrency: 1\n');
}, 120_000);

afterAll(async () => {
  for (const r of running) r.kill();
  await Promise.all(running.map((r) => r.exited.catch(() => undefined)));
  await slow?.stop();
  await moto?.stop();
  await db?.drop();
});

function start(args: string[], url = db.url): RunningCli {
  const r = startCli(['--config', config, '--db', url, ...args], {
    cwd: dir,
    endpoint: slow.url,
    timeoutMs: 120_000,
  });
  running.push(r);
  return r;
}

async function query<T>(sql: string, params: unknown[] = [], url = db.url): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const results = (run: string) =>
  query<{ account: string; worker: string }>('select account, worker from org_results where run_id = $1', [run]);

function runIdOf(stderr: string): string {
  const m = /(?:resuming run|run) (run-[a-z0-9]+):/.exec(stderr);
  if (!m) throw new Error(`no run id in: ${stderr}`);
  return m[1]!;
}

/** A TCP pass-through to PostgreSQL that the test can cut, like a database that goes away. */
async function cuttableProxy(target: string): Promise<{ url: string; cut(): void }> {
  const u = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(u.port || 5432), u.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const via = new URL(target);
  via.hostname = '127.0.0.1';
  via.port = String(port);
  return {
    url: via.toString(),
    cut() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe('dormant worker', () => {
  it('shares a run between two workers; one killed mid-account, every account is scanned and counted once', async () => {
    const a = start(['worker', '--concurrency', '1']);
    const b = start(['worker', '--concurrency', '1']);
    const coordinator = start(['scan', '--org', '--workers', '--format', 'json']);
    const run = await (async () => {
      await until('the run id', async () => /run run-/.test(coordinator.stderr()));
      return runIdOf(coordinator.stderr());
    })();
    // Worker a is in the middle of its first account (each takes a couple of seconds).
    await until('worker a to take a job', async () => /taking jobs/.test(a.stderr()));
    await new Promise((r) => setTimeout(r, 1200));
    a.kill('SIGKILL');
    const exit = await coordinator.exited;
    expect(exit.code, describeRun(exit)).toBe(0);
    const doc = JSON.parse(exit.stdout) as ScanResult;
    const members = org.accounts.map((x) => x.id);
    expect([...doc.accounts].sort()).toEqual([org.managementId, ...members].sort());
    for (let i = 0; i < MEMBERS; i++) {
      expect(doc.identities.filter((x) => x.name === `old-${i}`)).toHaveLength(1);
      expect(doc.identities.find((x) => x.name === `old-${i}`)?.state).toBe('inactive');
    }
    const rows = await results(run);
    expect(rows).toHaveLength(MEMBERS + 1);
    expect(new Set(rows.map((r) => r.account)).size).toBe(MEMBERS + 1);
    // The killed worker finished no account after its kill; b did the rest, including a's.
    expect(rows.filter((r) => r.worker.endsWith(`:${b.pid}`)).length).toBeGreaterThanOrEqual(MEMBERS);
    expect(a.exit?.signal).toBe('SIGKILL');
    b.kill('SIGTERM');
    const stopped = await b.exited;
    expect(stopped.code, describeRun(stopped)).toBe(0);
  }, 120_000);

  it('refuses a second coordinator of the same run, and resumes a run whose database vanished', async () => {
    const proxy = await cuttableProxy(db.url);
    const first = start(['scan', '--org', '--workers', '--format', 'json'], proxy.url);
    await until('the run id', async () => /run run-/.test(first.stderr()));
    const run = runIdOf(first.stderr());

    const second = await runCli(['--config', config, '--db', db.url, 'scan', '--org', '--workers', '--run-id', run], {
      cwd: dir,
      endpoint: slow.url,
      timeoutMs: 60_000,
    });
    expect(second.code, describeRun(second)).toBe(4);
    expect(second.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(`^dormant: run ${run} already has a coordinator \\(.+\\); wait for it, or stop it first$`),
    );

    // A worker finishes a few accounts, then the coordinator's database goes away.
    const w = start(['worker', '--concurrency', '1']);
    await until('two finished accounts', async () => (await results(run)).length >= 2);
    proxy.cut();
    const cut = await first.exited;
    expect(cut.code, describeRun(cut)).toBe(3);
    expect(cut.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^dormant: the queue's database \\(.+\\) is unreachable \\(.+\\); rerun with --run-id ${run} to resume$`,
      ),
    );
    expect(cut.stdout).toBe('');

    const resumed = await runCli(
      ['--config', config, '--db', db.url, 'scan', '--org', '--workers', '--run-id', run, '--format', 'json'],
      {
        cwd: dir,
        endpoint: slow.url,
        timeoutMs: 90_000,
      },
    );
    expect(resumed.code, describeRun(resumed)).toBe(0);
    expect(resumed.stderr).toContain(`resuming run ${run}:`);
    const doc = JSON.parse(resumed.stdout) as ScanResult;
    expect(doc.accounts).toHaveLength(MEMBERS + 1);
    const rows = await results(run);
    expect(rows).toHaveLength(MEMBERS + 1);
    w.kill('SIGTERM');
    await w.exited;
  }, 150_000);

  it('needs PostgreSQL: a worker on SQLite exits 2, and scan --workers on SQLite scans in its own process', async () => {
    const sqlite = `${dir}/state.db`;
    const w = await runCli(['--config', config, '--db', sqlite, 'worker'], { cwd: dir, endpoint: moto.endpoint });
    expect(w.code, describeRun(w)).toBe(2);
    expect(w.stderr.trim()).toBe(
      'dormant: dormant worker needs a PostgreSQL store (store.url or --db postgres://…); with SQLite, scan --org does all the work in one process',
    );
    const s = await runCli(['--config', config, '--db', sqlite, 'scan', '--org', '--workers', '--format', 'json'], {
      cwd: dir,
      endpoint: moto.endpoint,
      timeoutMs: 60_000,
    });
    expect(s.code, describeRun(s)).toBe(0);
    expect(s.stderr).toContain(
      'dormant: warning: --workers needs the PostgreSQL store (store.url or --db postgres://…); scanning the accounts in this process',
    );
    expect((JSON.parse(s.stdout) as ScanResult).accounts).toHaveLength(MEMBERS + 1);
  }, 90_000);
});

// The coordinator on its own, with a stand-in worker on the same queue: the "no worker yet"
// notice, an account whose every attempt failed (dead-lettered: a failure outcome naming the
// attempts and the rerun), the run's done queue dropped at the end, and a resume with other
// settings refused.
describe('the queue coordinator', () => {
  it('says when no worker takes jobs, turns a job that failed every attempt into a failure, and refuses other settings on resume', async () => {
    const own = await freshPgDatabase();
    const store = await Store.open(own.url);
    const lines: string[] = [];
    const log = pino(
      { level: 'info' },
      { write: (s: string) => void lines.push((JSON.parse(s) as { msg: string }).msg) },
    );
    const settings: OrgRunSettings = {
      provider: 'aws',
      inactiveDays: 90,
      asOf: '2026-11-30T12:00:00.000Z',
      source: null,
      resolveKeys: 'none',
    };
    const runId = 'run-coordinatortest';
    const accounts = [
      { id: '111111111111', name: 'fine' },
      { id: '222222222222', name: 'crashes' },
    ];
    const timing = { jobTimeoutSeconds: 5, retryLimit: 1 };
    const finished: [string, boolean][] = [];
    const progress = {
      start: () => undefined,
      stop: () => undefined,
      done: (a: { id: string }, failed: boolean) => void finished.push([a.id, failed]),
    };
    const stand = new PgBoss({ connectionString: own.url, schema: 'dormant_queue', max: 2 });
    try {
      const run = queueRunner({ store, url: own.url, runId, settings, timing, log, idleNoticeMs: 400 })(
        accounts,
        progress,
      );
      const notice = `no dormant worker has taken a job of run ${runId} yet; start one: dormant worker --db <the same postgres:// URL>`;
      await until('the no-worker notice', async () => lines.includes(notice), 10_000);

      const attempts = new Map<string, number>();
      await stand.start();
      await stand.work(SCAN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        const data = jobSchema.parse(job!.data);
        attempts.set(data.account, (attempts.get(data.account) ?? 0) + 1);
        if (data.name === 'crashes') throw new Error('worker crashed');
        const result = { accounts: [data.account], identities: [] } as unknown as ScanResult;
        await saveOutcome(store.db, runId, { account: data.account, result }, 'stand-in');
        await stand.send(doneQueue(runId), { kind: 'done', account: data.account });
      });
      const out: AccountOutcome[] = await run;

      expect(out.map((o) => o.account)).toEqual(['111111111111', '222222222222']);
      expect('result' in out[0]! && out[0].result.accounts).toEqual(['111111111111']);
      expect('failure' in out[1]! && out[1].failure.reason).toBe(
        `no worker finished the scan of account 222222222222 (crashes) after 2 attempts; see the workers' logs, then rerun with --run-id ${runId} to resume`,
      );
      expect(attempts.get('222222222222')).toBe(2);
      expect(finished.sort()).toEqual([
        ['111111111111', false],
        ['222222222222', true],
      ]);
      expect(lines.filter((l) => l === notice)).toHaveLength(1);
      const left = await query('select name from dormant_queue.queue where name = $1', [doneQueue(runId)], own.url);
      expect(left).toEqual([]);

      const other = queueRunner({
        store,
        url: own.url,
        runId,
        settings: { ...settings, inactiveDays: 30 },
        timing,
        log,
      });
      const refused = await other(accounts, undefined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UsageError);
      expect((refused as Error).message).toMatch(
        new RegExp(
          `^run ${runId} was started with other settings \\(.+\\); rerun it with the same flags, or start a new run without --run-id$`,
        ),
      );
    } finally {
      await stand.stop({ graceful: false, wait: true }).catch(() => undefined);
      await store.close();
      await own.drop();
    }
  }, 60_000);
});
