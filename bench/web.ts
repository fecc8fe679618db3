// The dashboard benchmark (issue 10, Performance): a store holding an organization scan of 200
// accounts, one of them with 5,000 users (the IAM quota) and 199 with 25 each, scanned and
// planned by the real engine over in-memory accounts (no cloud), plus 29 earlier scans for the
// chart; on SQLite and on PostgreSQL. Each page is rendered through app.request() behind a
// fake sign-in (the pages' own server time: queries and rendering), a few warm-ups then
// `runs` timed requests. Reports median and p95 server time and page weight (bytes sent,
// before compression). Goals: every page under 200 ms (p95) and under 300 KB, the findings
// pages (the goal) and the others (overview, a plan with evidence, history, audit).
// `npx tsx bench/web.ts` runs it alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/config.js';
import { decide } from '../src/engine/decide.js';
import { scan } from '../src/engine/scan.js';
import { storePlan } from '../src/engine/storePlan.js';
import type { Evidence } from '../src/model/evidence.js';
import type { Identity } from '../src/model/identity.js';
import { MemoryAccount } from '../src/providers/memory/memory-provider.js';
import { saveEvidence } from '../src/store/review.js';
import { saveScan } from '../src/store/scans.js';
import { Store } from '../src/store/store.js';
import { PLAN_PAGE_SIZE } from '../src/web/routes.js';
import { freshPgDatabase } from '../test/support/pg.js';
import { APPROVER, NOW, activeUser, keyOnlyUser, pagesApp, staleUser } from '../test/support/webPages.js';
import { type BenchOutcome, fmtInt, fmtMs, median, prng, table } from './bench-util.js';

export interface WebBenchOptions {
  /** Users in the organization's big account. */
  bigAccountUsers: number;
  accounts: number;
  usersPerAccount: number;
  runs: number;
  engines: ('sqlite' | 'postgres')[];
}

const GOAL_MS = 200;
const GOAL_BYTES = 300 * 1024;

function accountId(i: number): string {
  return String(100_000_000_000 + i).padStart(12, '0');
}

/** 30% stale (four findings each), 15% with only an unused key (two), the rest in use. */
function users(account: string, count: number, random: () => number): Identity[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `user-${account.slice(-3)}-${String(i).padStart(4, '0')}`;
    const r = random();
    return r < 0.3 ? staleUser(name, account) : r < 0.45 ? keyOnlyUser(name, account) : activeUser(name, account);
  });
}

function evidenceFor(name: string): Evidence {
  const at = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
  return [
    {
      source: 'cloudtrail',
      title: 'CloudTrail',
      status: 'ok',
      collectedAt: NOW.toISOString(),
      summary: `20 events of ${name}, the latest 150 days ago (GetCallerIdentity)`,
      scope: 'us-east-1, last 90 days',
      items: Array.from({ length: 20 }, (_, i) => ({
        at: at(150 + i),
        summary: `GetCallerIdentity from 203.0.113.${i} (us-east-1) with access key AKIAEXAMPLE${String(i).padStart(5, '0')}`,
      })),
    },
    {
      source: 'access-advisor',
      title: 'Access Advisor',
      status: 'ok',
      collectedAt: NOW.toISOString(),
      summary: '10 services, the latest used 150 days ago (s3)',
      items: Array.from({ length: 10 }, (_, i) => ({ at: at(150 + i * 7), summary: `service-${i} last accessed` })),
    },
  ];
}

interface Seeded {
  identities: number;
  findings: number;
  items: number;
  planId: string;
  bigAccount: string;
  seedMs: number;
}

async function seed(store: Store, o: WebBenchOptions): Promise<Seeded> {
  const t0 = performance.now();
  const random = prng(10);
  const accounts: MemoryAccount[] = [];
  for (let i = 0; i < o.accounts; i++) {
    const id = accountId(i);
    accounts.push(MemoryAccount.fromIdentities(id, users(id, i === 0 ? o.bigAccountUsers : o.usersPerAccount, random)));
  }
  const config = parseConfig({ remediation: { maxActionsPercent: 100, maxActionsPerRun: 1_000_000 } });
  const result = await scan(accounts, { config, now: NOW });
  // Earlier, smaller scans for the chart (their summaries are what it reads).
  for (let i = 29; i >= 1; i--) {
    const at = new Date(NOW.getTime() - i * 86_400_000).toISOString();
    await saveScan(store.db, {
      ...result,
      generatedAt: at,
      identities: [],
      findings: [],
      summary: { ...result.summary, findings: Math.round(result.findings.length * (1 - i / 40)) },
    });
  }
  const { plan } = await storePlan(store, result, config, 'bench', NOW);
  // Decisions from two channels, so history, audit and the plan page carry who decided.
  const every = (n: number) => plan.items.filter((_, i) => i % n === 0).map((i) => i.id);
  const decision = { planId: plan.id, all: false, reason: 'bench', now: NOW } as const;
  await decide(store, { ...decision, items: every(5), decision: 'approve', by: 'web:ann@example.com', channel: 'web' });
  await decide(store, {
    ...decision,
    items: every(7).filter((id) => !every(5).includes(id)),
    decision: 'deny',
    by: 'slack:U0BOB',
    channel: 'slack',
  });
  // Evidence as serve collects it (CloudTrail's default depth of 20 events, Access Advisor) on the
  // items of the plan pages measured below.
  const onPage = (seq: number, page: number) => Math.ceil(seq / PLAN_PAGE_SIZE) === page;
  for (const item of plan.items.filter((i) => onPage(i.seq, 1) || onPage(i.seq, 30)))
    await saveEvidence(store.db, item.id, evidenceFor(item.identityName));
  return {
    identities: result.identities.length,
    findings: result.findings.length,
    items: plan.items.length,
    planId: plan.id,
    bigAccount: accountId(0),
    seedMs: performance.now() - t0,
  };
}

