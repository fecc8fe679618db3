// `npm run bench`: builds, then runs every benchmark in order and prints a summary of the
// goals with PASS/FAIL. One exported function per benchmark (bench/scan.ts: runScanBench);
// add a benchmark by adding a line to BENCHMARKS.
//
//   npm run bench                      all benchmarks, budget mode
//   npm run bench -- --full            1 warm-up + all runs for every approach (slow on moto)
//   npm run bench -- --only scan --runs 3 --budget 30
//   npm run bench -- --only google     Workspace + Cloud scan on the in-memory Google APIs
//
// Exit code: 0 when every goal passes, 1 when a goal fails, 2 when a benchmark could not run.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchOutcome, type Goal, fmtMs, table } from './bench-util.js';
import { runApplyBench } from './apply.js';
import { runScanBench } from './scan.js';
import { runEntraBench } from './entra.js';
import { runGoogleBench } from './google.js';
import { runWebBench } from './web.js';
import { runOrgBench } from './org.js';

export interface BenchRunOptions {
  full: boolean;
  runs: number | undefined;
  budgetSeconds: number | undefined;
}

export interface Benchmark {
  name: string;
  run(options: BenchRunOptions): Promise<BenchOutcome>;
}

export const BENCHMARKS: Benchmark[] = [
  {
    name: 'scan',
    run: (o) =>
      runScanBench({
        mode: o.full ? 'full' : 'budget',
        ...(o.runs !== undefined ? { runs: o.runs } : {}),
        ...(o.budgetSeconds !== undefined ? { budgetMs: o.budgetSeconds * 1000 } : {}),
      }),
  },
  { name: 'apply', run: () => runApplyBench({ users: 1000 }) },
  { name: 'entra', run: () => runEntraBench({ users: 20_000 }) },
  {
    name: 'google',
    run: () => runGoogleBench({ users: 10_000, projects: 50, accountsPerProject: 20, concurrency: 8, latencyMs: 50 }),
  },
  { name: 'web', run: () => runWebBench() },
  { name: 'org', run: () => runOrgBench() },
];

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got '${value}'`);
  return n;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', multiple: true },
      full: { type: 'boolean', default: false },
      runs: { type: 'string' },
      budget: { type: 'string' },
    },
  });
  const options: BenchRunOptions = {
    full: values.full ?? false,
    runs: positiveNumber('--runs', values.runs),
    budgetSeconds: positiveNumber('--budget', values.budget),
  };
  const selected = values.only?.length ? BENCHMARKS.filter((b) => values.only!.includes(b.name)) : BENCHMARKS;
  if (selected.length === 0) {
    throw new Error(
      `--only: no benchmark named ${values.only!.join(', ')} (have ${BENCHMARKS.map((b) => b.name).join(', ')})`,
    );
  }

  const outcomes: BenchOutcome[] = [];
  let failed = false;
  for (const bench of selected) {
    try {
      outcomes.push(await bench.run(options));
    } catch (err) {
      failed = true;
      console.error(
        `benchmark ${bench.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }

  const goals: Goal[] = outcomes.flatMap((o) => o.goals);
  console.log('\n== Summary ==');
  console.log(
    table(
      ['benchmark', 'goal', 'measured', 'result'],
      goals.map((g) => [g.benchmark, g.goal, g.measured, g.pass ? 'PASS' : 'FAIL']),
    ),
  );
  for (const o of outcomes) console.log(`${o.name}: ${fmtMs(o.elapsedMs)}${o.resultsFile ? `, ${o.resultsFile}` : ''}`);
  if (failed) return 2;
  return goals.every((g) => g.pass) ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 2;
    },
  );
}
