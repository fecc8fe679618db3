// The Google benchmark's child process (bench/google.ts): it opens the Google provider the way
// the CLI does (googleEntry.open: a key file, google.rootUrls, globalThis.fetch), scans once,
// and prints one JSON line with the calls by route, what was in flight at once and its peak RSS,
// so that the scan's memory is its own and not the in-memory APIs'.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * The scan, run in a child process: open the provider from the config the parent passes, collect,
 * evaluate, and print one JSON line. From dist/ (built by `npm run bench`) under plain node, as
 * the CLI runs; from src/ under tsx when dist/ has no Google provider.
 */
const CHILD_SOURCE = `
const base = process.env.DORMANT_BENCH_BASE;
const ext = base.endsWith('/src/') ? '.ts' : '.js';
const { parseConfig } = await import(base + 'config/config' + ext);
const { evaluate } = await import(base + 'engine/evaluate' + ext);
const { googleEntry } = await import(base + 'providers/google/google-entry' + ext);
const { GoogleCallCounter } = await import(base + 'providers/google/google-http' + ext);
const config = parseConfig(JSON.parse(process.env.DORMANT_BENCH_CONFIG));

// The network under the session's own counting fetch: count by route (GoogleCallCounter, as
// the session does) and measure what is in flight at once.
const counter = new GoogleCallCounter();
const network = globalThis.fetch;
const inFlight = { all: 0, keys: 0, activities: 0, accounts: 0 };
const max = { all: 0, keys: 0, activities: 0, accounts: 0, projects: 0 };
const projects = new Map();
const classify = (path) =>
  path.endsWith('/keys') ? 'keys' : path.endsWith('/activities:query') ? 'activities' : path.endsWith('/serviceAccounts') ? 'accounts' : null;
globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  counter.count(method, url);
  const kind = classify(url.pathname);
  const project = /\\/projects\\/([^/]+)/.exec(url.pathname)?.[1];
  inFlight.all += 1;
  max.all = Math.max(max.all, inFlight.all);
  if (kind) {
    inFlight[kind] += 1;
    max[kind] = Math.max(max[kind], inFlight[kind]);
  }
  if (project) {
    projects.set(project, (projects.get(project) ?? 0) + 1);
    max.projects = Math.max(max.projects, projects.size);
  }
  try {
    return await network(input, init);
  } finally {
    inFlight.all -= 1;
    if (kind) inFlight[kind] -= 1;
    if (project) {
      const n = projects.get(project) - 1;
      if (n === 0) projects.delete(project);
      else projects.set(project, n);
    }
  }
};

const t0 = performance.now();
const session = await googleEntry.open({ config });
const inv = await session.scanner.collect();
const t1 = performance.now();
const evaluated = evaluate(inv.identities, config, new Date());
const t2 = performance.now();
const keyUse = {};
let users = 0;
let accounts = 0;
for (const i of inv.identities) {
  if (i.kind === 'user') users += 1;
  if (i.kind !== 'service-account') continue;
  accounts += 1;
  for (const c of i.credentials ?? []) {
    if (c.kind !== 'key') continue;
    const word = c.lastUse === 'used' ? (Date.now() - Date.parse(c.lastUsedAt) > 90 * 86400000 ? 'used > 90 days ago' : 'used ≤ 90 days ago') : c.lastUse;
    keyUse[word] = (keyUse[word] ?? 0) + 1;
  }
}
process.stdout.write(JSON.stringify({
  users,
  accounts,
  keyUse,
  warnings: inv.warnings,
  failures: inv.failures ?? [],
  findings: evaluated.reduce((n, e) => n + e.hits.length, 0),
  collectMs: t1 - t0,
  evaluateMs: t2 - t1,
  maxRssKb: process.resourceUsage().maxRSS,
  sessionCalls: session.calls(),
  calls: counter.describe(),
  routes: counter.snapshot(),
  retries: counter.retryCount,
  max,
}) + '\\n');
`;

export interface ChildResult {
  users: number;
  accounts: number;
  keyUse: Record<string, number>;
  warnings: string[];
  failures: unknown[];
  findings: number;
  collectMs: number;
  evaluateMs: number;
  maxRssKb: number;
  sessionCalls: string | null;
  calls: string | null;
  routes: Record<string, number>;
  retries: number;
  max: { all: number; keys: number; activities: number; accounts: number; projects: number };
  loader: 'node (dist)' | 'tsx (src)';
  wallMs: number;
}

export function runChild(env: Record<string, string>): Promise<ChildResult> {
  const fromDist = existsSync(join(DIST, 'providers/google/google-entry.js'));
  const base = fromDist ? DIST : fileURLToPath(new URL('../src/', import.meta.url));
  const args = [...(fromDist ? [] : ['--import', 'tsx']), '--input-type=module', '-e', CHILD_SOURCE];
  const wall0 = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, {
      env: { ...process.env, ...env, DORMANT_BENCH_BASE: base },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-8192)));
    proc.once('error', reject);
    proc.once('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`google bench child exited ${code}: ${err || out}`));
      else
        resolve({
          ...(JSON.parse(line) as Omit<ChildResult, 'loader' | 'wallMs'>),
          loader: fromDist ? 'node (dist)' : 'tsx (src)',
          wallMs: performance.now() - wall0,
        });
    });
  });
}
