// The scan benchmark (DESIGN §7): on moto with a realistic 5,000-user account, the IAM calls
// and wall time of dormant's scan through the report source and the API source, next to the
// naive sequential approach measured in the same run; the report source's collection calls at
// two account sizes; and the peak RSS of a whole CLI scan in a child process.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { format, resolveConfig } from 'prettier';
import { type Config, parseConfig } from '../src/config/config.js';
import { listAllUsers, readIdentity } from '../src/providers/aws/aws-api-source.js';
import { type MotoServer, awsTestEnv, startMoto } from '../test/support/moto.js';
import {
  type BenchOutcome,
  type Goal,
  type Measured,
  findChildPid,
  fmtInt,
  fmtMs,
  measure,
  median,
  peakRss,
  table,
} from './bench-util.js';
import {
  type CallsByOperation,
  type CollectRun,
  type NaiveRun,
  type ScanRun,
  benchClients,
  collectReportOnce,
  iamTotal,
  naiveOnce,
  scanOnce,
} from './scan-approaches.js';
import { type AccountMix, syntheticAccount } from './scan-seed.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const SCAN_RESULTS_FILE = join(ROOT, 'bench', 'results', 'scan-latest.json');

/** The goals of the issue (DESIGN §7). */
export const SCAN_GOALS = {
  reportCollectMaxCalls: 5,
  reportMinSpeedup: 50,
  apiMinSpeedup: 5,
  maxRssMb: 200,
} as const;

export interface ScanBenchOptions {
  /** Users in the account (the IAM quota per account). */
  users: number;
  /** The smaller account for the collection-scaling check. */
  smallUsers: number;
  /** Measured runs per approach (the median is reported). */
  runs: number;
  /**
   * full: every approach gets 1 warm-up and all its runs. budget: the report source gets its
   * warm-up; the long approaches (API, naive) share one short warm-up of every IAM operation
   * and stop adding runs once they have used `budgetMs` (at least one run each).
   */
  mode: 'full' | 'budget';
  budgetMs: number;
  /** PRNG seed of the synthetic account. */
  seed: number;
  resultsFile: string;
  /** Results (stdout). */
  out: (line: string) => void;
  /** Progress (stderr). */
  log: (line: string) => void;
}

export const DEFAULT_SCAN_BENCH: ScanBenchOptions = {
  users: 5000,
  smallUsers: 1000,
  runs: 5,
  mode: 'budget',
  budgetMs: 60_000,
  seed: 20260522,
  resultsFile: SCAN_RESULTS_FILE,
  out: (line) => process.stdout.write(`${line}\n`),
  log: (line) => process.stderr.write(`${line}\n`),
};

interface ApproachResult {
  key: string;
  label: string;
  /** In the goals (the default config) or an extra data point. */
  extra: boolean;
  runs: number;
  warmup: boolean;
  stoppedBy: 'runs' | 'budget';
  medianMs: number;
  msRuns: number[];
  iamCalls: number;
  iamCallsRange: [number, number];
  calls: CallsByOperation;
  nodeCpuMs: number | null;
  motoCpuMs: number | null;
  speedup: number | null;
  detail: Record<string, unknown>;
}

function summarise<T extends { calls: CallsByOperation; iamCalls: number }>(
  key: string,
  label: string,
  m: Measured<T>,
  extra: boolean,
  detail: (last: T) => Record<string, unknown>,
): ApproachResult {
  const last = m.runs[m.runs.length - 1]!.value;
  const counts = m.runs.map((r) => r.value.iamCalls);
  const motoCpu = m.runs.map((r) => r.serverCpuMs);
  return {
    key,
    label,
    extra,
    runs: m.runs.length,
    warmup: m.warmup !== null,
    stoppedBy: m.stoppedBy,
    medianMs: m.medianMs,
    msRuns: m.runs.map((r) => Math.round(r.ms)),
    iamCalls: last.iamCalls,
    iamCallsRange: [Math.min(...counts), Math.max(...counts)],
    calls: last.calls,
    nodeCpuMs: median(m.runs.map((r) => r.nodeCpuMs)),
    motoCpuMs: motoCpu.every((c) => c !== null) ? median(motoCpu as number[]) : null,
    speedup: null,
    detail: detail(last),
  };
}

