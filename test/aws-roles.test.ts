// DORMANT-AWS-006 unused IAM roles end to end, as a user runs them: the built CLI
// (`node dist/cli/main.js`, so run `npm run build` first) against moto. Every role case in one
// account and the same verdicts from both sources; a principal denied
// GetAccountAuthorizationDetails; roles turned off; then, on both stores, plan → apply
// (quarantine) → apply the delete after its delay → restore recreates the role with everything;
// a role used between plan and apply is skipped; the role dormant runs as is never acted on.
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateServiceLinkedRoleCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import type { BackupEnvelope } from '../src/model/backup.js';
import type { ScanResult } from '../src/model/finding.js';
import type { RoleBackup } from '../src/providers/aws/aws-role-backup.js';
import { listBackups } from '../src/store/backups.js';
import { type CliExit, type Workspace, describeRun, runCli, runInWorkspace } from './support/cli.js';
import { startFaultProxy } from './support/faultProxy.js';
import { activeSeedUser, staleSeedUser } from './support/identities.js';
import { MOTO_ACCOUNT_ID, useMoto } from './support/moto.js';
import { ENGINES, useBothEngines, withStore } from './support/stores.js';
import { freshDir, writeConfig } from './scan-helpers.js';

const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString();
const arn = (name: string, path = '/') => `arn:aws:iam::${MOTO_ACCOUNT_ID}:role${path}${name}`;

const { moto, iam } = useMoto({ resetEach: true });
const stores = useBothEngines('dormant-roles-');

