// The Entra benchmark: a scan of 20,000 users through the Entra provider, over HTTPS against the
// Graph fake (21 pages of at most 999). The fake runs in this process; the scan runs in a child
// process, so that its peak RSS (process.resourceUsage().maxRSS) is the scan's alone.
// `npx tsx bench/entra.ts` runs it alone.
// Goals (issue 7): calls = pages + 1 token request; peak RSS under 200 MB.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GraphFake, ensureTestTls } from '../test/support/graphFake.js';
import { type BenchOutcome, fmtInt, fmtMs, table } from './bench-util.js';

export interface EntraBenchOptions {
  users: number;
}

interface ChildResult {
  identities: number;
  findings: number;
  collectMs: number;
  evaluateMs: number;
  maxRssKb: number;
  calls: string;
  routes: Record<string, number>;
  tokens: number;
}

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * The scan, run in a child process: open the provider from the config the parent passes, collect,
 * evaluate, and print one JSON line. From dist/ (built by `npm run bench`) under plain node, as
 * the CLI runs; from src/ under tsx (about 35 MB more RSS for the loader) when dist/ has no Entra.
 */
const CHILD_SOURCE = `
const base = process.env.DORMANT_BENCH_BASE;
const ext = base.endsWith('/src/') ? '.ts' : '.js';
const { parseConfig } = await import(base + 'config/config' + ext);
const { evaluate } = await import(base + 'engine/evaluate' + ext);
const { entraEntry } = await import(base + 'providers/entra/entra-entry' + ext);
const config = parseConfig(JSON.parse(process.env.DORMANT_BENCH_CONFIG));
const t0 = performance.now();
const session = await entraEntry.open({ config });
const inv = await session.scanner.collect();
const t1 = performance.now();
const evaluated = evaluate(inv.identities, config, new Date());
const t2 = performance.now();
process.stdout.write(JSON.stringify({
  identities: inv.identities.length,
  findings: evaluated.reduce((n, e) => n + e.hits.length, 0),
  collectMs: t1 - t0,
  evaluateMs: t2 - t1,
  maxRssKb: process.resourceUsage().maxRSS,
  calls: session.calls(),
}) + '\\n');
`;

interface ChildResult {
  identities: number;
  findings: number;
  collectMs: number;
  evaluateMs: number;
  maxRssKb: number;
  calls: string;
  loader: 'node (dist)' | 'tsx (src)';
}

function runChild(env: Record<string, string>): Promise<ChildResult> {
  const fromDist = existsSync(join(DIST, 'providers/entra/entra-entry.js'));
  const base = fromDist ? DIST : fileURLToPath(new URL('../src/', import.meta.url));
  const args = [...(fromDist ? [] : ['--import', 'tsx']), '--input-type=module', '-e', CHILD_SOURCE];
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
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`entra bench child exited ${code}: ${err || out}`));
      else
        resolve({
          ...(JSON.parse(line) as Omit<ChildResult, 'loader'>),
          loader: fromDist ? 'node (dist)' : 'tsx (src)',
        });
    });
  });
}

export async function runEntraBench(options: EntraBenchOptions = { users: 20_000 }): Promise<BenchOutcome> {
  const started = Date.now();
  // The fake warns unless this process would trust it; only the child is its client, so the
  // variable is set just for the check and put back for whatever runs after.
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = ensureTestTls().caPath;
  const fake = await new GraphFake().start();
  if (extraCa === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
  else process.env.NODE_EXTRA_CA_CERTS = extraCa;
  try {
    const tenant = fake.addTenant({ displayName: 'Contoso', domains: ['contoso.onmicrosoft.com'] });
    const secret = randomUUID();
    const app = tenant.addApp({
      secret,
      roles: ['User.Read.All', 'AuditLog.Read.All', 'RoleManagement.Read.Directory'],
    });
    const seedStart = performance.now();
    tenant.addUsers(options.users);
    const seedMs = performance.now() - seedStart;
    tenant.addDirectoryRole({ displayName: 'Global Administrator', members: [] });
    const config = {
      entra: {
        enabled: true,
        tenantId: tenant.tenantId,
        clientId: app.clientId,
        clientSecret: { env: 'DORMANT_BENCH_ENTRA_SECRET' },
        authorityHost: fake.url,
        graphUrl: fake.url,
      },
    };
    fake.clearRequests();
    const wall0 = performance.now();
    const result = await runChild({
      DORMANT_BENCH_CONFIG: JSON.stringify(config),
      DORMANT_BENCH_ENTRA_SECRET: secret,
      NODE_EXTRA_CA_CERTS: ensureTestTls().caPath,
    });
    const wallMs = performance.now() - wall0;

    const pages = Math.ceil(options.users / 999);
    const usersPages = fake.callsTo('/v1.0/users', 'GET').length;
    const tokenPosts = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/oauth2/v2.0/token')).length;
    const metadata = fake.requests.filter((r) => r.path.endsWith('/.well-known/openid-configuration')).length;
    const graphCalls = fake.requests.filter((r) => r.path.startsWith('/v1.0/')).length;
    const rssMb = result.maxRssKb / 1024;
    console.log(`Entra scan of ${fmtInt(options.users)} users through the Graph fake (seeded in ${fmtMs(seedMs)})`);
    console.log(
      table(
        ['what', 'value'],
        [
          ['GET /users pages', String(usersPages)],
          ['other Graph calls (GET /directoryRoles)', String(graphCalls - usersPages)],
          ['token requests (+ OpenID metadata GETs)', `${tokenPosts} (+${metadata})`],
          ['provider count', result.calls],
          ['identities', fmtInt(result.identities)],
          ['findings', fmtInt(result.findings)],
          ['open + collect', fmtMs(result.collectMs)],
          ['evaluate', fmtMs(result.evaluateMs)],
          ['child wall time (incl. start-up)', fmtMs(wallMs)],
          [`peak RSS of the scan (${result.loader})`, `${rssMb.toFixed(0)} MB`],
        ],
      ),
    );
    return {
      name: 'entra',
      goals: [
        {
          benchmark: 'entra',
          goal: `calls = pages + 1 token (${pages} + 1 = ${pages + 1})`,
          measured: `${usersPages} pages + ${tokenPosts} token = ${usersPages + tokenPosts}; plus ${graphCalls - usersPages} GET /directoryRoles for protected roles`,
          pass: usersPages === pages && tokenPosts === 1 && result.identities === options.users,
        },
        {
          benchmark: 'entra',
          goal: 'peak RSS < 200 MB',
          measured: `${rssMb.toFixed(0)} MB`,
          pass: rssMb < 200,
        },
      ],
      resultsFile: null,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await fake.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outcome = await runEntraBench();
  for (const g of outcome.goals) console.log(`${g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: ${g.measured}`);
}
