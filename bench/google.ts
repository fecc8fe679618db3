// The Google benchmark: a scan of 10,000 Workspace users and 50 projects × 20 service accounts
// (2 user-managed keys each: used lately, last used long ago, never used) through the Google
// provider, against the in-memory Google APIs (GoogleTenant) served on a loopback HTTP server
// (test/support/google.ts startGoogleServer), as the Entra bench serves its Graph fake. The
// server runs in this process; the scan runs in a child process (googleEntry.open, the path the
// CLI takes: a key file, google.rootUrls, globalThis.fetch), so that its peak RSS is its own.
// The child wraps globalThis.fetch (the network the session's counting fetch calls) to count
// calls by route and measure the requests and projects in flight at once.
//
// Goals: Workspace calls = ceil(users/500) pages + 1 token; Cloud calls = per project
// ceil(accounts/100) list pages + the two Policy Analyzer queries (more pages past 1,000
// activities), one key listing per account, none per key, + 1 token (also checked at a second
// shape, 2 projects × 800 accounts, where both kinds of paging happen); bounded concurrency
// (google.cloud.concurrency). With a fixed latency per call (default 50 ms), the same scan at
// concurrency 1 and 8 shows what the concurrency buys.
//
//   npx tsx bench/google.ts                    alone (from dist/ when built, else src/ under tsx)
//   npx tsx bench/google.ts --latency-ms 0     without the latency comparison
//   npm run bench -- --only google
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCOPES } from '../src/providers/google/google-auth.js';
import type { GoogleMemory } from '../src/providers/google/memory/google-memory.js';
import { GoogleTenant } from '../src/providers/google/memory/google-tenant.js';
import { startGoogleServer, testServiceAccountKey } from '../test/support/google.js';
import { type BenchOutcome, type Goal, fmtInt, fmtMs, prng, table } from './bench-util.js';
import { type ChildResult, runChild } from './google-child.js';

export interface GoogleBenchOptions {
  users: number;
  projects: number;
  accountsPerProject: number;
  /** google.cloud.concurrency of the main run. */
  concurrency: number;
  /** Fixed delay per call for the concurrency 1 vs 8 comparison; 0 skips it. */
  latencyMs: number;
}

export const GOOGLE_BENCH_DEFAULTS: GoogleBenchOptions = {
  users: 10_000,
  projects: 50,
  accountsPerProject: 20,
  concurrency: 8,
  latencyMs: 50,
};

const DAY = 86_400_000;
const KEYS_PER_ACCOUNT = 2;
const USERS_PAGE = 500;
const ACCOUNTS_PAGE = 100;
const ACTIVITIES_PAGE = 1000;
const SUBJECT = 'admin@example.com';

interface Shape {
  users: number;
  projects: number;
  accountsPerProject: number;
}

/** What the seed put in, to compute the calls the scan should make. */
interface Seeded {
  projectIds: string[];
  /** Per project: accounts with a last authentication, keys with one. */
  accountActivities: Map<string, number>;
  keyActivities: Map<string, number>;
  keys: { recent: number; old: number; never: number };
  seedMs: number;
}

