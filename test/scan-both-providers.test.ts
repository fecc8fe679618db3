// One scan document for every provider (DESIGN §3; issue 7 §2 "One scan document for all
// providers"): the built CLI against moto (backdated IAM users) and the Graph fake at once.
// - `scan --provider aws,entra --format json`: identities and findings of both, each with its
//   `provider` and `account`; `accounts` lists the AWS account id and the tenant id; `providers`
//   lists both sources; `source` is "mixed";
// - the table groups findings by provider and account, under an `aws · <account>` and an
//   `entra · <tenant>` header;
// - `entra.enabled: true` makes a plain `dormant scan` include Entra (and without it, not);
// - `--provider gcp` exits 2 with one line naming the choices;
// - a plan with items of both providers, approved with --all and applied in one `dormant apply`,
//   disables the AWS user in moto and the Entra user in the fake.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { describeRun, runCli as runDormant, type CliExit } from './support/cli.js';
import { addMember, entraEnv, entraSection, startEntra, type EntraHarness } from './support/entraCli.js';
import { MOTO_ACCOUNT_ID, iamAccessKeys, iamHasLoginProfile, useMoto } from './support/moto.js';
import {
  agoFrom,
  expectOneLineError,
  freshDir,
  parseReport,
  wholeSecondNow,
  writeConfig,
  type JsonReport,
} from './scan-helpers.js';

const { moto, iam } = useMoto();
let h: EntraHarness;
let dir: string;
/** entra.enabled: false, so only `--provider` brings Entra in. */
let configOff: string;
/** entra.enabled: true. */
let configOn: string;
const entraUsers: Record<'stale' | 'never' | 'active', { id: string; upn: string }> = {} as never;

const AWS_USERS = ['aws-both-stale', 'aws-both-keyonly', 'aws-both-active'];

interface MixedReport extends JsonReport {
  providers: { provider: string; source: string; accounts: string[]; dataAsOf: string | null }[];
  findings: (JsonReport['findings'][number] & { provider: string; account: string })[];
}

const run = (args: string[], config = configOff): Promise<CliExit> =>
  runDormant([...args, '--config', config], {
    cwd: dir,
    endpoint: moto.endpoint,
    env: entraEnv(h),
    timeoutMs: 60_000,
  });

async function scanJson(args: string[], config = configOff): Promise<MixedReport> {
  const r = await run(['scan', '--format', 'json', ...args], config);
  const report = parseReport({ status: r.code, stdout: r.stdout, stderr: r.stderr }) as MixedReport;
  return report;
}

