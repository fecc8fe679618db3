// The Organization benchmark (issue 9, DESIGN §7 and §8): whole `dormant` processes (the built
// CLI) against moto.
//  1. An organization of 200 member accounts × 25 users: `scan --org` in one process, then
//     `scan --org --workers` with 1, 2 and 4 `dormant worker` processes on PostgreSQL; the naive
//     loop (per account: AssumeRole, ListUsers, ListAccessKeys per user, GetAccessKeyLastUsed per
//     key, strictly one call at a time) in the same run. IAM calls per account come from moto's
//     own count per account (moto_org_launcher.py /calls).
//  2. One 5,000-user account, on moto and through a proxy adding 50 ms to every call: a whole
//     `dormant scan` process against the naive loop. Through the proxy the naive loop is timed on
//     its first 250 users and scaled to 5,000 (its cost per user is constant: a full run would
//     take ~10 minutes).
import { paginateListAccessKeys, paginateListUsers, GetAccessKeyLastUsedCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningCli, runCli, startCli } from '../test/support/cli.js';
import { startFaultProxy } from '../test/support/faultProxy.js';
import { activeSeedUser, staleSeedUser } from '../test/support/identities.js';
import { MOTO_ACCOUNT_ID, type MotoServer, awsTestEnv, startMoto } from '../test/support/moto.js';
import { buildOrg } from '../test/support/motoOrg.js';
import { freshPgDatabase } from '../test/support/pg.js';
import { type BenchOutcome, type Goal, fmtMs, table } from './bench-util.js';
import { syntheticAccount } from './scan-seed.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ORG_RESULTS_FILE = join(ROOT, 'bench', 'results', 'org-latest.json');

export const ORG_GOALS = { naiveOnMoto: 30, naiveThroughProxy: 50 } as const;

interface OrgRow {
  label: string;
  ms: number;
  accounts: number;
  callsPerAccount: number;
}

function creds(endpoint: string, c?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string }) {
  const env = awsTestEnv(endpoint);
  return {
    endpoint,
    region: env.AWS_REGION,
    maxAttempts: 5,
    credentials: c
      ? { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }
      : { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
}

/** The naive loop over one account's IAM, one call at a time; stops after `maxUsers` users. */
async function naiveAccount(iam: IAMClient, maxUsers = Infinity): Promise<{ users: number; calls: number }> {
  let calls = 0;
  const users: string[] = [];
  for await (const page of paginateListUsers({ client: iam }, {})) {
    calls++;
    for (const u of page.Users ?? []) if (u.UserName) users.push(u.UserName);
  }
  const some = users.slice(0, maxUsers);
  for (const name of some) {
    for await (const page of paginateListAccessKeys({ client: iam }, { UserName: name })) {
      calls++;
      for (const k of page.AccessKeyMetadata ?? []) {
        await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.AccessKeyId! }));
        calls++;
      }
    }
  }
  return { users: some.length, calls };
}

