// The apply benchmark: disable 1,000 stale users on moto through the real engine (re-check,
// backup, journaled steps), with the journal and backups on SQLite and on PostgreSQL.
// Reports IAM calls per item and items per second for each store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/config.js';
import { apply } from '../src/engine/apply.js';
import { decide } from '../src/engine/decide.js';
import { scan } from '../src/engine/scan.js';
import { storePlan } from '../src/engine/storePlan.js';
import { createAwsClients } from '../src/providers/aws/aws-client.js';
import { AwsProvider } from '../src/providers/aws/aws-provider.js';
import { AwsRemediation } from '../src/providers/aws/aws-remediation.js';
import { Store } from '../src/store/store.js';
import { freshPgDatabase } from '../test/support/pg.js';
import { awsTestEnv, startMoto, type SeedUser } from '../test/support/moto.js';
import { type BenchOutcome, fmtMs, table } from './bench-util.js';

export interface ApplyBenchOptions {
  users: number;
}

const DAY = 86_400_000;

function staleUsers(count: number, now: number, prefix: string): SeedUser[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${String(i).padStart(4, '0')}`,
    createDate: new Date(now - 400 * DAY).toISOString(),
    password: true,
    passwordLastUsed: new Date(now - 200 * DAY).toISOString(),
    keys: [{ createDate: new Date(now - 390 * DAY).toISOString(), lastUsed: new Date(now - 210 * DAY).toISOString() }],
  }));
}

export async function runApplyBench(options: ApplyBenchOptions = { users: 1000 }): Promise<BenchOutcome> {
  const started = Date.now();
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const engine of ['sqlite', 'postgres'] as const) {
    const moto = await startMoto();
    const env = awsTestEnv(moto.endpoint);
    Object.assign(process.env, env);
    const dir = mkdtempSync(join(tmpdir(), 'dormant-apply-bench-'));
    const pg = engine === 'postgres' ? await freshPgDatabase() : null;
    const store = await Store.open(pg ? pg.url : join(dir, 'state.db'));
    try {
      await moto.seed({ users: staleUsers(options.users, Date.now(), 'stale') });
      const config = parseConfig({
        remediation: { deleteAfterDays: 30, maxActionsPerRun: 100_000, maxActionsPercent: 100 },
      });
      const aws = createAwsClients({
        profile: null,
        region: 'us-east-1',
        endpointUrl: moto.endpoint,
        maxAttempts: 5,
        retryMode: 'standard',
        concurrency: 8,
      });
      const result = await scan(
        new AwsProvider(aws, { source: 'report', maxReportAgeHours: 4, reportTimeoutSeconds: 60 }),
        {
          config,
        },
      );
      const { plan } = await storePlan(store, result, config, 'bench');
      const disables = plan.items.filter((i) => i.action === 'disable-user');
      await decide(store, {
        planId: plan.id,
        items: disables.map((i) => i.id),
        all: false,
        decision: 'approve',
        by: 'bench',
        reason: null,
        channel: 'cli',
      });
      const before = aws.calls.total('iam:');
      const t0 = Date.now();
      const report = await apply(
        store,
        new AwsRemediation(aws, { remediation: config.remediation, evidence: config.evidence }),
        {
          planId: plan.id,
          config,
          by: 'bench',
        },
      );
      const ms = Date.now() - t0;
      const calls = aws.calls.total('iam:') - before;
      const done = report.done.length;
      aws.destroy();
      rows.push([
        engine,
        String(done),
        String(report.failed.length + report.skipped.length),
        (calls / Math.max(done, 1)).toFixed(1),
        fmtMs(ms),
        (done / (ms / 1000)).toFixed(1),
      ]);
      results.push({ engine, done, failedOrSkipped: report.failed.length + report.skipped.length, calls, ms });
    } finally {
      await store.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
      await moto.stop();
    }
  }
  console.log(`\n== apply benchmark: disable ${options.users} users on moto (re-check, backup, journal) ==`);
  console.log(table(['store', 'items done', 'skipped/failed', 'IAM calls per item', 'wall', 'items/s'], rows));
  return {
    name: 'apply',
    goals: results.map((r) => ({
      benchmark: 'apply',
      goal: `${String(r.engine)}: every approved disable done`,
      measured: `${String(r.done)} done, ${String(r.failedOrSkipped)} skipped/failed`,
      pass: r.done === options.users && r.failedOrSkipped === 0,
    })),
    resultsFile: null,
    elapsedMs: Date.now() - started,
  };
}
