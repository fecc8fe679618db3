// Least privilege, proven (issue 11 part 2; DESIGN §4, §6): moto with its IAM enforcement on
// (test/support/moto_enforced_launcher.py), principals whose only permissions are exactly what
// `dormant permissions --mode scan|remediate|export` prints, and the same verdicts, the same
// round trip and the same export as an administrator gets. Then every printed action is taken
// away in turn: the command that needs it fails with one line naming it and exit 3, or falls
// back where DESIGN says it does; an action whose removal changes nothing must say why it is
// there (a call only real AWS checks), or it is a defect. Run `npm run build` first.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteUserCommand,
  GetInstanceProfileCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListInstanceProfilesForRoleCommand,
  ListRolePoliciesCommand,
  ListSigningCertificatesCommand,
  ListSSHPublicKeysCommand,
  ListUserTagsCommand,
  ListVirtualMFADevicesCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CliExit, type Workspace, describeRun, runCli, runInWorkspace } from './support/cli.js';
import {
  ADMIN_POLICY,
  type RoleSink,
  type Sink,
  type World,
  InProcess,
  buildWorld,
  kitchenSink,
  roleSink,
  verdicts,
  writeProfiles,
} from './support/leastPrivilege.js';
import { iamClient } from './support/moto.js';
import {
  type EnforcedMoto,
  type Principal,
  actionsOf,
  createPrincipal,
  envFor,
  iamAs,
  setPolicy,
  startEnforcedMoto,
  without,
} from './support/motoEnforced.js';
import { NEEDS, type Need } from './aws-least-privilege-needs.js';
import { type Observed, observe } from './support/leastPrivilegeProbes.js';

const PASSWORD = 'Temporary-Passw0rd!';
const SETTINGS = {
  remediation: { deleteAfterDays: 0, maxActionsPercent: 100, maxActionsPerRun: 1000 },
};

let moto: EnforcedMoto;
let admin: IAMClient;
let world: World;
let tmp: string;
let ws: Workspace;
let run: InProcess;
const policies: Record<'scan' | 'remediate' | 'export', object> = { scan: {}, remediate: {}, export: {} };
const who = {} as Record<'admin' | 'scanner' | 'remediator' | 'exporter', Principal>;
const savedEnv = { ...process.env };
let sinks = 0;

/** `dormant ARGS` as a principal: its key in the environment, nothing else of the machine's. */
function dormant(principal: Principal, args: string[], env: Record<string, string> = {}): Promise<CliExit> {
  return runInWorkspace(ws, args, { env: { ...envFor(moto.endpoint, principal.key), ...env } });
}

async function ok(principal: Principal, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await dormant(principal, args, env);
  expect(r.code, describeRun(r)).toBe(0);
  return r.stdout;
}

/** A fresh kitchen-sink user (a new name each time: earlier ones may be half-deleted by design). */
function sink(prefix = 'sink'): Promise<Sink> {
  return kitchenSink(moto, admin, world, `${prefix}-${++sinks}`);
}

/** A fresh kitchen-sink role. */
function role(prefix = 'role'): Promise<RoleSink> {
  return roleSink(moto, admin, world, `${prefix}-${++sinks}`);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dormant-least-privilege-'));
  ws = { cwd: tmp, db: join(tmp, 'state.db') };
  writeFileSync(join(tmp, 'dormant.yml'), stringify(SETTINGS));
  for (const mode of ['scan', 'remediate', 'export'] as const) {
    const printed = await runCli(['permissions', '--mode', mode], { baseEnv: { PATH: process.env.PATH ?? '' } });
    expect(printed.code, describeRun(printed)).toBe(0);
    policies[mode] = JSON.parse(printed.stdout) as object;
  }
  moto = await startEnforcedMoto();
  // Set up with moto's unchecked credentials, then switch enforcement on for good.
  const root = iamClient(moto.endpoint);
  who.admin = await createPrincipal(root, 'dormant-admin', ADMIN_POLICY);
  who.scanner = await createPrincipal(root, 'dormant-scanner', policies.scan);
  who.remediator = await createPrincipal(root, 'dormant-remediator', policies.remediate);
  who.exporter = await createPrincipal(root, 'dormant-exporter', policies.export);
  world = await buildWorld(moto, root);
  root.destroy();
  await moto.enforce(true);
  admin = iamAs(moto.endpoint, who.admin.key);
  // In this process, sessions name their principal by profile; no key is ever in the environment.
  for (const k of Object.keys(process.env)) {
    if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|DEFAULT_PROFILE|ENDPOINT_URL.*)$/.test(k)) {
      delete process.env[k];
    }
  }
  Object.assign(process.env, writeProfiles(tmp, Object.values(who)));
  run = new InProcess(moto.endpoint, ws.db, SETTINGS);
}, 120_000);