interface PageResult {
  engine: string;
  page: string;
  findingsPage: boolean;
  status: number;
  medianMs: number;
  p95Ms: number;
  bytes: number;
}

function p95(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!;
}

async function measurePages(engine: string, store: Store, seeded: Seeded, runs: number): Promise<PageResult[]> {
  const app = pagesApp(store, APPROVER);
  const pages: [string, boolean][] = [
    ['/findings', true],
    ['/findings?page=80', true],
    ['/findings?sort=days&dir=desc', true],
    ['/findings?state=pending', true],
    [`/findings?account=${seeded.bigAccount}&severity=medium`, true],
    ['/findings?q=user-000-01', true],
    ['/', false],
    [`/plans/${seeded.planId}`, false],
    [`/plans/${seeded.planId}?page=30`, false],
    ['/history', false],
    ['/audit', false],
  ];
  const out: PageResult[] = [];
  for (const [path, findingsPage] of pages) {
    let bytes = 0;
    let status = 0;
    for (let i = 0; i < 3; i++) await (await app.request(path)).arrayBuffer();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const res = await app.request(path);
      const body = await res.arrayBuffer();
      times.push(performance.now() - t0);
      bytes = body.byteLength;
      status = res.status;
    }
    out.push({ engine, page: path, findingsPage, status, medianMs: median(times), p95Ms: p95(times), bytes });
  }
  return out;
}

export async function runWebBench(
  options: WebBenchOptions = {
    bigAccountUsers: 5000,
    accounts: 200,
    usersPerAccount: 25,
    runs: 30,
    engines: ['sqlite', 'postgres'],
  },
): Promise<BenchOutcome> {
  const started = Date.now();
  const results: PageResult[] = [];
  const seeds: { engine: string; seeded: Seeded }[] = [];
  for (const engine of options.engines) {
    const dir = mkdtempSync(join(tmpdir(), 'dormant-web-bench-'));
    const pg = engine === 'postgres' ? await freshPgDatabase() : null;
    const store = await Store.open(pg ? pg.url : join(dir, 'state.db'));
    try {
      const seeded = await seed(store, options);
      seeds.push({ engine, seeded });
      results.push(...(await measurePages(engine, store, seeded, options.runs)));
    } finally {
      await store.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const s = seeds[0]!.seeded;
  console.log(
    `\n== web benchmark: dashboard pages over an organization scan of ${options.accounts} accounts (one with ${fmtInt(options.bigAccountUsers)} users, the others ${options.usersPerAccount}): ${fmtInt(s.identities)} identities, ${fmtInt(s.findings)} findings, a plan of ${fmtInt(s.items)} items; ${options.runs} requests a page ==`,
  );
  for (const { engine, seeded } of seeds) console.log(`seeding ${engine}: ${fmtMs(seeded.seedMs)}`);
  console.log(
    table(
      ['engine', 'page', 'status', 'median', 'p95', 'weight'],
      results.map((r) => [
        r.engine,
        r.page.replace(planIdOf(r, seeds), '<plan>'),
        String(r.status),
        fmtMs(r.medianMs),
        fmtMs(r.p95Ms),
        `${(r.bytes / 1024).toFixed(1)} KB`,
      ]),
    ),
  );
  const goals = options.engines.flatMap((engine) => {
    const mine = results.filter((r) => r.engine === engine);
    const findings = mine.filter((r) => r.findingsPage);
    const worstMs = Math.max(...findings.map((r) => r.p95Ms));
    const worstBytes = Math.max(...findings.map((r) => r.bytes));
    const others = mine.filter((r) => !r.findingsPage);
    const worstOther = Math.max(...others.map((r) => r.p95Ms));
    const heaviestOther = Math.max(...others.map((r) => r.bytes));
    return [
      {
        benchmark: 'web',
        goal: `${engine}: findings pages p95 < ${GOAL_MS} ms`,
        measured: `${fmtMs(worstMs)} (slowest of ${findings.length})`,
        pass: worstMs < GOAL_MS && findings.every((r) => r.status === 200),
      },
      {
        benchmark: 'web',
        goal: `${engine}: findings pages < 300 KB`,
        measured: `${(worstBytes / 1024).toFixed(1)} KB (heaviest)`,
        pass: worstBytes < GOAL_BYTES,
      },
      {
        benchmark: 'web',
        goal: `${engine}: other pages p95 < ${GOAL_MS} ms`,
        measured: fmtMs(worstOther),
        pass: worstOther < GOAL_MS && mine.every((r) => r.status === 200),
      },
      {
        benchmark: 'web',
        goal: `${engine}: other pages < 300 KB`,
        measured: `${(heaviestOther / 1024).toFixed(1)} KB (heaviest)`,
        pass: heaviestOther < GOAL_BYTES,
      },
    ];
  });
  return { name: 'web', goals, resultsFile: null, elapsedMs: Date.now() - started };
}

function planIdOf(r: PageResult, seeds: { engine: string; seeded: Seeded }[]): string {
  return seeds.find((x) => x.engine === r.engine)?.seeded.planId ?? '<none>';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runWebBench().then(
    (o) => {
      for (const g of o.goals) console.log(`${g.pass ? 'PASS' : 'FAIL'} ${g.goal}: ${g.measured}`);
      process.exitCode = o.goals.every((g) => g.pass) ? 0 : 1;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exitCode = 2;
    },
  );
}