function seed(shape: Shape, now: number): { tenant: GoogleTenant; seeded: Seeded } {
  const t0 = performance.now();
  const tenant = new GoogleTenant({ domain: 'example.com' });
  const rand = prng(7);
  if (shape.users > 0) {
    tenant.workspace.addUser({
      primaryEmail: SUBJECT,
      isAdmin: true,
      creationTime: new Date(now - 900 * DAY),
      lastLoginTime: new Date(now - DAY),
    });
  }
  for (let i = 1; i < shape.users; i++) {
    const r = rand();
    // 60% signed in within 30 days, 25% 200-400 days ago, 10% never, 5% suspended.
    const lastLoginTime =
      r < 0.6
        ? new Date(now - Math.floor(rand() * 30 * DAY))
        : r < 0.85 || r >= 0.95
          ? new Date(now - (200 + Math.floor(rand() * 200)) * DAY)
          : null;
    tenant.workspace.addUser({
      primaryEmail: `user${String(i).padStart(5, '0')}@example.com`,
      creationTime: new Date(now - (450 + Math.floor(rand() * 400)) * DAY),
      lastLoginTime,
      ...(r >= 0.95 ? { suspended: true } : {}),
    });
  }
  const projectIds: string[] = [];
  const accountActivities = new Map<string, number>();
  const keyActivities = new Map<string, number>();
  const keys = { recent: 0, old: 0, never: 0 };
  let k = 0;
  let sa = 0;
  for (let p = 0; p < shape.projects; p++) {
    const projectId = `bench-project-${String(p + 1).padStart(3, '0')}`;
    projectIds.push(projectId);
    tenant.cloud.addProject(projectId, { projectNumber: String(500_000_000_000 + p) });
    let accountActs = 0;
    let keyActs = 0;
    for (let a = 0; a < shape.accountsPerProject; a++) {
      sa += 1;
      const account = tenant.cloud.addServiceAccount(projectId, {
        accountId: `svc-${String(a + 1).padStart(4, '0')}`,
        uniqueId: `1${String(sa).padStart(20, '0')}`,
        displayName: `bench service account ${a + 1}`,
      });
      let authenticated = false;
      for (let j = 0; j < KEYS_PER_ACCOUNT; j++, k++) {
        const key = tenant.cloud.addKey(account.uniqueId, {
          keyId: k.toString(16).padStart(40, '0'),
          createdAt: new Date(now - 500 * DAY),
        });
        // By turns: used in the last 30 days, last used 200 days ago, never used.
        const mix = k % 3;
        if (mix === 2) {
          keys.never += 1;
          continue;
        }
        const at = mix === 0 ? now - (1 + (k % 29)) * DAY : now - 200 * DAY;
        tenant.cloud.recordAuthentication(account.uniqueId, new Date(at), key.keyId);
        if (mix === 0) keys.recent += 1;
        else keys.old += 1;
        keyActs += 1;
        authenticated = true;
      }
      if (authenticated) accountActs += 1;
    }
    accountActivities.set(projectId, accountActs);
    keyActivities.set(projectId, keyActs);
  }
  const { key, publicKeyPem } = testServiceAccountKey();
  tenant.memory.registerServiceAccount(key.client_email, publicKeyPem, key.client_id!);
  tenant.memory.delegate(key.client_id!, [...SCOPES.workspaceRead]);
  return {
    tenant,
    seeded: { projectIds, accountActivities, keyActivities, keys, seedMs: performance.now() - t0 },
  };
}

/** The in-memory APIs behind a loopback server, with a settable latency, in-flight count and token attribution. */
async function serve(tenant: GoogleTenant) {
  const stats = { latencyMs: 0, inFlight: 0, maxInFlight: 0, tokens: { delegated: 0, cloud: 0 } };
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const front = {
    fetch: async (req: Request): Promise<Response> => {
      stats.inFlight += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        if (stats.latencyMs > 0) await sleep(stats.latencyMs);
        if (new URL(req.url).pathname === '/token') {
          // The JWT assertion's `sub`: a Workspace (delegated) token, or the Cloud one.
          const assertion = new URLSearchParams(await req.clone().text()).get('assertion') ?? '';
          const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString() || '{}') as {
            sub?: string;
            iss?: string;
          };
          if (claims.sub && claims.sub !== claims.iss) stats.tokens.delegated += 1;
          else stats.tokens.cloud += 1;
        }
        return await tenant.memory.fetch(req);
      } finally {
        stats.inFlight -= 1;
      }
    },
  };
  const server = await startGoogleServer(front as unknown as GoogleMemory);
  const reset = () => {
    tenant.memory.calls.length = 0;
    tenant.memory.tokenRequests = 0;
    stats.maxInFlight = 0;
    stats.tokens = { delegated: 0, cloud: 0 };
  };
  return { url: server.url, close: server.close, stats, reset };
}

interface Run {
  child: ChildResult;
  /** GoogleMemory.count() by route name, token requests apart. */
  memory: Record<string, number>;
  tokenRequests: number;
  tokens: { delegated: number; cloud: number };
  serverMaxInFlight: number;
  /** CPU time of this process (the in-memory APIs and the server) while the child ran. */
  serverCpuMs: number;
}

