// AWS Organizations end to end (issue 9, DESIGN §8), as a user runs it: the built CLI
// (`node dist/cli/main.js`, run `npm run build` first) against moto with an organization of 12
// accounts in OUs, one suspended, stale users in several members. Verdicts per account;
// include/exclude by id, glob and OU; a member whose role is missing, one whose trust expects
// another external id, and one throttled past the retries, each a failure of its own account;
// then plan and apply across three accounts with the guards counting per account.
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetLoginProfileCommand,
  IAMClient,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanResult } from '../src/model/finding.js';
import { type CliExit, type Workspace, describeRun, runInWorkspace } from './support/cli.js';
import { activeSeedUser, staleSeedUser } from './support/identities.js';
import { MOTO_ACCOUNT_ID, type MotoServer, awsTestEnv, startMoto } from './support/moto.js';
import { type BuiltOrg, MEMBER_ROLE_POLICY_NAME, buildOrg } from './support/motoOrg.js';
import { freshDir, writeConfig } from './scan-helpers.js';

let moto: MotoServer;
let org: BuiltOrg;
const ws: Workspace = { cwd: '', db: '' };

/** name → account id of the built organization. */
const id = (name: string): string => {
  const a = org.accounts.find((x) => x.name === name);
  if (!a) throw new Error(`no account ${name}`);
  return a.id;
};

function stsClient(): STSClient {
  const env = awsTestEnv(moto.endpoint);
  return new STSClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

/** An IAM client inside a member account, as the management account's admin would get one. */
async function memberIam(account: string): Promise<IAMClient> {
  const sts = stsClient();
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'test-admin',
      ExternalId: 'right-id',
    }),
  );
  sts.destroy();
  const c = out.Credentials!;
  return new IAMClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
  });
}

function dormant(args: string[], env: Record<string, string> = {}, config = 'org.yml'): Promise<CliExit> {
  return runInWorkspace(ws, ['--config', config, ...args], { endpoint: moto.endpoint, env, timeoutMs: 120_000 });
}

async function scanJson(
  args: string[],
  env: Record<string, string> = {},
  config?: string,
): Promise<{ r: CliExit; doc: ScanResult }> {
  const r = await dormant(['scan', '--org', '--format', 'json', ...args], env, config);
  if (r.stdout.trim() === '') throw new Error(`no document: ${describeRun(r)}`);
  return { r, doc: JSON.parse(r.stdout) as ScanResult };
}

const inactiveByAccount = (doc: ScanResult): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const i of doc.identities.filter((x) => x.state === 'inactive')) (out[i.account] ??= []).push(i.name);
  for (const names of Object.values(out)) names.sort();
  return out;
};

beforeAll(async () => {
  moto = await startMoto();
  org = await buildOrg(moto, {
    ous: [{ name: 'prod' }, { name: 'data', parent: 'prod' }, { name: 'dev' }, { name: 'sandbox' }],
    managementUsers: [staleSeedUser('mgmt-stale'), activeSeedUser('mgmt-admin')],
    accounts: [
      { name: 'prod-web', ou: 'prod', users: [staleSeedUser('web-old'), activeSeedUser('web-ci')] },
      { name: 'prod-api', ou: 'prod', users: [activeSeedUser('api-ci')] },
      { name: 'prod-db', ou: 'data', users: [staleSeedUser('db-old'), staleSeedUser('db-older')] },
      { name: 'prod-lake', ou: 'data', users: [activeSeedUser('lake-etl')] },
      {
        name: 'dev-a',
        ou: 'dev',
        users: [staleSeedUser('a-1'), staleSeedUser('a-2'), staleSeedUser('a-3'), activeSeedUser('a-4')],
      },
      { name: 'dev-b', ou: 'dev', users: [staleSeedUser('b-1'), activeSeedUser('b-2'), activeSeedUser('b-3')] },
      { name: 'dev-c', ou: 'dev', users: [staleSeedUser('c-1'), activeSeedUser('c-2'), activeSeedUser('c-3')] },
      { name: 'sandbox-1', ou: 'sandbox', users: [activeSeedUser('s1')] },
      { name: 'sandbox-2', ou: 'sandbox', users: [staleSeedUser('s2-old')] },
      { name: 'sandbox-3', ou: 'sandbox', users: [activeSeedUser('s3')] },
      { name: 'sandbox-closed', ou: 'sandbox', suspended: true, users: [] },
    ],
  });
  ws.cwd = freshDir('dormant-org-');
  ws.db = `${ws.cwd}/state.db`;
  writeConfig(ws.cwd, 'inactiveDays: 90\n', 'org.yml');
}, 120_000);