const LAMBDA_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const ACCOUNT_TRUST = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` },
      Action: 'sts:AssumeRole',
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    },
  ],
};
const INLINE_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::deploy/*' }],
};

function parsePolicy(document: string | undefined): unknown {
  const text = (document ?? '').trimStart().startsWith('{') ? document! : decodeURIComponent(document ?? '');
  return JSON.parse(text) as unknown;
}

async function scanJson(args: string[], options: { endpoint?: string; config?: string } = {}): Promise<ScanResult> {
  const dir = freshDir('dormant-roles-scan-');
  const config = writeConfig(dir, options.config ?? 'inactiveDays: 90\n');
  const r = await runCli(['scan', '--key-ids', '--format', 'json', '--config', config, ...args], {
    endpoint: options.endpoint ?? moto.endpoint,
    cwd: dir,
  });
  expect(r.code, describeRun(r)).toBe(0);
  return JSON.parse(r.stdout) as ScanResult;
}

/** Every role case of DESIGN §2b in one account, plus a stale and an active user. */
async function seedEveryCase(): Promise<void> {
  await moto.seed({
    users: [staleSeedUser('stale-user'), activeSeedUser('active-user')],
    roles: [
      { name: 'recent-role', createDate: ago(900), lastUsed: ago(10) },
      { name: 'stale-role', createDate: ago(900), lastUsed: ago(120), lastUsedRegion: 'eu-west-1' },
      { name: 'young-unused', createDate: ago(30) },
      { name: 'unused-200', createDate: ago(200) },
      { name: 'ancient-unused', createDate: ago(900) },
      { name: 'lambda-runner', createDate: ago(900), lastUsed: ago(300), trustPolicy: LAMBDA_TRUST },
      { name: 'tagged-keep', createDate: ago(900), lastUsed: ago(300), tags: { 'dormant:exempt': 'true' } },
      { name: 'breakglass-admin', path: '/breakglass/', createDate: ago(900), lastUsed: ago(300) },
      { name: 'web-server', createDate: ago(900), lastUsed: ago(200) },
    ],
  });
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'web-profile' }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'web-profile', RoleName: 'web-server' }));
  const slr = await iam.send(new CreateServiceLinkedRoleCommand({ AWSServiceName: 'elasticbeanstalk.amazonaws.com' }));
  await moto.backdate({ roles: [{ name: slr.Role!.RoleName!, createDate: ago(900) }] });
}

type Verdicts = Record<string, { kind: string; state: string; exempt: string | null; rules: string[] }>;

function verdicts(doc: ScanResult): Verdicts {
  const out: Verdicts = {};
  for (const i of doc.identities) {
    out[i.name] = {
      kind: i.kind,
      state: i.state,
      exempt: i.exemptReason,
      rules: doc.findings.filter((f) => f.identityId === i.id).map((f) => f.ruleId),
    };
  }
  return out;
}

describe('unused IAM roles on moto', () => {
  it('every role case gets its verdict, and both sources give the same ones', async () => {
    await seedEveryCase();
    const config = "inactiveDays: 90\nexempt:\n  users: ['/breakglass/*']\n";
    const report = await scanJson(['--source', 'report'], { config });
    const api = await scanJson(['--source', 'api'], { config });
    expect(verdicts(api)).toEqual(verdicts(report));
    expect(api.findings.map((f) => [f.identityName, f.message])).toEqual(
      report.findings.map((f) => [f.identityName, f.message]),
    );

    const v = verdicts(report);
    const flagged = { kind: 'role', state: 'inactive', exempt: null, rules: ['DORMANT-AWS-006'] };
    const active = { kind: 'role', state: 'active', exempt: null, rules: [] };
    expect(v['recent-role']).toEqual(active);
    expect(v['stale-role']).toEqual(flagged);
    expect(v['young-unused']).toEqual(active);
    expect(v['unused-200']).toEqual(flagged);
    expect(v['ancient-unused']).toEqual(flagged);
    expect(v['web-server']).toEqual(flagged);
    expect(v['AWSServiceRoleForElasticBeanstalk']).toMatchObject({ state: 'exempt', rules: [] });
    expect(v['AWSServiceRoleForElasticBeanstalk']!.exempt).toMatch(/^service-linked role/);
    expect(v['lambda-runner']).toEqual({
      kind: 'role',
      state: 'exempt',
      exempt: 'only AWS services can assume it (trust policy: lambda.amazonaws.com)',
      rules: [],
    });
    expect(v['tagged-keep']).toEqual({ kind: 'role', state: 'exempt', exempt: 'tag dormant:exempt=true', rules: [] });
    expect(v['breakglass-admin']).toEqual({
      kind: 'role',
      state: 'exempt',
      exempt: "config exempt.users matches '/breakglass/*'",
      rules: [],
    });
    // The users are scanned as before, beside the roles.
    expect(v['stale-user']).toMatchObject({ kind: 'user', state: 'inactive' });
    expect(v['active-user']).toMatchObject({ kind: 'user', state: 'active', rules: [] });

    // What the document says about a role, by the fields README documents.
    const byName = new Map(report.identities.map((i) => [i.name, i as unknown as Record<string, unknown>]));
    expect(byName.get('stale-role')).toMatchObject({
      id: arn('stale-role'),
      path: '/',
      signIn: { lastUse: 'used' },
      lastUsedRegion: 'eu-west-1',
      trustPrincipals: [{ type: 'AWS', value: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` }],
      serviceLinked: false,
      quarantined: false,
      enabled: true,
    });
    expect(byName.get('young-unused')).toMatchObject({ signIn: { lastUse: 'never', at: null } });
    expect(byName.get('unused-200')).toMatchObject({ signIn: { lastUse: 'never', at: null } });
    expect(byName.get('ancient-unused')).toMatchObject({ signIn: { lastUse: 'before-tracking', at: null } });
    expect(byName.get('web-server')).toMatchObject({ instanceProfiles: ['web-profile'] });
    expect(byName.get('AWSServiceRoleForElasticBeanstalk')).toMatchObject({ serviceLinked: true });
    const messages = new Map(report.findings.map((f) => [f.identityName, f.message]));
    expect(messages.get('stale-role')).toBe('Role stale-role was last used 120 days ago (window 90 days).');
    expect(messages.get('unused-200')).toBe(
      'Role unused-200 was created 200 days ago and has never been used (window 90 days).',
    );
    expect(messages.get('ancient-unused')).toBe(
      'Role ancient-unused was created 900 days ago and has not been used in the 400 days RoleLastUsed covers (window 90 days).',
    );
    // (moto's credential report carries an old GeneratedTime: that warning is not about roles.)
    expect(report.warnings.filter((w) => /role/i.test(w))).toEqual([]);
  });

  it('reads the roles in one GetAccountAuthorizationDetails call, filtered to roles, 1000 a page', async () => {
    await moto.seed({ roles: Array.from({ length: 30 }, (_, i) => ({ name: `role-${i}`, createDate: ago(10) })) });
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      const doc = await scanJson(['--source', 'api'], { endpoint: proxy.url });
      expect(doc.identities.filter((i) => i.kind === 'role')).toHaveLength(30);
      const gaad = proxy.requests.filter((r) => r.action === 'GetAccountAuthorizationDetails');
      expect(gaad).toHaveLength(1);
      expect(gaad[0]!.params.get('Filter.member.1')).toBe('Role');
      expect(gaad[0]!.params.has('Filter.member.2')).toBe(false);
      expect(gaad[0]!.params.get('MaxItems')).toBe('1000');
      // No per-role call at all.
      expect(proxy.requests.filter((r) => /Role/.test(r.action)).map((r) => r.action)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('a principal denied GetAccountAuthorizationDetails gets its users scanned and one warning', async () => {
    await moto.seed({ users: [staleSeedUser('stale-user')], roles: [{ name: 'stale-role', createDate: ago(900) }] });
    const proxy = await startFaultProxy(moto.endpoint, {
      onRequest: (r) =>
        r.action === 'GetAccountAuthorizationDetails'
          ? {
              status: 403,
              code: 'AccessDenied',
              message: `User: arn:aws:iam::${MOTO_ACCOUNT_ID}:user/auditor is not authorized to perform: iam:GetAccountAuthorizationDetails`,
            }
          : undefined,
    });
    try {
      const doc = await scanJson([], { endpoint: proxy.url });
      expect(doc.identities.map((i) => [i.name, i.kind])).toEqual([['stale-user', 'user']]);
      expect(doc.findings.map((f) => f.ruleId)).toContain('DORMANT-AWS-001');
      expect(doc.warnings.filter((w) => /role/i.test(w))).toEqual([
        "AWS denied iam:GetAccountAuthorizationDetails (AccessDenied): IAM roles were not scanned; grant it ('dormant permissions') or turn off rules.unused-role",
      ]);
    } finally {
      await proxy.stop();
    }
  });

  it('rules.unused-role.enabled: false leaves roles out, without a single role call', async () => {
    await moto.seed({ users: [activeSeedUser('bob')], roles: [{ name: 'stale-role', createDate: ago(900) }] });
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      const doc = await scanJson([], { endpoint: proxy.url, config: 'rules:\n  unused-role: { enabled: false }\n' });
      expect(doc.identities.map((i) => i.name)).toEqual(['bob']);
      expect(proxy.requests.map((r) => r.action)).not.toContain('GetAccountAuthorizationDetails');
    } finally {
      await proxy.stop();
    }
  });
});