afterAll(async () => {
  admin?.destroy();
  await moto?.stop();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('moto with IAM enforcement', () => {
  it('refuses what a principal was not granted, unknown keys and bad signatures; allows the administrator', async () => {
    const scanner = iamAs(moto.endpoint, who.scanner.key);
    const forged = iamAs(moto.endpoint, { accessKeyId: who.scanner.key.accessKeyId, secretAccessKey: 'wrong' });
    const stranger = iamAs(moto.endpoint, { accessKeyId: 'testing', secretAccessKey: 'testing' });
    try {
      const refused = await scanner.send(new DeleteUserCommand({ UserName: 'active-ann' })).catch((e: Error) => e);
      expect(refused).toMatchObject({ name: 'AccessDenied' });
      expect((refused as Error).message).toMatch(/dormant-scanner is not authorized to perform: iam:DeleteUser/);
      await expect(forged.send(new GetUserCommand({ UserName: 'active-ann' }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
      await expect(stranger.send(new GetUserCommand({ UserName: 'active-ann' }))).rejects.toMatchObject({
        name: 'InvalidClientTokenId',
      });
      // The scan policy reads, on any resource.
      const tags = await scanner.send(new ListUserTagsCommand({ UserName: 'exempt-ed' }));
      expect(tags.Tags).toContainEqual({ Key: 'dormant:exempt', Value: 'true' });
      expect((await admin.send(new GetUserCommand({ UserName: 'active-ann' }))).User?.UserName).toBe('active-ann');
    } finally {
      for (const c of [scanner, forged, stranger]) c.destroy();
    }
  });
});

describe('exactly the printed policies are enough', () => {
  it('scan: the scan policy gives the verdicts the administrator gets, from the report and from the API', async () => {
    const scanAs = async (p: Principal, source: string) =>
      JSON.parse(await ok(p, ['scan', '--key-ids', '--source', source, '--format', 'json'])) as Parameters<
        typeof verdicts
      >[0];
    const adminReport = await scanAs(who.admin, 'report');
    const expected = verdicts(adminReport);
    // The world is what it should be, so that "the same" means something.
    expect(expected).toMatchObject({
      identities: expect.arrayContaining([
        expect.objectContaining({ name: 'exempt-ed', state: 'exempt' }),
        expect.objectContaining({ name: 'stale-pat', state: 'inactive' }),
        expect.objectContaining({ name: 'active-ann', state: 'active' }),
      ]) as unknown,
    });
    const findings = (expected as { findings: unknown[][] }).findings;
    expect(findings.filter((f) => f[0] === 'stale-pat' && f[1] === 'DORMANT-AWS-002')).toHaveLength(2);
    expect(findings.some((f) => f[0] === 'never-nia' && f[1] === 'DORMANT-AWS-003')).toBe(true);
    expect(findings.some((f) => f[0] === 'rotate-rob' && f[1] === 'DORMANT-AWS-005')).toBe(true);

    expect(verdicts(await scanAs(who.admin, 'api'))).toEqual(expected);
    expect(verdicts(await scanAs(who.scanner, 'report'))).toEqual(expected);
    expect(verdicts(await scanAs(who.scanner, 'api'))).toEqual(expected);
  });

  it('remediate: plan, approve, apply (disable, then delete) and restore of a kitchen-sink user', async () => {
    const sam = await sink('sam');
    const plan = JSON.parse(await ok(who.remediator, ['plan', '--format', 'json'])) as {
      id: string;
      items: { id: string; identityName: string; action: string }[];
    };
    const mine = plan.items.filter((i) => i.identityName === sam.name);
    expect(mine.map((i) => i.action)).toEqual(['disable-user', 'delete-user']);
    await ok(who.remediator, ['approve', plan.id, ...mine.map((i) => i.id), '--by', 'alice']);
    const applied = await ok(who.remediator, ['apply', plan.id]);
    expect(applied).toMatch(/2 done, 0 skipped, 0 failed/);
    expect(await exists(sam.name)).toBe(false);
    const virtual = await admin.send(new ListVirtualMFADevicesCommand({}));
    expect((virtual.VirtualMFADevices ?? []).map((d) => d.SerialNumber)).not.toContain(sam.mfaSerial);

    const restored = await ok(who.remediator, ['restore', sam.name, '--with-password'], {
      DORMANT_RESTORE_PASSWORD: PASSWORD,
    });
    expect(await live(sam.name)).toEqual(fullUser(sam));
    expect(restored).toMatch(/MFA device [^\n]* cannot come back/);
    expect(restored).toMatch(/service-specific credential [^\n]*cannot be restored/);
    for (const key of sam.keys) expect(restored).toContain(`access key ${key} was deleted`);
  });

  it('remediate: a disabled kitchen-sink user is restored in place (keys reactivated, tags and boundary re-applied)', async () => {
    const dee = await sink('dee');
    const plan = await run.plan('dormant-remediator', [dee.name], (action) => action === 'disable-user');
    const applied = await ok(who.remediator, ['apply', plan.id]);
    expect(applied).toMatch(/1 done, 0 skipped, 0 failed/);
    const keys = (await admin.send(new ListAccessKeysCommand({ UserName: dee.name }))).AccessKeyMetadata ?? [];
    expect(keys.map((k) => k.Status)).toEqual(['Inactive', 'Inactive']);

    const restored = await ok(who.remediator, ['restore', dee.name]);
    expect(restored).toMatch(/tag\(s\) of user [^\n]* were re-applied/);
    expect(restored).toMatch(/Permissions boundary [^\n]* was re-applied/);
    const after = (await admin.send(new ListAccessKeysCommand({ UserName: dee.name }))).AccessKeyMetadata ?? [];
    expect(after.map((k) => k.Status)).toEqual(['Active', 'Active']);
    // The console password comes back only on request (--with-password).
    expect(await live(dee.name)).toEqual({ ...fullUser(dee), login: false });
  });

  it('remediate: a stale role is quarantined, deleted and recreated from its backup', async () => {
    const svc = await role('svc');
    const plan = JSON.parse(await ok(who.remediator, ['plan', '--format', 'json'])) as {
      id: string;
      items: { id: string; identityName: string; action: string }[];
    };
    const mine = plan.items.filter((i) => i.identityName === svc.name);
    expect(mine.map((i) => i.action)).toEqual(['disable-user', 'delete-user']);
    await ok(who.remediator, ['approve', plan.id, ...mine.map((i) => i.id), '--by', 'alice']);
    expect(await ok(who.remediator, ['apply', plan.id])).toMatch(/2 done, 0 skipped, 0 failed/);
    expect(await roleExists(svc.name)).toBe(false);
    // The instance profile is kept (instances may name it), without the role.
    const profile = await admin.send(new GetInstanceProfileCommand({ InstanceProfileName: svc.profile }));
    expect(profile.InstanceProfile?.Roles ?? []).toEqual([]);

    const restored = await ok(who.remediator, ['restore', svc.name]);
    expect(restored).toMatch(/Role [^\n]* was recreated/);
    expect(await liveRole(svc.name)).toEqual(fullRole(svc));
  });

  it('remediate: a quarantined role is restored in place (the quarantine lifted)', async () => {
    const ops = await role('ops');
    const plan = await run.plan('dormant-remediator', [ops.name], (action) => action === 'disable-user');
    expect(await ok(who.remediator, ['apply', plan.id])).toMatch(/1 done, 0 skipped, 0 failed/);
    const quarantined = await admin.send(new ListRolePoliciesCommand({ RoleName: ops.name }));
    expect(quarantined.PolicyNames).toHaveLength(2);

    const restored = await ok(who.remediator, ['restore', ops.name]);
    expect(restored).toMatch(/quarantine [^\n]* was removed/);
    expect(await liveRole(ops.name)).toEqual(fullRole(ops));
  });

  it('export: the export policy imports the findings into Security Hub', async () => {
    const out = await ok(who.exporter, ['export', 'securityhub', '--source', 'report']);
    expect(out).toMatch(/^imported [1-9]\d*, archived \d+, failed 0 /);
  });
});

describe('every printed action is needed', () => {
  it('lists a way to show the need of every action the three policies print, and no other', () => {
    const printed = new Set(Object.values(policies).flatMap(actionsOf));
    expect(Object.keys(NEEDS).sort()).toEqual([...printed].sort());
  });

  it('taking any one away makes the command that needs it fail naming it (exit 3), or fall back as documented', async () => {
    const modeOf = { scanner: 'scan', remediator: 'remediate', exporter: 'export' } as const;
    const baseline = verdicts(await run.scan('dormant-admin', 'report'));
    const failures: string[] = [];
    const cases = Object.entries(NEEDS).flatMap(([action, needs]) =>
      (Array.isArray(needs) ? needs : [needs]).map((need): [string, Need] => [action, need]),
    );
    for (const [action, need] of cases) {
      const principal = who[need.principal];
      const full = policies[modeOf[need.principal]];
      const ctx = {
        action,
        probe: need.probe,
        run,
        principal,
        dormant,
        sink,
        roleSink: role,
        admin,
        moto,
        world,
        password: PASSWORD,
      };
      let seen: Observed;
      const prepared = await need.prepare?.(ctx);
      await setPolicy(admin, principal, without(full, action));
      try {
        seen = await observe(ctx, prepared);
      } finally {
        await setPolicy(admin, principal, full);
      }
      const problem = need.check(seen, action, baseline);
      if (problem) failures.push(`${action} (${need.probe}): ${problem}`);
    }
    expect(failures).toEqual([]);
  }, 240_000);
});

// ---------------------------------------------------------------- reading IAM back

async function exists(name: string): Promise<boolean> {
  try {
    await admin.send(new GetUserCommand({ UserName: name }));
    return true;
  } catch (err) {
    expect((err as Error).name).toMatch(/^NoSuchEntity/);
    return false;
  }
}

/** What a restore must bring back, read live. */
async function live(name: string): Promise<unknown> {
  const user = (await admin.send(new GetUserCommand({ UserName: name }))).User!;
  const tags = (await admin.send(new ListUserTagsCommand({ UserName: name }))).Tags ?? [];
  const groups = (await admin.send(new ListGroupsForUserCommand({ UserName: name }))).Groups ?? [];
  const attached = (await admin.send(new ListAttachedUserPoliciesCommand({ UserName: name }))).AttachedPolicies ?? [];
  const ssh = (await admin.send(new ListSSHPublicKeysCommand({ UserName: name }))).SSHPublicKeys ?? [];
  const certs = (await admin.send(new ListSigningCertificatesCommand({ UserName: name }))).Certificates ?? [];
  const login = await admin.send(new GetLoginProfileCommand({ UserName: name })).then(
    (r) => r.LoginProfile?.PasswordResetRequired === true,
    () => false,
  );
  return {
    path: user.Path,
    boundary: user.PermissionsBoundary?.PermissionsBoundaryArn,
    tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
    groups: groups.map((g) => g.GroupName).sort(),
    attached: attached.map((p) => p.PolicyArn),
    ssh: ssh.map((k) => k.Status).sort(),
    certs: certs.map((c) => c.Status).sort(),
    login,
  };
}

async function roleExists(name: string): Promise<boolean> {
  try {
    await admin.send(new GetRoleCommand({ RoleName: name }));
    return true;
  } catch (err) {
    expect((err as Error).name).toMatch(/^NoSuchEntity/);
    return false;
  }
}

/** What a role's restore must bring back, read live. */
async function liveRole(name: string): Promise<unknown> {
  const r = (await admin.send(new GetRoleCommand({ RoleName: name }))).Role!;
  const attached = (await admin.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
  const inline = (await admin.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
  const profiles =
    (await admin.send(new ListInstanceProfilesForRoleCommand({ RoleName: name }))).InstanceProfiles ?? [];
  return {
    path: r.Path,
    trust: JSON.parse(decodeURIComponent(r.AssumeRolePolicyDocument ?? '')) as unknown,
    description: r.Description,
    maxSession: r.MaxSessionDuration,
    boundary: r.PermissionsBoundary?.PermissionsBoundaryArn,
    tags: Object.fromEntries((r.Tags ?? []).map((t) => [t.Key, t.Value])),
    attached: attached.map((p) => p.PolicyArn),
    inline,
    profiles: profiles.map((p) => p.InstanceProfileName),
  };
}

function fullRole(r: RoleSink): Record<string, unknown> {
  return {
    path: r.path,
    trust: r.trustPolicy,
    description: 'batch jobs nobody runs any more',
    maxSession: 7200,
    boundary: world.boundaryArn,
    tags: r.tags,
    attached: [world.policyArn],
    inline: ['scratch'],
    profiles: [r.profile],
  };
}

function fullUser(s: Sink): Record<string, unknown> {
  return {
    path: s.path,
    boundary: world.boundaryArn,
    tags: s.tags,
    groups: world.groups,
    attached: [world.policyArn],
    ssh: ['Active', 'Inactive'],
    certs: ['Active', 'Inactive'],
    login: true,
  };
}