afterAll(async () => {
  await moto?.stop();
});

describe('scan --org', () => {
  it('scans every ACTIVE account, the management one with the caller, and lists the suspended one as skipped', async () => {
    const { r, doc } = await scanJson([]);
    expect(r.code, describeRun(r)).toBe(0);
    const active = org.accounts.filter((a) => a.status === 'ACTIVE').map((a) => a.id);
    expect(active).toHaveLength(10);
    expect([...doc.accounts].sort()).toEqual([MOTO_ACCOUNT_ID, ...active].sort());
    expect(doc.skipped).toEqual([
      { provider: 'aws', account: id('sandbox-closed'), reason: 'account sandbox-closed is suspended' },
    ]);
    expect(r.stderr).toContain(`skipped aws ${id('sandbox-closed')}: account sandbox-closed is suspended`);
    expect(doc.failures).toBeUndefined();
    expect(inactiveByAccount(doc)).toEqual({
      [MOTO_ACCOUNT_ID]: ['mgmt-stale'],
      [id('prod-web')]: ['web-old'],
      [id('prod-db')]: ['db-old', 'db-older'],
      [id('dev-a')]: ['a-1', 'a-2', 'a-3'],
      [id('dev-b')]: ['b-1'],
      [id('dev-c')]: ['c-1'],
      [id('sandbox-2')]: ['s2-old'],
    });
    // Each account's users once, in their own account; the role dormant assumed is the caller there.
    const seen = doc.identities.filter((i) => i.kind === 'user').map((i) => `${i.account}/${i.name}`);
    expect(new Set(seen).size).toBe(seen.length);
    expect(doc.identities.find((i) => i.name === 'web-ci')?.account).toBe(id('prod-web'));
    const memberRole = doc.identities.find((i) => i.account === id('prod-web') && i.kind === 'role');
    expect(memberRole?.isCaller).toBe(true);
    expect(doc.findings.every((f) => f.account === doc.identities.find((i) => i.id === f.identityId)?.account)).toBe(
      true,
    );
  });

  it('narrows to accounts by id, by name glob and by OU (nested OUs included), exclude winning', async () => {
    const byId = await scanJson([], {}, writeConfig(ws.cwd, orgYaml({ include: [id('dev-b')] }), 'by-id.yml'));
    expect(byId.doc.accounts).toEqual([id('dev-b')]);
    const byGlob = await scanJson(
      [],
      {},
      writeConfig(ws.cwd, orgYaml({ include: ['dev-*'], exclude: ['*-c'] }), 'by-glob.yml'),
    );
    expect([...byGlob.doc.accounts].sort()).toEqual([id('dev-a'), id('dev-b')].sort());
    const byOu = await scanJson(
      [],
      {},
      writeConfig(ws.cwd, orgYaml({ include: [org.ous['prod']!], exclude: [id('prod-api')] }), 'by-ou.yml'),
    );
    expect([...byOu.doc.accounts].sort()).toEqual([id('prod-web'), id('prod-db'), id('prod-lake')].sort());
    const noneLeft = await dormant(
      ['scan', '--org'],
      {},
      writeConfig(ws.cwd, orgYaml({ include: ['nothing-*'] }), 'none.yml'),
    );
    expect(noneLeft.code, describeRun(noneLeft)).toBe(2);
    expect(noneLeft.stderr.trim()).toBe(
      'dormant: no ACTIVE account of the Organization is left by aws.organization.include/exclude; check the lists',
    );
  });

  it('lists a member whose role is missing, and one whose trust expects another external id, as failures of their own', async () => {
    // Made while moto still lets anything assume anything; then AssumeRole is checked as AWS does.
    const sandbox3 = await memberIam(id('sandbox-3'));
    await sandbox3.send(
      new DeleteRolePolicyCommand({ RoleName: 'OrganizationAccountAccessRole', PolicyName: MEMBER_ROLE_POLICY_NAME }),
    );
    await sandbox3.send(new DeleteRoleCommand({ RoleName: 'OrganizationAccountAccessRole' }));
    sandbox3.destroy();
    const prodLake = await memberIam(id('prod-lake'));
    await prodLake.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'OrganizationAccountAccessRole',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'sts:ExternalId': 'right-id' } },
            },
          ],
        }),
      }),
    );
    prodLake.destroy();
    await moto.trust(true);
    try {
      const config = writeConfig(ws.cwd, orgYaml({ externalId: true }), 'xid.yml');
      const strict = await scanJson([], { DORMANT_TEST_XID: 'wrong-id' }, config);
      expect(strict.r.code, describeRun(strict.r)).toBe(3);
      const failed = Object.fromEntries((strict.doc.failures ?? []).map((f) => [f.account, f.reason]));
      expect(Object.keys(failed).sort()).toEqual([id('sandbox-3'), id('prod-lake')].sort());
      const lakeArn = `arn:aws:iam::${id('prod-lake')}:role/OrganizationAccountAccessRole`;
      expect(failed[id('prod-lake')]).toBe(
        `AWS denied sts:AssumeRole into ${lakeArn} (AccessDenied); check that the role exists in account ${id('prod-lake')}, trusts the management account and expects the external id aws.organization.externalId names, or set aws.organization.roleName`,
      );
      expect(strict.r.stderr).toMatch(
        /^dormant: 2 account\(s\) could not be read \(aws \d{12}: AWS denied sts:AssumeRole/m,
      );
      expect(strict.r.stderr).not.toContain('wrong-id');
      // The other accounts are whole: their users are all there.
      expect(strict.doc.identities.some((i) => i.name === 'a-4')).toBe(true);
      expect(strict.doc.accounts).not.toContain(id('sandbox-3'));

      const right = await scanJson(['--allow-partial'], { DORMANT_TEST_XID: 'right-id' }, config);
      expect(right.r.code, describeRun(right.r)).toBe(0);
      expect((right.doc.failures ?? []).map((f) => f.account)).toEqual([id('sandbox-3')]);
      expect(right.doc.identities.some((i) => i.name === 'lake-etl')).toBe(true);
      expect(right.r.stderr).toContain(
        `partial scan: aws ${id('sandbox-3')} could not be read: AWS denied sts:AssumeRole`,
      );

      const unset = await dormant(['scan', '--org'], {}, config);
      expect(unset.code).toBe(2);
      expect(unset.stderr.trim()).toBe(
        'dormant: aws.organization.externalId.env: the environment variable DORMANT_TEST_XID is not set (or empty); export it, or set aws.organization.externalId to null',
      );
    } finally {
      await moto.trust(false);
    }
  });

  it('fails only the account IAM throttles past the retries', async () => {
    await moto.faults({ account: id('dev-c'), throttle: 1000 });
    try {
      const config = writeConfig(ws.cwd, `${orgYaml({ include: ['dev-*'] })}  maxAttempts: 2\n`, 'throttle.yml');
      const { r, doc } = await scanJson([], {}, config);
      expect(r.code, describeRun(r)).toBe(3);
      expect((doc.failures ?? []).map((f) => f.account)).toEqual([id('dev-c')]);
      expect(doc.failures![0]!.reason).toMatch(/throttl/i);
      expect([...doc.accounts].sort()).toEqual([id('dev-a'), id('dev-b')].sort());
    } finally {
      await moto.faults({ account: id('dev-c'), throttle: 0 });
    }
  });
});