// ---------------------------------------------------------------- plan, apply, restore

interface PlanJson {
  id: string;
  items: {
    id: string;
    identityId: string;
    identityName: string;
    action: string;
    sentence: string;
    ruleIds: string[];
  }[];
}

function dormant(ws: Workspace, args: string[], env: Record<string, string> = {}): Promise<CliExit> {
  return runInWorkspace(ws, args, { endpoint: moto.endpoint, env });
}

async function ok(ws: Workspace, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await dormant(ws, args, env);
  expect(r.code, describeRun(r)).toBe(0);
  return r.stdout;
}

/** A role with everything the backup holds, unused for 200 days. */
async function createRichRole(name: string): Promise<{ policyArn: string; boundaryArn: string }> {
  const managed = await iam.send(
    new CreatePolicyCommand({
      PolicyName: 'ci-read',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }],
      }),
    }),
  );
  const boundary = await iam.send(
    new CreatePolicyCommand({
      PolicyName: 'ci-boundary',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
    }),
  );
  await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      Path: '/ci/',
      AssumeRolePolicyDocument: JSON.stringify(ACCOUNT_TRUST),
      Description: 'deploys the old site',
      MaxSessionDuration: 7200,
      PermissionsBoundary: boundary.Policy!.Arn!,
      Tags: [
        { Key: 'team', Value: 'ci' },
        { Key: 'owner', Value: 'carol@example.com' },
      ],
    }),
  );
  await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: managed.Policy!.Arn! }));
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: name,
      PolicyName: 'deploy-bucket',
      PolicyDocument: JSON.stringify(INLINE_DOCUMENT),
    }),
  );
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'ci-runner', Path: '/ci/' }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'ci-runner', RoleName: name }));
  await moto.backdate({ roles: [{ name, createDate: ago(900), lastUsed: ago(200) }] });
  return { policyArn: managed.Policy!.Arn!, boundaryArn: boundary.Policy!.Arn! };
}

async function roleExists(name: string): Promise<boolean> {
  try {
    await iam.send(new GetRoleCommand({ RoleName: name }));
    return true;
  } catch (err) {
    expect((err as Error).name).toMatch(/^NoSuchEntity/);
    return false;
  }
}

async function inlineNames(name: string): Promise<string[]> {
  return ((await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? []).sort();
}

/** A session of the role, as STS hands it out (moto then counts every call made with it as a use). */
async function assume(roleName: string): Promise<Record<string, string>> {
  const sts = new STSClient({
    endpoint: moto.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: arn(roleName), RoleSessionName: 'ops-session' }));
    const c = out.Credentials!;
    return {
      AWS_ACCESS_KEY_ID: c.AccessKeyId!,
      AWS_SECRET_ACCESS_KEY: c.SecretAccessKey!,
      AWS_SESSION_TOKEN: c.SessionToken!,
    };
  } finally {
    sts.destroy();
  }
}