beforeAll(async () => {
  const base = wholeSecondNow();
  await moto.seed({
    users: [
      {
        name: 'aws-both-stale',
        createDate: agoFrom(base, 400),
        password: true,
        passwordLastUsed: agoFrom(base, 200),
        keys: [{ createDate: agoFrom(base, 400), lastUsed: agoFrom(base, 200) }],
      },
      {
        name: 'aws-both-keyonly',
        createDate: agoFrom(base, 300),
        keys: [{ createDate: agoFrom(base, 300), lastUsed: agoFrom(base, 150) }],
      },
      {
        name: 'aws-both-active',
        createDate: agoFrom(base, 400),
        password: true,
        passwordLastUsed: agoFrom(base, 2),
        keys: [{ createDate: agoFrom(base, 30), lastUsed: agoFrom(base, 1) }],
      },
    ],
  });
  h = await startEntra();
  entraUsers.stale = addMember(h.tenant, 'entra-both-stale', { signedInDaysAgo: 200 });
  entraUsers.never = addMember(h.tenant, 'entra-both-never', { signedInDaysAgo: null, createdDaysAgo: 200 });
  entraUsers.active = addMember(h.tenant, 'entra-both-active', { signedInDaysAgo: 3 });
  dir = freshDir('dormant-scan-both-');
  const top = { inactiveDays: 90, remediation: { deleteAfterDays: null, maxActionsPercent: 100 } };
  configOff = writeConfig(dir, stringify({ ...top, entra: entraSection(h, { enabled: false }) }), 'off.yml');
  configOn = writeConfig(dir, stringify({ ...top, entra: entraSection(h, { enabled: true }) }), 'on.yml');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('dormant scan --provider aws,entra', () => {
  it('prints one document with the identities and findings of both, each naming its provider and account', async () => {
    const report = await scanJson(['--provider', 'aws,entra']);
    const tenant = h.tenant.tenantId;
    expect(report.schemaVersion).toBe(1);
    expect(report.source).toBe('mixed');
    expect(report.accounts).toEqual([MOTO_ACCOUNT_ID, tenant]);
    expect(report.providers.map((p) => ({ provider: p.provider, source: p.source, accounts: p.accounts }))).toEqual([
      { provider: 'aws', source: 'credential-report', accounts: [MOTO_ACCOUNT_ID] },
      { provider: 'entra', source: 'graph', accounts: [tenant] },
    ]);

    const accountOf: Record<string, string> = { aws: MOTO_ACCOUNT_ID, entra: tenant };
    for (const i of report.identities) expect(i.account, `${i.provider} ${i.name}`).toBe(accountOf[i.provider]);
    const names = (provider: string) =>
      report.identities
        .filter((i) => i.provider === provider)
        .map((i) => i.name)
        .sort();
    expect(names('aws')).toEqual([...AWS_USERS].sort());
    expect(names('entra')).toEqual([entraUsers.active.upn, entraUsers.never.upn, entraUsers.stale.upn].sort());
    expect(report.identities).toHaveLength(6);
    expect(report.summary.identities).toBe(6);

    // Every finding names the provider and account of its identity.
    const identities = new Map(report.identities.map((i) => [i.id, i]));
    for (const f of report.findings) {
      const i = identities.get(f.identityId);
      expect(i, `the identity of finding ${f.id}`).toBeDefined();
      expect({ provider: f.provider, account: f.account }).toEqual({ provider: i!.provider, account: i!.account });
    }
    const verdicts = (provider: string) =>
      report.findings
        .filter((f) => f.provider === provider)
        .map((f) => `${f.identityName} ${f.ruleId}`)
        .sort();
    expect(verdicts('entra')).toEqual(
      [`${entraUsers.never.upn} DORMANT-ENTRA-003`, `${entraUsers.stale.upn} DORMANT-ENTRA-001`].sort(),
    );
    expect(verdicts('aws')).toEqual([
      'aws-both-keyonly DORMANT-AWS-001',
      'aws-both-keyonly DORMANT-AWS-002',
      'aws-both-keyonly DORMANT-AWS-005',
      'aws-both-stale DORMANT-AWS-001',
      'aws-both-stale DORMANT-AWS-002',
      'aws-both-stale DORMANT-AWS-004',
      'aws-both-stale DORMANT-AWS-005',
    ]);
    // Each provider's part is what a scan of that provider alone finds: same ids, same messages.
    const [awsAlone, entraAlone] = await Promise.all([
      scanJson(['--provider', 'aws']),
      scanJson(['--provider', 'entra']),
    ]);
    const part = (r: MixedReport, provider?: string) =>
      r.findings
        .filter((f) => provider === undefined || f.provider === provider)
        .map((f) => `${f.id} ${f.message}`)
        .sort();
    expect(part(report, 'aws')).toEqual(part(awsAlone));
    expect(part(report, 'entra')).toEqual(part(entraAlone));
    expect(awsAlone.accounts).toEqual([MOTO_ACCOUNT_ID]);
    expect(entraAlone.accounts).toEqual([tenant]);
    expect(report.findings.map((f) => f.provider)).toEqual([
      ...report.findings.filter((f) => f.provider === 'aws').map(() => 'aws'),
      ...report.findings.filter((f) => f.provider === 'entra').map(() => 'entra'),
    ]);
    const state = Object.fromEntries(report.identities.map((i) => [i.name, i.state]));
    expect(state).toMatchObject({
      'aws-both-stale': 'inactive',
      'aws-both-active': 'active',
      [entraUsers.stale.upn]: 'inactive',
      [entraUsers.never.upn]: 'inactive',
      [entraUsers.active.upn]: 'active',
    });
  });

  it('the table groups the findings by provider and account', async () => {
    const r = await run(['scan', '--provider', 'aws,entra', '--format', 'table']);
    expect(r.code, describeRun(r)).toBe(0);
    const lines = r.stdout.split('\n');
    const awsHeader = lines.indexOf(`aws · ${MOTO_ACCOUNT_ID}`);
    const entraHeader = lines.indexOf(`entra · ${h.tenant.tenantId}`);
    expect(awsHeader, r.stdout).toBeGreaterThan(0);
    expect(entraHeader, r.stdout).toBeGreaterThan(awsHeader);
    const userLine = (name: string) => lines.findIndex((l) => l.startsWith(`${name} `));
    for (const name of ['aws-both-stale', 'aws-both-keyonly']) {
      expect(userLine(name), name).toBeGreaterThan(awsHeader);
      expect(userLine(name), name).toBeLessThan(entraHeader);
    }
    for (const u of [entraUsers.stale, entraUsers.never]) expect(userLine(u.upn), u.upn).toBeGreaterThan(entraHeader);
    expect(userLine('aws-both-active')).toBe(-1);
    expect(userLine(entraUsers.active.upn)).toBe(-1);
    expect(r.stdout).toMatch(/^6 users · 4 inactive · 0 exempt · \d+ findings$/m);
    expect(r.stdout).toContain(
      `source: aws credential-report, entra graph · window 90 days · accounts ${MOTO_ACCOUNT_ID}, ${h.tenant.tenantId}`,
    );
  });

  it('entra.enabled: true makes a plain scan include Entra; without it, a plain scan is AWS alone', async () => {
    const on = await scanJson([], configOn);
    expect(on.source).toBe('mixed');
    expect(on.accounts).toEqual([MOTO_ACCOUNT_ID, h.tenant.tenantId]);
    expect(on.providers.map((p) => p.provider)).toEqual(['aws', 'entra']);
    expect(on.identities.filter((i) => i.provider === 'entra')).toHaveLength(3);

    const off = await scanJson([], configOff);
    expect(off.source).toBe('credential-report');
    expect(off.accounts).toEqual([MOTO_ACCOUNT_ID]);
    expect(off.providers.map((p) => p.provider)).toEqual(['aws']);
    expect(off.identities.every((i) => i.provider === 'aws')).toBe(true);
  });

  it('--provider gcp exits 2 with one line naming the choices', async () => {
    const graphCalls = h.fake.requests.length;
    const r = await run(['scan', '--provider', 'gcp', '--format', 'json']);
    const line = expectOneLineError({ status: r.code, stdout: r.stdout, stderr: r.stderr }, 2, 'gcp', 'aws', 'entra');
    expect(line).toMatch(/^dormant: /);
    expect(r.stdout).toBe('');
    expect(h.fake.requests.length, 'nothing was asked of Graph').toBe(graphCalls);
  });
});

describe('a plan of both providers', () => {
  it('is approved with --all and applied in one run, acting on AWS and on Entra', async () => {
    const db = join(dir, 'both.db');
    const cli = (...args: string[]) => run([...args, '--db', db]);
    const planned = await cli('plan', '--provider', 'aws,entra', '--format', 'json');
    expect(planned.code, describeRun(planned)).toBe(0);
    const plan = JSON.parse(planned.stdout) as {
      id: string;
      items: { id: string; provider: string; account: string; identityName: string; action: string }[];
    };
    expect(plan.items.map((i) => `${i.provider} ${i.account} ${i.identityName} ${i.action}`)).toEqual([
      `aws ${MOTO_ACCOUNT_ID} aws-both-keyonly disable-user`,
      `aws ${MOTO_ACCOUNT_ID} aws-both-stale disable-user`,
      `entra ${h.tenant.tenantId} ${entraUsers.never.upn} disable-user`,
      `entra ${h.tenant.tenantId} ${entraUsers.stale.upn} disable-user`,
    ]);

    const approved = await cli('approve', plan.id, '--all', '--by', 'both-test');
    expect(approved.code, describeRun(approved)).toBe(0);
    const applied = await cli('apply', plan.id, '--by', 'both-test');
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`^${plan.items.length} done, 0 skipped, 0 failed, 0 waiting\\n$`, 'm'));

    // AWS (moto): the stale users' keys deactivated and password removed; the active user untouched.
    expect((await iamAccessKeys(iam, 'aws-both-stale')).map((k) => k.Status)).toEqual(['Inactive']);
    expect(await iamHasLoginProfile(iam, 'aws-both-stale')).toBe(false);
    expect((await iamAccessKeys(iam, 'aws-both-keyonly')).map((k) => k.Status)).toEqual(['Inactive']);
    expect((await iamAccessKeys(iam, 'aws-both-active')).map((k) => k.Status)).toEqual(['Active']);
    expect(await iamHasLoginProfile(iam, 'aws-both-active')).toBe(true);

    // Entra (the fake): both inactive users blocked from sign-in, their sessions revoked; the
    // active user untouched.
    for (const u of [entraUsers.stale, entraUsers.never]) {
      expect(h.tenant.user(u.id)?.accountEnabled, u.upn).toBe(false);
      expect(
        h.tenant.revocations.filter((r) => r.userId === u.id),
        u.upn,
      ).toHaveLength(1);
    }
    expect(h.tenant.user(entraUsers.active.id)?.accountEnabled).toBe(true);
    expect(h.tenant.revocations.filter((r) => r.userId === entraUsers.active.id)).toEqual([]);

    // One run did it all: history shows every item done, of both providers.
    const hist = await cli('history', '--format', 'json');
    expect(hist.code, describeRun(hist)).toBe(0);
    const doc = JSON.parse(hist.stdout) as { plans: { id: string; items: { status: string }[] }[] };
    expect(doc.plans.find((p) => p.id === plan.id)?.items.map((i) => i.status)).toEqual(plan.items.map(() => 'done'));
  });
});