function scanDetail(run: ScanRun): Record<string, unknown> {
  return {
    collectMs: Math.round(run.collectMs),
    enrichMs: Math.round(run.enrichMs),
    collectIamCalls: iamTotal(run.collectCalls),
    enrichIamCalls: iamTotal(run.enrichCalls),
    collectCalls: run.collectCalls,
    enrichCalls: run.enrichCalls,
    flaggedUsers: run.flaggedUsers,
    keySlotUsers: run.keySlotUsers,
    summary: run.summary,
    findingsByRule: run.findingsByRule,
    warnings: run.warnings,
  };
}

function cleanEnv(endpoint: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('AWS_') || k.startsWith('DORMANT_') || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  return {
    ...env,
    ...awsTestEnv(endpoint),
    NO_COLOR: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

function ops(calls: CallsByOperation): string {
  return Object.entries(calls)
    .filter(([op]) => op.startsWith('iam:'))
    .map(([op, n]) => `${op.slice(4)} ${fmtInt(n)}`)
    .join(', ');
}

function motoVersion(): string | null {
  try {
    return execFileSync('python3', ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/**
 * Budget mode: a short warm-up of every IAM operation the API source and the naive loop use
 * (ListUsers, ListAccessKeys, GetAccessKeyLastUsed, GetLoginProfile), concurrent then
 * sequential, so their first measured run is not a cold one.
 */
async function sharedWarmup(endpoint: string, sampleUsers: number): Promise<void> {
  const aws = benchClients(endpoint, 8);
  try {
    const users = (await listAllUsers(aws)).slice(0, sampleUsers);
    const limit = pLimit(8);
    await Promise.all(users.map((u) => limit(() => readIdentity(aws, u))));
    for (const u of users.slice(0, sampleUsers / 4)) await readIdentity(aws, u);
  } finally {
    aws.destroy();
  }
}

interface ScalingRow {
  users: number;
  cold: CollectRun;
  warm: CollectRun[];
  warmMedianMs: number;
  coldMs: number;
}

async function collectionScaling(
  moto: MotoServer,
  account: ReturnType<typeof syntheticAccount>,
  sizes: number[],
  config: Config,
  o: ScanBenchOptions,
): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = [];
  for (const size of sizes) {
    await moto.reset();
    await moto.seed({ users: account.users.slice(0, size) });
    o.log(`collection scaling: ${fmtInt(size)} users seeded`);
    // First collect after seeding: no report yet (it is generated); then steady state.
    const m = await measure(`collect ${size}`, () => collectReportOnce(moto.endpoint, config), {
      runs: o.runs + 1,
      warmup: false,
      budgetMs: null,
      log: o.log,
    });
    const [cold, ...warm] = m.runs;
    if (cold!.value.identities !== size || warm.some((w) => w.value.identities !== size)) {
      throw new Error(`the report source collected ${cold!.value.identities} identities, expected ${size}`);
    }
    rows.push({
      users: size,
      cold: cold!.value,
      coldMs: cold!.ms,
      warm: warm.map((w) => w.value),
      warmMedianMs: median(warm.map((w) => w.ms)),
    });
  }
  return rows;
}

interface RssRow {
  source: 'report' | 'api';
  peakMb: number;
  wallMs: number;
  exitCode: number | null;
  identities: number | null;
  findings: number | null;
}

async function scanRss(endpoint: string, source: 'report' | 'api', users: number): Promise<RssRow> {
  const dir = mkdtempSync(join(tmpdir(), 'dormant-bench-scan-'));
  try {
    const output = join(dir, 'x.json');
    const r = await peakRss([CLI, 'scan', '--source', source, '--format', 'json', '--output', output], {
      env: cleanEnv(endpoint),
      cwd: dir,
      timeoutMs: 600_000,
    });
    let identities: number | null = null;
    let findings: number | null = null;
    try {
      const doc = JSON.parse(readFileSync(output, 'utf8')) as { summary?: { identities: number; findings: number } };
      identities = doc.summary?.identities ?? null;
      findings = doc.summary?.findings ?? null;
    } catch {
      // Reported below as a failed run.
    }
    if (r.exitCode !== 0 || identities !== users) {
      throw new Error(
        `dormant scan --source ${source} exited ${r.exitCode} with ${identities ?? 'no'} identities (expected ${users})\n${r.stderr}`,
      );
    }
    return { source, peakMb: r.peakKb / 1024, wallMs: r.wallMs, exitCode: r.exitCode, identities, findings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run the scan benchmark, print its tables, write its JSON, and return the goals. */
export async function runScanBench(partial: Partial<ScanBenchOptions> = {}): Promise<BenchOutcome> {
  const o: ScanBenchOptions = { ...DEFAULT_SCAN_BENCH, ...partial };
  const started = performance.now();
  const load0 = loadavg();
  // Only moto's test credentials, in this process and its children.
  for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

  const config = parseConfig({});
  const noRotation = parseConfig({ rules: { 'unrotated-access-key': { enabled: false } } });
  const account = syntheticAccount(o.users, { seed: o.seed, now: Date.now() });
  const full = o.mode === 'full';
  const budgetMs = full ? null : o.budgetMs;

  o.log(`scan bench: starting moto (${o.mode} mode, ${o.runs} runs, budget ${full ? 'none' : fmtMs(o.budgetMs)})`);
  const moto = await startMoto();
  const motoPid = findChildPid('moto_launcher.py');
  try {
    // 1. The report source's collection at two sizes (moto is reset between them).
    const sizes = [...new Set([o.smallUsers, o.users])].sort((a, b) => a - b);
    const scaling = await collectionScaling(moto, account, sizes, config, o);

    // The full account is seeded now (the last size above).
    const approaches: ApproachResult[] = [];
    const common = { runs: o.runs, budgetMs, serverPid: motoPid, log: o.log };

    // 2. Report source through scan(), default config.
    o.log('report source (default config)');
    const report = await measure('report', () => scanOnce(moto.endpoint, 'report', 8, config), {
      ...common,
      warmup: true,
    });
    approaches.push(summarise('report', 'report source, scan()', report, false, scanDetail));

    // 2b. The same without the rotation rule: how much of the enrichment it causes.
    o.log('report source (unrotated-access-key off)');
    const reportNoRot = await measure('report-no-rotation', () => scanOnce(moto.endpoint, 'report', 8, noRotation), {
      ...common,
      runs: full ? o.runs : Math.min(o.runs, 3),
      warmup: full,
    });
    approaches.push(
      summarise('report-no-rotation', 'report source, unrotated-access-key off', reportNoRot, true, scanDetail),
    );

    if (!full) {
      o.log('shared warm-up of the API operations');
      await sharedWarmup(moto.endpoint, 200);
    }

    // 3. API source through scan(), default concurrency 8, then 16.
    for (const concurrency of [8, 16]) {
      o.log(`API source, concurrency ${concurrency}`);
      const cfg = parseConfig({ aws: { concurrency } });
      const api = await measure(`api c${concurrency}`, () => scanOnce(moto.endpoint, 'api', concurrency, cfg), {
        ...common,
        warmup: full,
      });
      approaches.push(
        summarise(
          `api-c${concurrency}`,
          `API source, scan(), concurrency ${concurrency}`,
          api,
          concurrency !== 8,
          scanDetail,
        ),
      );
    }

    // 4. Naive sequential.
    o.log('naive sequential');
    const naive = await measure('naive', () => naiveOnce(moto.endpoint), { ...common, warmup: full });
    approaches.push(
      summarise(
        'naive',
        'naive sequential (ListUsers → ListAccessKeys → GetAccessKeyLastUsed)',
        naive,
        false,
        (r: NaiveRun) => ({
          users: r.users,
          keys: r.keys,
          usedKeys: r.usedKeys,
        }),
      ),
    );
    const naiveMs = naive.medianMs;
    for (const a of approaches) a.speedup = naiveMs / a.medianMs;

    // 5. Peak RSS of a whole CLI scan in a child process.
    const rss: RssRow[] = [];
    for (const source of ['report', 'api'] as const) {
      o.log(`peak RSS: dormant scan --source ${source}`);
      rss.push(await scanRss(moto.endpoint, source, o.users));
    }

    const elapsedMs = performance.now() - started;
    const goals = scanGoals(scaling, approaches, rss);
    printScan(o, account.mix, scaling, approaches, rss, goals);

    const results = {
      benchmark: 'scan',
      generatedAt: new Date().toISOString(),
      elapsedMs: Math.round(elapsedMs),
      options: { users: o.users, smallUsers: o.smallUsers, runs: o.runs, mode: o.mode, budgetMs, seed: o.seed },
      environment: {
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? null,
        moto: motoVersion(),
        loadAverageStart: load0,
        loadAverageEnd: loadavg(),
      },
      account: account.mix,
      collectionScaling: scaling.map((s) => ({
        users: s.users,
        coldIamCalls: s.cold.iamCalls,
        coldCalls: s.cold.calls,
        coldMs: Math.round(s.coldMs),
        warmIamCalls: s.warm.map((w) => w.iamCalls),
        warmCalls: s.warm[0]?.calls ?? {},
        warmMedianMs: Math.round(s.warmMedianMs),
      })),
      approaches: approaches.map((a) => ({
        ...a,
        medianMs: Math.round(a.medianMs),
        nodeCpuMs: a.nodeCpuMs === null ? null : Math.round(a.nodeCpuMs),
        motoCpuMs: a.motoCpuMs === null ? null : Math.round(a.motoCpuMs),
        speedup: a.speedup === null ? null : Number(a.speedup.toFixed(2)),
      })),
      rss: rss.map((r) => ({ ...r, peakMb: Number(r.peakMb.toFixed(1)), wallMs: Math.round(r.wallMs) })),
      goals,
    };
    mkdirSync(dirname(o.resultsFile), { recursive: true });
    // Formatted like the rest of the repository, so `prettier --check .` passes even if it is committed.
    writeFileSync(
      o.resultsFile,
      await format(JSON.stringify(results), { ...(await resolveConfig(o.resultsFile)), parser: 'json' }),
    );
    o.out(`\nresults: ${o.resultsFile}`);
    return { name: 'scan', goals, resultsFile: o.resultsFile, elapsedMs };
  } finally {
    await moto.stop();
  }
}

function scanGoals(scaling: ScalingRow[], approaches: ApproachResult[], rss: RssRow[]): Goal[] {
  const by = (key: string) => approaches.find((a) => a.key === key)!;
  const report = by('report');
  const api = by('api-c8');
  const collectCounts = [
    ...scaling.flatMap((s) => [s.cold.iamCalls, ...s.warm.map((w) => w.iamCalls)]),
    report.detail['collectIamCalls'] as number,
  ];
  const maxCollect = Math.max(...collectCounts);
  const perSize = scaling
    .map((s) => `${fmtInt(s.users)} users: ${s.cold.iamCalls} cold / ${s.warm[0]?.iamCalls ?? '?'} warm`)
    .join('; ');
  const goals: Goal[] = [
    {
      benchmark: 'scan',
      goal: `report source: ≤ ${SCAN_GOALS.reportCollectMaxCalls} IAM calls to collect the inventory, whatever the size`,
      measured: `max ${maxCollect} (${perSize})`,
      pass: maxCollect <= SCAN_GOALS.reportCollectMaxCalls,
    },
    {
      benchmark: 'scan',
      goal: `report source: ≥ ${SCAN_GOALS.reportMinSpeedup}× faster than naive`,
      measured: `${report.speedup!.toFixed(1)}× (${fmtMs(report.medianMs)} vs ${fmtMs(by('naive').medianMs)})`,
      pass: report.speedup! >= SCAN_GOALS.reportMinSpeedup,
    },
    {
      benchmark: 'scan',
      goal: `API source (concurrency 8): ≥ ${SCAN_GOALS.apiMinSpeedup}× faster than naive`,
      measured: `${api.speedup!.toFixed(1)}× (${fmtMs(api.medianMs)} vs ${fmtMs(by('naive').medianMs)})`,
      pass: api.speedup! >= SCAN_GOALS.apiMinSpeedup,
    },
  ];
  for (const r of rss) {
    goals.push({
      benchmark: 'scan',
      goal: `peak RSS of a whole ${r.source}-source scan < ${SCAN_GOALS.maxRssMb} MB`,
      measured: `${r.peakMb.toFixed(1)} MB`,
      pass: r.peakMb < SCAN_GOALS.maxRssMb,
    });
  }
  return goals;
}

function printScan(
  o: ScanBenchOptions,
  mix: AccountMix,
  scaling: ScalingRow[],
  approaches: ApproachResult[],
  rss: RssRow[],
  goals: Goal[],
): void {
  const out = o.out;
  const pct = (n: number) => `${((n / mix.users) * 100).toFixed(1)}%`;
  out('');
  out(`== scan benchmark: ${fmtInt(mix.users)} IAM users on moto ==`);
  out(
    `account: ${Object.entries(mix.byCategory)
      .map(([c, n]) => `${c} ${fmtInt(n)} (${pct(n)})`)
      .join(', ')}`,
  );
  out(
    `         ${fmtInt(mix.keys)} keys (${fmtInt(mix.inactiveKeys)} Inactive, ${fmtInt(mix.unusedKeys)} never used), ` +
      `${fmtInt(mix.passwords)} passwords, ${fmtInt(mix.exempt)} tagged dormant:exempt=true (${pct(mix.exempt)})`,
  );
  out(
    o.mode === 'full'
      ? `method: each approach 1 warm-up + ${o.runs} runs, median wall time`
      : `method: median wall time of up to ${o.runs} runs per approach, stopping after ${fmtMs(o.budgetMs)} (at least 1); ` +
          `the report source has its own warm-up, the others share one (--full: warm-up + ${o.runs} runs each)`,
  );

  const load = loadavg();
  out(
    `machine: ${cpus().length} CPUs, load average ${load.map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)` +
      (load[0]! > cpus().length
        ? ' — other processes compete with moto and node for the CPUs; absolute times are inflated'
        : ''),
  );
  out('');
  out('Approaches (IAM calls per run; speed-up = naive median / approach median)');
  out(
    table(
      ['approach', 'IAM calls', 'median', 'speed-up vs naive', 'runs', 'node CPU', 'moto CPU'],
      approaches.map((a) => [
        a.label + (a.extra ? ' *' : ''),
        fmtInt(a.iamCalls) + (a.iamCallsRange[0] !== a.iamCallsRange[1] ? ` (${a.iamCallsRange.join('–')})` : ''),
        fmtMs(a.medianMs),
        a.key === 'naive' ? '1.0×' : `${a.speedup!.toFixed(1)}×`,
        `${a.warmup ? '1w+' : ''}${a.runs}`,
        a.nodeCpuMs === null ? 'n/a' : fmtMs(a.nodeCpuMs),
        a.motoCpuMs === null ? 'n/a' : fmtMs(a.motoCpuMs),
      ]),
    ),
  );
  out('* not a goal: a data point (concurrency 16; the report source without the rotation rule)');

  out('');
  out('Where the calls and the time go');
  out(
    table(
      ['approach', 'collect calls', 'collect', 'enrich calls', 'enrich', 'users enriched', 'findings', 'operations'],
      approaches.map((a) => {
        const d = a.detail;
        const isScan = 'collectIamCalls' in d;
        const summary = d['summary'] as { findings: number } | undefined;
        return [
          a.label,
          isScan ? fmtInt(d['collectIamCalls'] as number) : fmtInt(a.iamCalls),
          isScan ? fmtMs(d['collectMs'] as number) : fmtMs(a.medianMs),
          isScan ? fmtInt(d['enrichIamCalls'] as number) : '-',
          isScan ? fmtMs(d['enrichMs'] as number) : '-',
          isScan ? fmtInt(d['flaggedUsers'] as number) : '-',
          summary ? fmtInt(summary.findings) : '-',
          ops(a.calls),
        ];
      }),
    ),
  );
  const report = approaches.find((a) => a.key === 'report')!;
  out(
    `findings by rule (report source): ${Object.entries(report.detail['findingsByRule'] as Record<string, number>)
      .map(([r, n]) => `${r} ${fmtInt(n)}`)
      .join(', ')}`,
  );

  out('');
  out('Report source: collection calls (provider.collect()) by account size');
  out(
    table(
      [
        'users',
        'IAM calls, first (report generated)',
        'IAM calls, later runs',
        'time, later runs (median)',
        'operations, later runs',
      ],
      scaling.map((s) => [
        fmtInt(s.users),
        String(s.cold.iamCalls),
        [...new Set(s.warm.map((w) => w.iamCalls))].join('/'),
        fmtMs(s.warmMedianMs),
        ops(s.warm[0]?.calls ?? {}),
      ]),
    ),
  );

  out('');
  out('Peak RSS of a whole scan (node dist/cli/main.js scan --format json --output FILE, /usr/bin/time -f %M)');
  out(
    table(
      ['source', 'peak RSS', 'wall', 'identities', 'findings'],
      rss.map((r) => [
        r.source,
        `${r.peakMb.toFixed(1)} MB`,
        fmtMs(r.wallMs),
        fmtInt(r.identities ?? 0),
        fmtInt(r.findings ?? 0),
      ]),
    ),
  );

  out('');
  out('Goals');
  out(
    table(
      ['goal', 'measured', 'result'],
      goals.map((g) => [g.goal, g.measured, g.pass ? 'PASS' : 'FAIL']),
    ),
  );
}

// Only as a library: bench/run.ts runs it. Kept for `tsx bench/scan.ts` too.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runScanBench().then(
    (r) => {
      if (r.goals.some((g) => !g.pass)) process.exitCode = 1;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