interface PlanJson {
  id: string;
  items: { id: string; identityName: string; account: string; action: string }[];
}

describe('plan and apply across accounts', () => {
  it('plans three accounts, guards each account, and acts in each through its role', async () => {
    const three = [id('dev-a'), id('dev-b'), id('dev-c')];
    const yaml = (pct: number) =>
      `${orgYaml({ include: three })}remediation:\n  maxActionsPercent: ${pct}\n  deleteAfterDays: null\n`;
    writeConfig(ws.cwd, yaml(40), 'apply40.yml');
    writeConfig(ws.cwd, yaml(80), 'apply80.yml');
    const planned = await dormant(['plan', '--org', '--format', 'json'], {}, 'apply40.yml');
    expect(planned.code, describeRun(planned)).toBe(0);
    const plan = JSON.parse(planned.stdout) as PlanJson;
    const disables = plan.items.filter((i) => i.action === 'disable-user');
    expect(disables.map((i) => `${i.account}/${i.identityName}`).sort()).toEqual(
      [`${three[0]}/a-1`, `${three[0]}/a-2`, `${three[0]}/a-3`, `${three[1]}/b-1`, `${three[2]}/c-1`].sort(),
    );
    // The role dormant assumes in each member is the caller there: never in a plan.
    expect(plan.items.some((i) => i.identityName === 'OrganizationAccountAccessRole')).toBe(false);
    const approve = await dormant(['approve', plan.id, '--all', '--by', 'alice'], {}, 'apply40.yml');
    expect(approve.code, describeRun(approve)).toBe(0);

    // 5 of the 13 identities is within 40%, but dev-a's 3 of its 5 (4 users and the role) is not; at 80%
    // its 3 of 4 users pass too.
    const refused = await dormant(['apply', plan.id, '--org'], {}, 'apply40.yml');
    expect(refused.code, describeRun(refused)).toBe(4);
    expect(refused.stderr.trim()).toBe(
      `dormant: plan ${plan.id} would act on 3 of 5 identities in aws account ${three[0]}, more than remediation.maxActionsPercent (40%, 2); review the plan or raise the limit`,
    );

    // Without --org an item in another account is bad usage (exit 2, one line); nothing changes,
    // which the five actions of the run below prove.
    const noOrg = await dormant(['apply', plan.id], {}, 'apply80.yml');
    expect(noOrg.code, describeRun(noOrg)).toBe(2);
    const m =
      /^dormant: user [abc]-1 is in AWS account (\d{12}), but the credentials are for account (\d{12}); use that account's profile, or --org to act through aws.organization.roleName$/.exec(
        noOrg.stderr.trim(),
      );
    expect(m, noOrg.stderr).not.toBeNull();
    expect(three).toContain(m![1]);
    expect(m![2]).toBe(MOTO_ACCOUNT_ID);

    const applied = await dormant(['apply', plan.id, '--org'], {}, 'apply80.yml');
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout).toMatch(/5 done, 0 skipped, 0 failed/);
    for (const [account, names] of [
      [three[0]!, ['a-1', 'a-2', 'a-3']],
      [three[1]!, ['b-1']],
      [three[2]!, ['c-1']],
    ] as const) {
      const iam = await memberIam(account);
      for (const name of names) {
        const err = await iam.send(new GetLoginProfileCommand({ UserName: name })).catch((e: Error) => e);
        expect((err as Error).name, `${account}/${name}`).toMatch(/^NoSuchEntity/);
      }
      // The active users of the same accounts keep their passwords.
      const kept = account === three[0] ? 'a-4' : account === three[1] ? 'b-2' : 'c-2';
      await expect(iam.send(new GetLoginProfileCommand({ UserName: kept }))).resolves.toBeDefined();
      iam.destroy();
    }
  });
});

function orgYaml(o: { include?: string[]; exclude?: string[]; externalId?: boolean }): string {
  const list = (xs: string[] | undefined) => `[${(xs ?? []).map((x) => JSON.stringify(x)).join(', ')}]`;
  return [
    'inactiveDays: 90',
    'aws:',
    '  organization:',
    `    include: ${list(o.include)}`,
    `    exclude: ${list(o.exclude)}`,
    ...(o.externalId ? ['    externalId: { env: DORMANT_TEST_XID }'] : []),
    '',
  ].join('\n');
}