describe.each(ENGINES)('retiring an unused role, store %s', (engine) => {
  const workspace = (config: string): Promise<Workspace> => stores.workspace(engine, config);

  it('plan, quarantine, delete after the delay, restore recreates the role with everything', async () => {
    const ws = await workspace('remediation:\n  deleteAfterDays: 30\n  maxActionsPercent: 100\n');
    const name = 'old-deployer';
    const { policyArn, boundaryArn } = await createRichRole(name);
    await moto.seed({ users: [activeSeedUser('active-bob')], roles: [{ name: 'busy-role', lastUsed: ago(1) }] });
    const roleArn = arn(name, '/ci/');

    // ---- plan: a quarantine now, a delete 30 days after it, in a role's words
    const p = JSON.parse(await ok(ws, ['plan', '--format', 'json'])) as PlanJson;
    expect(p.items.map((i) => [i.identityName, i.action, i.identityId, i.ruleIds])).toEqual([
      [name, 'disable-user', roleArn, ['DORMANT-AWS-006']],
      [name, 'delete-user', roleArn, ['DORMANT-AWS-006']],
    ]);
    expect(p.items[0]!.sentence).toBe(
      `Quarantine IAM role ${name}: attach the deny-all inline policy dormant-quarantine (unused 200 days)`,
    );
    expect(p.items[1]!.sentence).toMatch(
      new RegExp(`^Delete IAM role ${name} completely after a backup, 30 days after it is quarantined: remove it`),
    );
    await ok(ws, ['approve', p.id, ...p.items.map((i) => i.id), '--by', 'alice', '--reason', 'unused']);

    // ---- apply: the quarantine, and nothing else changes
    const first = await dormant(ws, ['apply', p.id]);
    expect(first.code, describeRun(first)).toBe(0);
    expect(first.stdout).toMatch(/1 done, 0 skipped, 0 failed, 1 waiting/);
    expect(await inlineNames(name)).toEqual(['deploy-bucket', 'dormant-quarantine']);
    const quarantine = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'dormant-quarantine' }));
    expect(parsePolicy(quarantine.PolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'DormantQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
    });
    const profiles = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: name }));
    expect(profiles.InstanceProfiles?.map((x) => x.InstanceProfileName)).toEqual(['ci-runner']);

    // A scan now lists the role as quarantined, and does not flag it again.
    const after = JSON.parse(await ok(ws, ['scan', '--format', 'json'])) as ScanResult;
    const listed = after.identities.find((i) => i.name === name) as unknown as Record<string, unknown>;
    expect(listed).toMatchObject({ quarantined: true, enabled: false, state: 'active' });

    // The backup was taken before the quarantine, and holds the whole role.
    const backups = await withStore(ws, (store) => listBackups(store.db));
    const envelope = backups.find((b) => b.identityName === name)!.envelope as BackupEnvelope<RoleBackup>;
    expect(envelope).toMatchObject({ provider: 'aws', kind: 'role', version: 1, identityId: roleArn });
    const data = envelope.data;
    expect(data.role).toMatchObject({
      name,
      arn: roleArn,
      path: '/ci/',
      description: 'deploys the old site',
      maxSessionDuration: 7200,
      permissionsBoundary: boundaryArn,
    });
    expect(JSON.parse(data.role.trustPolicy)).toEqual(ACCOUNT_TRUST);
    expect([...data.role.tags].sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'owner', value: 'carol@example.com' },
      { key: 'team', value: 'ci' },
    ]);
    expect(data.attachedPolicies).toEqual([{ arn: policyArn, name: 'ci-read' }]);
    expect(data.inlinePolicies.map((x) => [x.name, JSON.parse(x.document) as unknown])).toEqual([
      ['deploy-bucket', INLINE_DOCUMENT],
    ]);
    expect(data.instanceProfiles).toEqual([{ name: 'ci-runner', path: '/ci/' }]);
    expect(data.quarantined).toBe(false);

    // ---- 30 days later (moved in the store: the CLI runs on the real clock), the delete is due
    await withStore(ws, (st) =>
      st.db
        .updateTable('plan_items')
        .set({ not_before: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', p.items[1]!.id)
        .execute(),
    );
    const second = await dormant(ws, ['apply', p.id]);
    expect(second.code, describeRun(second)).toBe(0);
    expect(second.stdout).toMatch(/1 done, 0 skipped, 0 failed, 0 waiting/);
    expect(await roleExists(name)).toBe(false);
    // The instance profile and the managed policy stay: EC2 instances and other roles may use them.
    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'ci-runner' }));
    expect(profile.InstanceProfile?.Roles ?? []).toEqual([]);
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy?.Arn).toBe(policyArn);
    expect(await roleExists('busy-role')).toBe(true);

    // ---- restore: the role comes back with everything, without the quarantine
    const restored = await dormant(ws, ['restore', name, '--by', 'alice']);
    expect(restored.code, describeRun(restored)).toBe(0);
    const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
    expect(role).toMatchObject({
      Arn: roleArn,
      Path: '/ci/',
      Description: 'deploys the old site',
      MaxSessionDuration: 7200,
      PermissionsBoundary: { PermissionsBoundaryArn: boundaryArn },
    });
    expect(parsePolicy(role.AssumeRolePolicyDocument)).toEqual(ACCOUNT_TRUST);
    expect(Object.fromEntries((role.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      team: 'ci',
      owner: 'carol@example.com',
    });
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
    expect(attached.AttachedPolicies?.map((x) => x.PolicyArn)).toEqual([policyArn]);
    expect(await inlineNames(name)).toEqual(['deploy-bucket']);
    const inline = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'deploy-bucket' }));
    expect(parsePolicy(inline.PolicyDocument)).toEqual(INLINE_DOCUMENT);
    const back = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: name }));
    expect(back.InstanceProfiles?.map((x) => x.InstanceProfileName)).toEqual(['ci-runner']);
    expect(restored.stdout).toContain(`Role ${name} was recreated at path /ci/ with its trust policy`);
    expect(restored.stdout).toMatch(
      new RegExp(`cannot restore: role ${name} has a new unique id \\(${role.RoleId}; it was AROA`),
    );

    // A second restore changes nothing.
    const again = await dormant(ws, ['restore', name, '--by', 'alice']);
    expect(again.code, describeRun(again)).toBe(0);
    expect((await iam.send(new GetRoleCommand({ RoleName: name }))).Role?.RoleId).toBe(role.RoleId);
    expect(await inlineNames(name)).toEqual(['deploy-bucket']);
    expect(again.stdout).not.toMatch(/restored: /);
  });

  it('a role used between plan and apply is skipped, and left as it was', async () => {
    const ws = await workspace('remediation:\n  deleteAfterDays: 30\n  maxActionsPercent: 100\n');
    await moto.seed({ roles: [{ name: 'sleepy', createDate: ago(900), lastUsed: ago(150) }, { name: 'other' }] });
    const p = JSON.parse(await ok(ws, ['plan', '--format', 'json'])) as PlanJson;
    expect(p.items.map((i) => [i.identityName, i.action])).toEqual([
      ['sleepy', 'disable-user'],
      ['sleepy', 'delete-user'],
    ]);
    await ok(ws, ['approve', p.id, ...p.items.map((i) => i.id), '--by', 'alice']);
    // Something takes a session of the role and works with it: RoleLastUsed moves to now. IAM
    // dates are whole seconds: wait past the plan's second, so the use is after it.
    await new Promise((r) => setTimeout(r, 1_100));
    const session = await assume('sleepy');
    const sts = new STSClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: {
        accessKeyId: session.AWS_ACCESS_KEY_ID!,
        secretAccessKey: session.AWS_SECRET_ACCESS_KEY!,
        sessionToken: session.AWS_SESSION_TOKEN!,
      },
    });
    await sts.send(new GetCallerIdentityCommand({}));
    sts.destroy();
    const applied = await dormant(ws, ['apply', p.id]);
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout).toMatch(/skipped: [^\n]*sleepy[^\n]*activity after the plan was made/);
    expect(await inlineNames('sleepy')).toEqual([]);
  });

  it('the role dormant runs as is never acted on', async () => {
    const ws = await workspace('remediation:\n  deleteAfterDays: 30\n  maxActionsPercent: 100\n');
    await moto.seed({
      roles: [{ name: 'dormant-runner', createDate: ago(900), lastUsed: ago(150) }, { name: 'other' }],
    });
    const p = JSON.parse(await ok(ws, ['plan', '--format', 'json'])) as PlanJson;
    expect(p.items.map((i) => i.identityName)).toEqual(['dormant-runner', 'dormant-runner']);
    await ok(ws, ['approve', p.id, ...p.items.map((i) => i.id), '--by', 'alice']);
    // Now apply runs in a session of that very role: the guard refuses the whole run.
    const applied = await dormant(ws, ['apply', p.id], await assume('dormant-runner'));
    expect(applied.code, describeRun(applied)).toBe(4);
    expect(applied.stderr).toMatch(/item 1 \(dormant-runner\) is the identity dormant runs as/);
    expect(await inlineNames('dormant-runner')).toEqual([]);
  });
});