async function scanOnce(
  tenant: GoogleTenant,
  server: Awaited<ReturnType<typeof serve>>,
  keyFile: string,
  seeded: Seeded,
  options: { workspace: boolean; concurrency: number; latencyMs: number },
): Promise<Run> {
  const config = {
    google: {
      enabled: true,
      credentialsFile: keyFile,
      subject: SUBJECT,
      customer: 'my_customer',
      workspace: { enabled: options.workspace },
      cloud: { projects: seeded.projectIds, concurrency: options.concurrency },
      rootUrls: {
        directory: server.url,
        iam: server.url,
        policyAnalyzer: server.url,
        resourceManager: server.url,
        token: `${server.url}/token`,
      },
    },
  };
  server.reset();
  server.stats.latencyMs = options.latencyMs;
  const cpu0 = process.cpuUsage();
  const child = await runChild({ DORMANT_BENCH_CONFIG: JSON.stringify(config) });
  const cpu = process.cpuUsage(cpu0);
  const memory: Record<string, number> = {};
  for (const c of tenant.memory.calls) memory[c.name] = (memory[c.name] ?? 0) + 1;
  return {
    child,
    memory: Object.fromEntries(Object.entries(memory).sort(([a], [b]) => a.localeCompare(b))),
    tokenRequests: tenant.memory.tokenRequests,
    tokens: { ...server.stats.tokens },
    serverMaxInFlight: server.stats.maxInFlight,
    serverCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** The calls the scan should make, from what was seeded. */
function expected(shape: Shape, seeded: Seeded) {
  const workspacePages = shape.users > 0 ? Math.ceil(shape.users / USERS_PAGE) : 0;
  const accountPages = shape.projects * Math.max(1, Math.ceil(shape.accountsPerProject / ACCOUNTS_PAGE));
  let activityQueries = 0;
  for (const p of seeded.projectIds) {
    activityQueries += Math.max(1, Math.ceil(seeded.accountActivities.get(p)! / ACTIVITIES_PAGE));
    activityQueries += Math.max(1, Math.ceil(seeded.keyActivities.get(p)! / ACTIVITIES_PAGE));
  }
  const keyLists = shape.projects * shape.accountsPerProject;
  return { workspacePages, accountPages, activityQueries, keyLists, cloud: accountPages + activityQueries + keyLists };
}

const CLOUD_ROUTES = new Set(['iam.serviceAccounts.list', 'policyanalyzer.activities.query', 'iam.keys.list']);

function cloudGoal(label: string, shape: Shape, seeded: Seeded, run: Run): Goal {
  const e = expected(shape, seeded);
  const m = run.memory;
  const list = m['iam.serviceAccounts.list'] ?? 0;
  const pa = m['policyanalyzer.activities.query'] ?? 0;
  const keys = m['iam.keys.list'] ?? 0;
  const other = Object.entries(m).filter(([n]) => !n.startsWith('directory.') && !CLOUD_ROUTES.has(n));
  const otherCalls = other.reduce((n, [, v]) => n + v, 0);
  const keysSeen = Object.values(run.child.keyUse).reduce((n, v) => n + v, 0);
  return {
    benchmark: 'google',
    goal: `${label}: Cloud calls = ${shape.projects}×${Math.ceil(shape.accountsPerProject / ACCOUNTS_PAGE)} SA pages + ${e.activityQueries} Policy Analyzer + ${e.keyLists} key lists (1/account, 0/key) + 1 token = ${e.cloud + 1}`,
    measured: `${list} + ${pa} + ${keys} + ${run.tokens.cloud} token = ${list + pa + keys + run.tokens.cloud}${otherCalls ? `; other: ${other.map(([n, v]) => `${n} ×${v}`).join(', ')}` : ''}; ${fmtInt(run.child.accounts)} accounts, ${fmtInt(keysSeen)} keys`,
    pass:
      list === e.accountPages &&
      pa === e.activityQueries &&
      keys === e.keyLists &&
      run.tokens.cloud === 1 &&
      otherCalls === 0 &&
      run.child.accounts === shape.projects * shape.accountsPerProject &&
      keysSeen === shape.projects * shape.accountsPerProject * KEYS_PER_ACCOUNT &&
      run.child.retries === 0,
  };
}

/** In flight at once: ≤ c projects; per project 1 account listing or ≤ 2 Policy Analyzer queries; ≤ c key listings in all. */
function concurrencyGoal(label: string, c: number, run: Run): Goal {
  const x = run.child.max;
  const bound = 3 * c;
  return {
    benchmark: 'google',
    goal: `${label}: bounded concurrency (c = ${c}): ≤ ${c} projects in flight, ≤ ${c} key lists, ≤ ${bound} requests (c×2 Policy Analyzer + c key lists)`,
    measured: `max in flight: ${x.all} requests (${x.projects} projects, ${x.keys} key lists, ${x.activities} Policy Analyzer, ${x.accounts} SA lists)`,
    pass: x.projects <= c && x.keys <= c && x.accounts <= c && x.activities <= 2 * c && x.all <= bound,
  };
}

function routeRows(run: Run): string[][] {
  return Object.entries(run.child.routes).map(([route, n]) => [route, fmtInt(n)]);
}

function keyUseText(run: Run): string {
  return Object.entries(run.child.keyUse)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${fmtInt(v)}`)
    .join(', ');
}

export async function runGoogleBench(options: Partial<GoogleBenchOptions> = {}): Promise<BenchOutcome> {
  const o = { ...GOOGLE_BENCH_DEFAULTS, ...options };
  const started = Date.now();
  const now = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'dormant-google-bench-'));
  const keyFile = join(dir, 'key.json');
  writeFileSync(keyFile, JSON.stringify(testServiceAccountKey().key), { mode: 0o600 });
  const goals: Goal[] = [];
  try {
    // Main shape: Workspace and Cloud in one scan, no added latency.
    const shape: Shape = { users: o.users, projects: o.projects, accountsPerProject: o.accountsPerProject };
    const { tenant, seeded } = seed(shape, now);
    const server = await serve(tenant);
    try {
      const run = await scanOnce(tenant, server, keyFile, seeded, {
        workspace: true,
        concurrency: o.concurrency,
        latencyMs: 0,
      });
      const e = expected(shape, seeded);
      const pages = run.memory['directory.users.list'] ?? 0;
      const rssMb = run.child.maxRssKb / 1024;
      const total = Object.values(run.child.routes).reduce((n, v) => n + v, 0);
      console.log(
        `Google scan of ${fmtInt(shape.users)} Workspace users and ${shape.projects} projects × ${shape.accountsPerProject} service accounts × ${KEYS_PER_ACCOUNT} keys` +
          ` (keys seeded: ${seeded.keys.recent} used lately, ${seeded.keys.old} used 200 days ago, ${seeded.keys.never} never),` +
          ` in-memory APIs on a loopback HTTP server (seeded in ${fmtMs(seeded.seedMs)}), concurrency ${o.concurrency}`,
      );
      console.log(table(['route (GoogleCallCounter.snapshot)', 'calls'], routeRows(run)));
      console.log(
        table(
          ['what', 'value'],
          [
            ['session.calls() (GoogleCallCounter.describe)', run.child.sessionCalls ?? 'none'],
            [
              'GoogleMemory.count() by route',
              Object.entries(run.memory)
                .map(([n, v]) => `${n} ×${v}`)
                .join(', '),
            ],
            [
              'token requests (GoogleMemory.tokenRequests)',
              `${run.tokenRequests} (${run.tokens.delegated} Workspace, delegated; ${run.tokens.cloud} Cloud)`,
            ],
            ['calls in all (incl. tokens)', fmtInt(total)],
            ['retries', String(run.child.retries)],
            ['Workspace users', fmtInt(run.child.users)],
            ['service accounts', fmtInt(run.child.accounts)],
            ['keys by last use', keyUseText(run)],
            ['findings', fmtInt(run.child.findings)],
            ['warnings / failures', `${run.child.warnings.length} / ${run.child.failures.length}`],
            ['max in flight (client fetch)', `${run.child.max.all} requests, ${run.child.max.projects} projects`],
            ['max in flight inside the in-memory APIs (server)', String(run.serverMaxInFlight)],
            ['open + collect', fmtMs(run.child.collectMs)],
            ['CPU of the in-memory APIs meanwhile (this process)', fmtMs(run.serverCpuMs)],
            ['evaluate', fmtMs(run.child.evaluateMs)],
            ['child wall time (incl. start-up)', fmtMs(run.child.wallMs)],
            [`peak RSS of the scan (${run.child.loader})`, `${rssMb.toFixed(0)} MB`],
          ],
        ),
      );
      for (const w of run.child.warnings) console.log(`  warning: ${w}`);
      goals.push({
        benchmark: 'google',
        goal: `Workspace calls = ceil(${fmtInt(shape.users)}/${USERS_PAGE}) = ${e.workspacePages} pages + 1 token = ${e.workspacePages + 1}`,
        measured: `${pages} pages + ${run.tokens.delegated} token = ${pages + run.tokens.delegated}; ${fmtInt(run.child.users)} users`,
        pass:
          pages === e.workspacePages &&
          run.tokens.delegated === 1 &&
          run.child.users === shape.users &&
          Object.keys(run.memory).every((n) => !n.startsWith('directory.') || n === 'directory.users.list'),
      });
      goals.push(cloudGoal(`${shape.projects}×${shape.accountsPerProject}`, shape, seeded, run));
      goals.push(concurrencyGoal(`no latency`, o.concurrency, run));

      // The same scan with a fixed latency per call: what the concurrency buys.
      if (o.latencyMs > 0) {
        const rows: string[][] = [];
        const walls: number[] = [];
        for (const c of [1, o.concurrency]) {
          const slow = await scanOnce(tenant, server, keyFile, seeded, {
            workspace: true,
            concurrency: c,
            latencyMs: o.latencyMs,
          });
          const calls = Object.values(slow.child.routes).reduce((n, v) => n + v, 0);
          walls.push(slow.child.collectMs);
          rows.push([
            String(c),
            fmtInt(calls),
            fmtMs(slow.child.collectMs),
            String(slow.child.max.all),
            String(slow.child.max.projects),
            String(slow.child.max.keys),
            String(slow.child.max.activities),
            `${(slow.child.maxRssKb / 1024).toFixed(0)} MB`,
          ]);
          goals.push(concurrencyGoal(`${o.latencyMs} ms/call`, c, slow));
        }
        console.log(`\nThe same scan with ${o.latencyMs} ms added to every call (server side, tokens included)`);
        console.log(
          table(
            [
              'concurrency',
              'calls',
              'open + collect',
              'max in flight',
              'projects',
              'key lists',
              'Policy Analyzer',
              'peak RSS',
            ],
            rows,
          ),
        );
        console.log(`speed-up ${o.concurrency} vs 1: ${(walls[0]! / walls[1]!).toFixed(1)}×`);
      }
    } finally {
      await server.close();
    }

    // Second shape: both kinds of Cloud paging (8 SA pages, 2 key-activity pages a project).
    const paged: Shape = { users: 0, projects: 2, accountsPerProject: 800 };
    const second = seed(paged, now);
    const server2 = await serve(second.tenant);
    try {
      const run = await scanOnce(second.tenant, server2, keyFile, second.seeded, {
        workspace: false,
        concurrency: o.concurrency,
        latencyMs: 0,
      });
      console.log(
        `\nCloud only, ${paged.projects} projects × ${paged.accountsPerProject} service accounts × ${KEYS_PER_ACCOUNT} keys (paging), concurrency ${o.concurrency}`,
      );
      console.log(table(['route (GoogleCallCounter.snapshot)', 'calls'], routeRows(run)));
      console.log(
        `open + collect ${fmtMs(run.child.collectMs)} (in-memory APIs: ${fmtMs(run.serverCpuMs)} CPU), peak RSS ${(run.child.maxRssKb / 1024).toFixed(0)} MB, max in flight ${run.child.max.all}; keys: ${keyUseText(run)}`,
      );
      goals.push(cloudGoal(`${paged.projects}×${paged.accountsPerProject}`, paged, second.seeded, run));
    } finally {
      await server2.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { name: 'google', goals, resultsFile: null, elapsedMs: Date.now() - started };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { 'latency-ms': { type: 'string' }, concurrency: { type: 'string' } },
  });
  const outcome = await runGoogleBench({
    ...(values['latency-ms'] !== undefined ? { latencyMs: Number(values['latency-ms']) } : {}),
    ...(values.concurrency !== undefined ? { concurrency: Number(values.concurrency) } : {}),
  });
  for (const g of outcome.goals) console.log(`${g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: ${g.measured}`);
  if (!outcome.goals.every((g) => g.pass)) process.exitCode = 1;
}