async function naiveOrg(endpoint: string, accounts: string[]): Promise<{ ms: number; calls: number }> {
  const t0 = Date.now();
  const sts = new STSClient(creds(endpoint));
  let calls = 0;
  for (const account of accounts) {
    const iam =
      account === MOTO_ACCOUNT_ID
        ? new IAMClient(creds(endpoint))
        : new IAMClient(
            creds(
              endpoint,
              (
                await sts.send(
                  new AssumeRoleCommand({
                    RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`,
                    RoleSessionName: 'naive',
                  }),
                )
              ).Credentials,
            ),
          );
    calls += 1 + (await naiveAccount(iam)).calls;
    iam.destroy();
  }
  sts.destroy();
  return { ms: Date.now() - t0, calls };
}

async function callsPerAccount(moto: MotoServer, accounts: string[]): Promise<number> {
  let total = 0;
  for (const a of accounts) total += (await moto.calls(a)).iam;
  return total / accounts.length;
}

async function timedCli(args: string[], endpoint: string, cwd: string, timeoutMs = 1_800_000): Promise<number> {
  const t0 = Date.now();
  const r = await runCli(args, { cwd, endpoint, timeoutMs });
  if (r.code !== 0) throw new Error(`dormant ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return Date.now() - t0;
}

async function orgBench(dir: string, members: number, usersPer: number, log: (s: string) => void) {
  const moto = await startMoto();
  try {
    log(`building an organization of ${members} accounts × ${usersPer} users`);
    const org = await buildOrg(moto, {
      accounts: Array.from({ length: members }, (_, i) => ({
        name: `member-${i}`,
        users: Array.from({ length: usersPer }, (_, j) =>
          j % 5 === 0 ? staleSeedUser(`old-${i}-${j}`) : activeSeedUser(`u-${i}-${j}`),
        ),
      })),
    });
    const ids = org.accounts.map((a) => a.id);
    const config = join(dir, 'org.yml');
    writeFileSync(config, 'aws:\n  organization:\n    concurrency: 8\n');
    const rows: OrgRow[] = [];
    await moto.resetCalls();
    log('scan --org, one process');
    const one = await timedCli(
      ['--config', config, '--db', join(dir, 'a.db'), 'scan', '--org', '--format', 'json', '--quiet'],
      moto.endpoint,
      dir,
    );
    rows.push({
      label: '1 process (concurrency 8)',
      ms: one,
      accounts: ids.length + 1,
      callsPerAccount: await callsPerAccount(moto, ids),
    });
    for (const n of [1, 2, 4]) {
      const pg = await freshPgDatabase();
      const workers: RunningCli[] = [];
      try {
        for (let i = 0; i < n; i++) {
          workers.push(
            startCli(['--config', config, '--db', pg.url, 'worker', '--concurrency', '8'], {
              cwd: dir,
              endpoint: moto.endpoint,
              timeoutMs: 1_800_000,
            }),
          );
        }
        await new Promise((r) => setTimeout(r, 1500));
        await moto.resetCalls();
        log(`scan --org --workers, ${n} worker(s)`);
        const ms = await timedCli(
          ['--config', config, '--db', pg.url, 'scan', '--org', '--workers', '--format', 'json', '--quiet'],
          moto.endpoint,
          dir,
        );
        rows.push({
          label: `${n} worker(s) × concurrency 8`,
          ms,
          accounts: ids.length + 1,
          callsPerAccount: await callsPerAccount(moto, ids),
        });
      } finally {
        for (const w of workers) w.kill('SIGTERM');
        await Promise.all(workers.map((w) => w.exited.catch(() => undefined)));
        await pg.drop();
      }
    }
    log('naive loop over every account');
    await moto.resetCalls();
    const naive = await naiveOrg(moto.endpoint, [MOTO_ACCOUNT_ID, ...ids]);
    return { rows, naive, naiveCallsPerAccount: await callsPerAccount(moto, ids) };
  } finally {
    await moto.stop();
  }
}

async function bigAccountBench(dir: string, users: number, log: (s: string) => void) {
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.endpoint, { onRequest: () => ({ delayMs: 50 }) });
  try {
    await moto.seed({ users: syntheticAccount(users, { seed: 7, now: Date.now() }).users });
    const out: { where: string; dormantMs: number; naiveMs: number; naiveNote: string; calls: number }[] = [];
    for (const [where, endpoint, sample] of [
      ['moto', moto.endpoint, Infinity],
      ['moto + 50 ms proxy', proxy.url, 250],
    ] as const) {
      await moto.resetCalls();
      log(`dormant scan of ${users} users (${where})`);
      const dormantMs = await timedCli(
        ['--db', join(dir, 'big.db'), 'scan', '--format', 'json', '--quiet'],
        endpoint,
        dir,
      );
      const calls = (await moto.calls(MOTO_ACCOUNT_ID)).iam;
      log(`naive loop (${where}${sample < users ? `, first ${sample} users` : ''})`);
      const iam = new IAMClient(creds(endpoint));
      const t0 = Date.now();
      const n = await naiveAccount(iam, sample);
      const sampled = Date.now() - t0;
      iam.destroy();
      const naiveMs = n.users < users ? (sampled * users) / n.users : sampled;
      out.push({
        where,
        dormantMs,
        naiveMs,
        calls,
        naiveNote: n.users < users ? `${fmtMs(sampled)} for ${n.users} users, × ${users / n.users}` : 'measured',
      });
    }
    return out;
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

export async function runOrgBench(
  options: { members?: number; usersPer?: number; bigUsers?: number } = {},
): Promise<BenchOutcome> {
  const started = Date.now();
  const members = options.members ?? 200;
  const usersPer = options.usersPer ?? 25;
  const bigUsers = options.bigUsers ?? 5000;
  const dir = mkdtempSync(join(tmpdir(), 'dormant-org-bench-'));
  const log = (s: string) => console.log(`  org bench: ${s}`);
  try {
    const org = await orgBench(dir, members, usersPer, log);
    const big = await bigAccountBench(dir, bigUsers, log);
    console.log(
      `\n== organization benchmark: ${members} member accounts × ${usersPer} users + the management account, on moto ==`,
    );
    console.log(
      table(
        ['approach', 'wall', 'accounts/min', 'IAM calls per member account', 'speed-up vs naive'],
        [
          ...org.rows.map((r) => [
            r.label,
            fmtMs(r.ms),
            (r.accounts / (r.ms / 60_000)).toFixed(0),
            r.callsPerAccount.toFixed(1),
            `${(org.naive.ms / r.ms).toFixed(1)}×`,
          ]),
          [
            'naive sequential loop',
            fmtMs(org.naive.ms),
            ((members + 1) / (org.naive.ms / 60_000)).toFixed(0),
            org.naiveCallsPerAccount.toFixed(1),
            '1.0×',
          ],
        ],
      ),
    );
    console.log(`\n== one ${bigUsers}-user account, whole dormant scan process vs the naive loop ==`);
    console.log(
      table(
        ['where', 'dormant scan', 'IAM calls', 'naive loop', 'how the naive time was had', 'speed-up'],
        big.map((b) => [
          b.where,
          fmtMs(b.dormantMs),
          String(b.calls),
          fmtMs(b.naiveMs),
          b.naiveNote,
          `${(b.naiveMs / b.dormantMs).toFixed(1)}×`,
        ]),
      ),
    );
    const reportCalls = 4 + Math.ceil(usersPer / 1000);
    const goals: Goal[] = [
      {
        benchmark: 'org',
        goal: `report-source scan of an account ≤ ${reportCalls} IAM calls (4 + ⌈users/1000⌉), whatever its findings`,
        measured: `${org.rows[0]!.callsPerAccount.toFixed(1)} per member account`,
        pass: org.rows.every((r) => r.callsPerAccount <= reportCalls),
      },
      {
        benchmark: 'org',
        goal: `${bigUsers}-user account ≥ ${ORG_GOALS.naiveOnMoto}× the naive loop on moto (whole process)`,
        measured: `${(big[0]!.naiveMs / big[0]!.dormantMs).toFixed(1)}×`,
        pass: big[0]!.naiveMs / big[0]!.dormantMs >= ORG_GOALS.naiveOnMoto,
      },
      {
        benchmark: 'org',
        goal: `${bigUsers}-user account ≥ ${ORG_GOALS.naiveThroughProxy}× the naive loop through the 50 ms proxy (whole process)`,
        measured: `${(big[1]!.naiveMs / big[1]!.dormantMs).toFixed(1)}×`,
        pass: big[1]!.naiveMs / big[1]!.dormantMs >= ORG_GOALS.naiveThroughProxy,
      },
    ];
    writeFileSync(ORG_RESULTS_FILE, `${JSON.stringify({ members, usersPer, bigUsers, org, big, goals }, null, 2)}\n`);
    return { name: 'org', goals, resultsFile: ORG_RESULTS_FILE, elapsedMs: Date.now() - started };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
