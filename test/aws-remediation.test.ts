// AwsRemediation against moto over HTTP (not mocked): backup, disable, delete, restore,
// idempotent steps, DeleteConflict, and the gaps of the emulator (DESIGN §4).
import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateVirtualMFADeviceCommand,
  DeleteGroupCommand,
  EnableMFADeviceCommand,
  GetGroupCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListMFADevicesCommand,
  ListSigningCertificatesCommand,
  ListSSHPublicKeysCommand,
  ListUserTagsCommand,
  ListVirtualMFADevicesCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  UploadSigningCertificateCommand,
  UploadSSHPublicKeyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudError } from '../src/errors.js';
import type { Config } from '../src/config/config.js';
import type { BackupEnvelope } from '../src/model/backup.js';
import type { DisableSettings } from '../src/providers/aws/aws-actions.js';
import { decodePolicyDocument, type UserBackup } from '../src/providers/aws/aws-backup.js';
import { createAwsClients, type AwsClients } from '../src/providers/aws/aws-client.js';
import { isUnsupportedOperation } from '../src/providers/aws/aws-errors.js';
import { AwsProvider } from '../src/providers/aws/aws-provider.js';
import { AwsRemediation } from '../src/providers/aws/aws-remediation.js';
import type { ActionTarget, IdentityRef, StepRunner } from '../src/providers/provider.js';
import { signingCertificate, sshPublicKey } from './support/identities.js';
import { MOTO_ACCOUNT_ID, startMoto, type MotoServer } from './support/moto.js';

/** Records step names in order; can skip steps (to simulate a step that did not happen). */
class RecordingSteps implements StepRunner {
  readonly names: string[] = [];
  readonly warnings: string[] = [];
  constructor(private readonly skip: (name: string) => boolean = () => false) {}

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.names.push(name);
    if (this.skip(name)) return undefined as T;
    return fn();
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}

const DISABLE: DisableSettings = { disableUser: ['deactivate-keys', 'remove-password'], quarantinePolicyArn: null };

const EVIDENCE_OFF: Config['evidence'] = {
  cloudtrail: { enabled: false, regions: [], depth: 20, maxRequestsPerSecond: 2, endpointUrl: null },
  accessAdvisor: { enabled: false, timeoutSeconds: 10 },
};

const INLINE_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'ScratchSpace',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: 'arn:aws:s3:::scratch-bucket/home/${aws:username}/*',
      Condition: { StringEquals: { 'aws:RequestTag/purpose': 'a b&c=d%' } },
    },
  ],
};

const MANAGED_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }],
};

const DENY_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] };

const OLD = '2025-01-01T00:00:00Z';

let moto: MotoServer;
let aws: AwsClients;
let iam: IAMClient;
let provider: AwsRemediation;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  moto = await startMoto();
  aws = createAwsClients({
    profile: null,
    region: 'us-east-1',
    endpointUrl: moto.endpoint,
    maxAttempts: 3,
    retryMode: 'standard',
    concurrency: 4,
  });
  iam = aws.iam;
  provider = new AwsRemediation(aws, { remediation: DISABLE, evidence: EVIDENCE_OFF });
});

afterAll(async () => {
  aws?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
});

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function exists(userName: string): Promise<boolean> {
  try {
    await iam.send(new GetUserCommand({ UserName: userName }));
    return true;
  } catch (err) {
    expect((err as Error).name).toMatch(/^NoSuchEntity/);
    return false;
  }
}

async function hasLoginProfile(userName: string): Promise<boolean> {
  try {
    await iam.send(new GetLoginProfileCommand({ UserName: userName }));
    return true;
  } catch (err) {
    expect((err as Error).name).toMatch(/^NoSuchEntity/);
    return false;
  }
}

async function keyStatuses(userName: string): Promise<Record<string, string>> {
  const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
}

/** A backup without the time it was taken, to compare states. */
function state(b: BackupEnvelope<UserBackup>): UserBackup {
  return { ...b.data, takenAt: '' };
}

function ref(userName: string): IdentityRef {
  return {
    provider: 'aws',
    account: MOTO_ACCOUNT_ID,
    id: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/${userName}`,
    name: userName,
  };
}

function target(userName: string, credentialId: string | null = null): ActionTarget {
  return { identity: ref(userName), credentialId };
}

interface RichUser {
  name: string;
  keys: string[];
  mfaSerial: string;
  sshBody: string;
  sshId: string;
  certBody: string;
  certId: string;
  policyArn: string;
}

/** The stale user of the round trip: every kind of thing DeleteUser cares about. */
async function createRichUser(): Promise<RichUser> {
  const name = 'stale-alice';
  const seeded = await moto.seed({
    users: [
      {
        name,
        path: '/engineering/',
        createDate: OLD,
        password: true,
        passwordLastUsed: OLD,
        tags: { team: 'data', owner: 'alice@example.com' },
        keys: [
          { createDate: OLD, lastUsed: OLD },
          { createDate: OLD, lastUsed: null },
        ],
      },
    ],
  });
  const keys = seeded.users[0]!.keys;
  for (const group of ['analysts', 'engineers']) {
    await iam.send(new CreateGroupCommand({ GroupName: group }));
    await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: name }));
  }
  const policy = await iam.send(
    new CreatePolicyCommand({ PolicyName: 'eng-read', PolicyDocument: JSON.stringify(MANAGED_DOCUMENT) }),
  );
  const policyArn = policy.Policy!.Arn!;
  await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: policyArn }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: name,
      PolicyName: 'scratch-space',
      PolicyDocument: JSON.stringify(INLINE_DOCUMENT, null, 2),
    }),
  );
  const mfa = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'stale-alice-phone' }));
  const mfaSerial = mfa.VirtualMFADevice!.SerialNumber!;
  await iam.send(
    new EnableMFADeviceCommand({
      UserName: name,
      SerialNumber: mfaSerial,
      AuthenticationCode1: '123456',
      AuthenticationCode2: '654321',
    }),
  );
  const sshBody = sshPublicKey('alice@laptop');
  const ssh = await iam.send(new UploadSSHPublicKeyCommand({ UserName: name, SSHPublicKeyBody: sshBody }));
  const certBody = signingCertificate();
  const cert = await iam.send(new UploadSigningCertificateCommand({ UserName: name, CertificateBody: certBody }));
  return {
    name,
    keys,
    mfaSerial,
    sshBody,
    sshId: ssh.SSHPublicKey!.SSHPublicKeyId!,
    certBody,
    certId: cert.Certificate!.CertificateId!,
    policyArn,
  };
}

describe('AwsRemediation on moto', () => {
  it('caller() and reread() read live', async () => {
    const caller = await provider.caller();
    expect(caller.account).toBe(MOTO_ACCOUNT_ID);
    expect(caller.arn).toMatch(/^arn:aws:/);

    const seeded = await moto.seed({
      users: [
        {
          name: 'bob',
          path: '/ops/',
          createDate: OLD,
          password: true,
          passwordLastUsed: '2025-02-03T04:05:06Z',
          tags: { owner: 'bob@example.com', 'dormant:exempt': 'false' },
          keys: [{ createDate: OLD, lastUsed: '2025-03-01T00:00:00Z' }],
        },
      ],
    });
    const identity = await provider.reread(ref('bob'));
    expect(identity).not.toBeNull();
    expect(identity!.id).toBe(`arn:aws:iam::${MOTO_ACCOUNT_ID}:user/ops/bob`);
    expect(identity!.account).toBe(MOTO_ACCOUNT_ID);
    expect(identity!.path).toBe('/ops/');
    expect(identity!.createdAt).toBe(OLD);
    expect(identity!.tags).toEqual({ owner: 'bob@example.com', 'dormant:exempt': 'false' });
    expect(identity!.lastSignInAt).toBe('2025-02-03T04:05:06Z');
    const key = identity!.credentials.find((c) => c.kind === 'access-key');
    expect(key).toMatchObject({ id: seeded.users[0]!.keys[0], status: 'Active', lastUse: 'used' });
    expect(key!.lastUsedAt).toBe('2025-03-01T00:00:00Z');
    expect(identity!.credentials.some((c) => c.kind === 'password')).toBe(true);

    expect(await provider.reread(ref('nobody'))).toBeNull();
  });

  it('round trip: backup, disable, delete completely, restore', async () => {
    const u = await createRichUser();

    // ---- backup: every field
    const envelope = await provider.backup(ref(u.name));
    const backup = envelope.data;
    expect(backup.version).toBe(1);
    expect(Date.parse(backup.takenAt)).not.toBeNaN();
    expect(backup.account).toBe(MOTO_ACCOUNT_ID);
    expect(backup.user).toEqual({
      name: u.name,
      arn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/engineering/${u.name}`,
      path: '/engineering/',
      createdAt: OLD,
      permissionsBoundary: null,
      tags: expect.arrayContaining([
        { key: 'team', value: 'data' },
        { key: 'owner', value: 'alice@example.com' },
      ]) as unknown,
    });
    expect(backup.user.tags).toHaveLength(2);
    expect([...backup.groups].sort()).toEqual(['analysts', 'engineers']);
    expect(backup.attachedPolicies).toEqual([{ arn: u.policyArn, name: 'eng-read' }]);
    expect(backup.inlinePolicies).toHaveLength(1);
    expect(backup.inlinePolicies[0]!.name).toBe('scratch-space');
    expect(JSON.parse(backup.inlinePolicies[0]!.document)).toEqual(INLINE_DOCUMENT);
    expect(backup.loginProfile.exists).toBe(true);
    expect(backup.loginProfile.createdAt).not.toBeNull();
    expect(backup.accessKeys.map((k) => k.id).sort()).toEqual([...u.keys].sort());
    expect(backup.accessKeys.every((k) => k.status === 'Active' && k.createdAt === OLD)).toBe(true);
    expect(backup.mfaDevices).toEqual([
      { serialNumber: u.mfaSerial, enabledAt: expect.any(String) as unknown, virtual: true },
    ]);
    expect(backup.sshPublicKeys).toEqual([{ id: u.sshId, status: 'Active', body: u.sshBody }]);
    expect(backup.signingCertificates).toHaveLength(1);
    expect(backup.signingCertificates[0]!.id).toBe(u.certId);
    expect(backup.signingCertificates[0]!.status).toBe('Active');
    expect(backup.signingCertificates[0]!.body!.trim()).toBe(u.certBody.trim());
    // moto has no ListServiceSpecificCredentials: recorded, not fatal.
    expect(backup.serviceSpecificCredentials).toEqual([]);
    expect(backup.warnings).toHaveLength(1);
    expect(backup.warnings[0]).toMatch(/ListServiceSpecificCredentials is not supported here/);
    expect(backup.warnings[0]).toMatch(/service-specific credentials/);

    // ---- disable-user: keys Inactive, no login profile
    const disable = new RecordingSteps();
    await provider.perform('disable-user', target(u.name), disable);
    expect(disable.names).toEqual([...u.keys.map((k) => `deactivate-key:${k}`), 'delete-login-profile']);
    expect(Object.values(await keyStatuses(u.name))).toEqual(['Inactive', 'Inactive']);
    expect(await hasLoginProfile(u.name)).toBe(false);

    // the same perform again succeeds and changes nothing
    const before = state(await provider.backup(ref(u.name)));
    const again = new RecordingSteps();
    await provider.perform('disable-user', target(u.name), again);
    expect(again.names).toEqual(['delete-login-profile']);
    expect(state(await provider.backup(ref(u.name)))).toEqual(before);

    // ---- delete-user: the complete teardown, in order
    const del = new RecordingSteps();
    await provider.perform('delete-user', target(u.name), del);
    expect(del.names).toEqual([
      'delete-login-profile',
      ...u.keys.map((k) => `delete-access-key:${k}`),
      `delete-signing-certificate:${u.certId}`,
      `delete-ssh-public-key:${u.sshId}`,
      `deactivate-mfa-device:${u.mfaSerial}`,
      `delete-virtual-mfa-device:${u.mfaSerial}`,
      'delete-inline-policy:scratch-space',
      `detach-policy:${u.policyArn}`,
      'remove-from-group:analysts',
      'remove-from-group:engineers',
      'delete-user',
    ]);
    expect(del.warnings).toHaveLength(1);
    expect(del.warnings[0]).toMatch(/ListServiceSpecificCredentials is not supported here.*DeleteUser judge/);
    expect(await exists(u.name)).toBe(false);
    const virtual = await iam.send(new ListVirtualMFADevicesCommand({}));
    expect((virtual.VirtualMFADevices ?? []).map((d) => d.SerialNumber)).not.toContain(u.mfaSerial);
    for (const group of ['analysts', 'engineers']) {
      const g = await iam.send(new GetGroupCommand({ GroupName: group }));
      expect((g.Users ?? []).map((x) => x.UserName)).not.toContain(u.name);
    }

    // the same delete again succeeds: the lists find nothing, and the two steps that are not
    // driven by a list (DeleteLoginProfile, DeleteUser) get NoSuchEntity, which means done
    const delAgain = new RecordingSteps();
    await provider.perform('delete-user', target(u.name), delAgain);
    expect(delAgain.names).toEqual(['delete-login-profile', 'delete-user']);
    expect(await exists(u.name)).toBe(false);

    // ---- restore from the backup
    const restore = new RecordingSteps();
    const report = await provider.restore(envelope, {}, restore);
    const user = (await iam.send(new GetUserCommand({ UserName: u.name }))).User!;
    expect(user.Path).toBe('/engineering/');
    expect(user.Arn).toBe(backup.user.arn);
    const tags = (await iam.send(new ListUserTagsCommand({ UserName: u.name }))).Tags ?? [];
    expect(Object.fromEntries(tags.map((t) => [t.Key, t.Value]))).toEqual({ team: 'data', owner: 'alice@example.com' });
    const groups = (await iam.send(new ListGroupsForUserCommand({ UserName: u.name }))).Groups ?? [];
    expect(groups.map((g) => g.GroupName).sort()).toEqual(['analysts', 'engineers']);
    const attached = (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: u.name }))).AttachedPolicies ?? [];
    expect(attached.map((p) => p.PolicyArn)).toEqual([u.policyArn]);
    const inline = await iam.send(new GetUserPolicyCommand({ UserName: u.name, PolicyName: 'scratch-space' }));
    expect(JSON.parse(decodePolicyDocument(inline.PolicyDocument!))).toEqual(INLINE_DOCUMENT);
    expect(JSON.parse(decodePolicyDocument(inline.PolicyDocument!))).toEqual(
      JSON.parse(backup.inlinePolicies[0]!.document),
    );
    // public material comes back
    const ssh = (await iam.send(new ListSSHPublicKeysCommand({ UserName: u.name }))).SSHPublicKeys ?? [];
    expect(ssh).toHaveLength(1);
    const certs = (await iam.send(new ListSigningCertificatesCommand({ UserName: u.name }))).Certificates ?? [];
    expect(certs).toHaveLength(1);
    expect(certs[0]!.CertificateBody!.trim()).toBe(u.certBody.trim());
    // secrets do not, and the report says so plainly
    for (const key of u.keys) {
      expect(report.cannotRestore).toContain(
        `access key ${key} was deleted: its secret cannot come back; create a new key`,
      );
    }
    expect(report.cannotRestore).toContain(
      `MFA device ${u.mfaSerial} must be enrolled again (its seed cannot come back)`,
    );
    expect(report.cannotRestore).toContain(
      'console password: not recreated (pass a temporary password to restore it; a reset is required at sign-in)',
    );
    expect(await hasLoginProfile(u.name)).toBe(false);
    expect((await iam.send(new ListMFADevicesCommand({ UserName: u.name }))).MFADevices ?? []).toEqual([]);
    expect(report.restored.join('\n')).toMatch(/recreated at path \/engineering\//);
    expect(report.restored.join('\n')).toMatch(/group analysts/);
    expect(report.restored.join('\n')).toMatch(/scratch-space/);
    expect(report.restored.join('\n')).toMatch(new RegExp(`SSH public key ${u.sshId} was uploaded again`));
    expect(report.restored.join('\n')).toMatch(new RegExp(`Signing certificate ${u.certId} was uploaded again`));
    expect(report.warnings.join('\n')).toMatch(/from the backup: .*ListServiceSpecificCredentials/);
    expect(restore.names).toEqual([
      'create-user',
      'add-to-group:analysts',
      'add-to-group:engineers',
      `attach-policy:${u.policyArn}`,
      'put-inline-policy:scratch-space',
      `upload-ssh-public-key:${u.sshId}`,
      `upload-signing-certificate:${u.certId}`,
    ]);

    // restoring again is idempotent: nothing is duplicated
    const restoredState = state(await provider.backup(ref(u.name)));
    const restoreAgain = new RecordingSteps();
    const report2 = await provider.restore(envelope, {}, restoreAgain);
    expect(restoreAgain.names).not.toContain('create-user');
    expect(restoreAgain.names.some((n) => n.startsWith('upload-'))).toBe(false);
    expect(state(await provider.backup(ref(u.name)))).toEqual(restoredState);
    expect(report2.cannotRestore).toEqual(report.cannotRestore);
  });

  it('restore with a temporary password recreates the login profile', async () => {
    await moto.seed({ users: [{ name: 'carol', password: true, tags: { team: 'x' } }] });
    const backup = await provider.backup(ref('carol'));
    await provider.perform('delete-user', target('carol'), new RecordingSteps());
    expect(await exists('carol')).toBe(false);

    const steps = new RecordingSteps();
    const report = await provider.restore(backup, { temporaryPassword: 'Temp-Passw0rd!-123' }, steps);
    expect(steps.names).toContain('create-login-profile');
    expect(await hasLoginProfile('carol')).toBe(true);
    expect(report.restored.join('\n')).toMatch(/console password was recreated.*must change it at the next sign-in/);
    expect(report.cannotRestore.join('\n')).not.toMatch(/console password/);

    // again: the profile exists now, so it is left alone with a warning
    const again = new RecordingSteps();
    const report2 = await provider.restore(backup, { temporaryPassword: 'Other-Passw0rd!-456' }, again);
    expect(report2.warnings.join('\n')).toMatch(/already has a console password/);
  });

  it('restore onto an existing disabled user reactivates the keys that were Active', async () => {
    const seeded = await moto.seed({
      users: [
        {
          name: 'dave',
          password: true,
          tags: { owner: 'dave@example.com' },
          keys: [{ status: 'Active' }, { status: 'Inactive' }],
        },
      ],
    });
    const [active, inactive] = seeded.users[0]!.keys as [string, string];
    await iam.send(new CreateGroupCommand({ GroupName: 'ops' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'ops', UserName: 'dave' }));
    const backup = await provider.backup(ref('dave'));

    await provider.perform('disable-user', target('dave'), new RecordingSteps());
    expect(await keyStatuses('dave')).toEqual({ [active]: 'Inactive', [inactive]: 'Inactive' });

    const steps = new RecordingSteps();
    const report = await provider.restore(backup, {}, steps);
    expect(await keyStatuses('dave')).toEqual({ [active]: 'Active', [inactive]: 'Inactive' });
    expect(steps.names).toEqual(['tag-user', 'add-to-group:ops', `reactivate-key:${active}`]);
    expect(report.restored).toContain(`Access key ${active} was reactivated.`);
    expect(report.cannotRestore).toEqual([
      'console password: not recreated (pass a temporary password to restore it; a reset is required at sign-in)',
    ]);
    expect(report.cannotRestore.join('\n')).not.toMatch(/was deleted/);

    // again: nothing left to reactivate
    const again = new RecordingSteps();
    await provider.restore(backup, {}, again);
    expect(again.names).toEqual(['tag-user', 'add-to-group:ops']);
  });

  it('restore warns about a group that no longer exists and carries on', async () => {
    await moto.seed({ users: [{ name: 'erin' }] });
    for (const g of ['kept', 'gone']) {
      await iam.send(new CreateGroupCommand({ GroupName: g }));
      await iam.send(new AddUserToGroupCommand({ GroupName: g, UserName: 'erin' }));
    }
    const backup = await provider.backup(ref('erin'));
    await provider.perform('delete-user', target('erin'), new RecordingSteps());
    await iam.send(new DeleteGroupCommand({ GroupName: 'gone' }));

    const steps = new RecordingSteps();
    const report = await provider.restore(backup, {}, steps);
    expect(report.warnings).toContain('group gone no longer exists; erin was not added back to it');
    expect(steps.warnings).toContain('group gone no longer exists; erin was not added back to it');
    const groups = (await iam.send(new ListGroupsForUserCommand({ UserName: 'erin' }))).Groups ?? [];
    expect(groups.map((g) => g.GroupName)).toEqual(['kept']);
  });

  it('deactivate-key acts on that key only, and twice is fine', async () => {
    const seeded = await moto.seed({ users: [{ name: 'frank', keys: [{}, {}] }] });
    const [k1, k2] = seeded.users[0]!.keys as [string, string];
    for (let run = 0; run < 2; run++) {
      const steps = new RecordingSteps();
      await provider.perform('deactivate-key', target('frank', k1), steps);
      expect(steps.names).toEqual([`deactivate-key:${k1}`]);
      expect(await keyStatuses('frank')).toEqual({ [k1]: 'Inactive', [k2]: 'Active' });
    }
    const err = await errorOf(provider.perform('deactivate-key', target('frank', null), new RecordingSteps()));
    expect(err).toBeInstanceOf(CloudError);
    expect((err as Error).message).toMatch(/names no access key/);
  });

  it('remove-password deletes the login profile only, and twice is fine', async () => {
    const seeded = await moto.seed({ users: [{ name: 'grace', password: true, keys: [{}] }] });
    for (let run = 0; run < 2; run++) {
      const steps = new RecordingSteps();
      await provider.perform('remove-password', target('grace'), steps);
      expect(steps.names).toEqual(['delete-login-profile']);
      expect(await hasLoginProfile('grace')).toBe(false);
    }
    expect(await keyStatuses('grace')).toEqual({ [seeded.users[0]!.keys[0]!]: 'Active' });
  });

  it('notify makes no call and no step', async () => {
    const steps = new RecordingSteps();
    await provider.perform('notify', target('nobody'), steps);
    expect(steps.names).toEqual([]);
  });

  it('disable-user with quarantine attaches the deny-all policy, and needs its ARN', async () => {
    await moto.seed({ users: [{ name: 'heidi', password: true, keys: [{}] }] });
    const policy = await iam.send(
      new CreatePolicyCommand({ PolicyName: 'dormant-quarantine', PolicyDocument: JSON.stringify(DENY_ALL) }),
    );
    const arn = policy.Policy!.Arn!;
    const settings: DisableSettings = { disableUser: ['quarantine'], quarantinePolicyArn: arn };
    const quarantining = new AwsRemediation(aws, { remediation: settings, evidence: EVIDENCE_OFF });
    for (let run = 0; run < 2; run++) {
      const steps = new RecordingSteps();
      await quarantining.perform('disable-user', target('heidi'), steps);
      expect(steps.names).toEqual([`attach-quarantine-policy:${arn}`]);
    }
    const attached =
      (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'heidi' }))).AttachedPolicies ?? [];
    expect(attached.map((p) => p.PolicyArn)).toEqual([arn]);

    const steps = new RecordingSteps();
    const unset = new AwsRemediation(aws, {
      remediation: { disableUser: ['quarantine'], quarantinePolicyArn: null },
      evidence: EVIDENCE_OFF,
    });
    const err = await errorOf(unset.perform('disable-user', target('heidi'), steps));
    expect(err).toBeInstanceOf(CloudError);
    expect((err as Error).message).toMatch(/quarantinePolicyArn is not set/);
    expect(steps.names).toEqual([]);
  });

  it('restore of a quarantined user takes dormant’s quarantine policy off, and leaves one the user had before', async () => {
    await moto.seed({
      users: [
        { name: 'hank', password: true, keys: [{}] },
        { name: 'hope', keys: [{}] },
      ],
    });
    const policy = await iam.send(
      new CreatePolicyCommand({ PolicyName: 'dormant-quarantine-2', PolicyDocument: JSON.stringify(DENY_ALL) }),
    );
    const arn = policy.Policy!.Arn!;
    const quarantining = new AwsRemediation(aws, {
      remediation: { disableUser: ['deactivate-keys', 'quarantine'], quarantinePolicyArn: arn },
      evidence: EVIDENCE_OFF,
    });
    const attachedTo = async (user: string) =>
      ((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: user }))).AttachedPolicies ?? []).map(
        (p) => p.PolicyArn,
      );
    // hank: backed up, then quarantined by dormant.
    const hankBackup = await quarantining.backup(target('hank').identity);
    await quarantining.perform('disable-user', target('hank'), new RecordingSteps());
    expect(await attachedTo('hank')).toEqual([arn]);
    // What the journal says dormant did: it attached this policy (whatever the config says now).
    const changes = [
      { action: 'disable-user' as const, credentialId: null, steps: [`attach-quarantine-policy:${arn}`] },
    ];
    const reconfigured = new AwsRemediation(aws, {
      remediation: { disableUser: ['deactivate-keys'], quarantinePolicyArn: null },
      evidence: EVIDENCE_OFF,
    });
    // A disable the journal shows without a quarantine: nothing of the kind is taken off.
    await reconfigured.restore(hankBackup, { changes: [{ ...changes[0]!, steps: [] }] }, new RecordingSteps());
    expect(await attachedTo('hank')).toEqual([arn]);
    const report = await reconfigured.restore(hankBackup, { changes }, new RecordingSteps());
    expect(await attachedTo('hank')).toEqual([]);
    expect(report.restored).toContain(`Detached dormant's quarantine policy ${arn}.`);
    // hope: had the policy attached before dormant's backup (someone else's choice): it stays.
    await iam.send(new AttachUserPolicyCommand({ UserName: 'hope', PolicyArn: arn }));
    const hopeBackup = await quarantining.backup(target('hope').identity);
    await quarantining.perform('disable-user', target('hope'), new RecordingSteps());
    await quarantining.restore(hopeBackup, { changes }, new RecordingSteps());
    expect(await attachedTo('hope')).toEqual([arn]);
  });

  it('a DeleteConflict from DeleteUser surfaces with AWS message', async () => {
    await moto.seed({ users: [{ name: 'ivan', keys: [{}] }] });
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'ivan',
        PolicyName: 'leftover',
        PolicyDocument: JSON.stringify(MANAGED_DOCUMENT),
      }),
    );
    // The inline-policy step "did not happen" (e.g. skipped), so DeleteUser finds a policy left.
    const steps = new RecordingSteps((name) => name.startsWith('delete-inline-policy'));
    const err = await errorOf(provider.perform('delete-user', target('ivan'), steps));
    expect(err).toBeInstanceOf(CloudError);
    expect((err as CloudError).code).toBe('DeleteConflict');
    expect((err as CloudError).exitCode).toBe(3);
    expect((err as Error).message).toContain('Cannot delete entity, must delete policies first.');
    expect((err as Error).message).toContain('ivan');
    expect(steps.names.at(-1)).toBe('delete-user');
    expect(await exists('ivan')).toBe(true);
  });

  it('backup of a missing user throws a CloudError', async () => {
    const err = await errorOf(provider.backup(ref('nobody')));
    expect(err).toBeInstanceOf(CloudError);
    expect((err as CloudError).code).toMatch(/^NoSuchEntity/);
  });

  it('restore re-adds a membership removed after the backup, and twice is fine', async () => {
    await moto.seed({ users: [{ name: 'judy' }] });
    await iam.send(new CreateGroupCommand({ GroupName: 'team' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'team', UserName: 'judy' }));
    const backup = await provider.backup(ref('judy'));
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'team', UserName: 'judy' }));
    const steps = new RecordingSteps();
    await provider.restore(backup, {}, steps);
    await provider.restore(backup, {}, steps);
    const g = await iam.send(new GetGroupCommand({ GroupName: 'team' }));
    expect((g.Users ?? []).map((x) => x.UserName)).toEqual(['judy']);
  });
});

describe('AwsRemediation: protected identities, the disabled check and evidence', () => {
  it('reread() marks the identity dormant runs as (and nobody else) as protected', async () => {
    const caller = await provider.caller();
    const callerName = /:user\/(?:.*\/)?([^/]+)$/.exec(caller.arn)?.[1];
    expect(callerName, `moto's caller ${caller.arn} is an IAM user`).toBeDefined();
    await moto.seed({ users: [{ name: callerName! }, { name: 'kim' }] });

    const self = await provider.reread(ref(callerName!));
    expect(self).toMatchObject({ isCaller: true, protectedReason: 'the identity dormant runs as' });
    const other = await provider.reread(ref('kim'));
    expect(other!.isCaller).toBeUndefined();
    expect(other!.protectedReason).toBeUndefined();
    expect(other!.credentials.every((c) => typeof c.enabled === 'boolean')).toBe(true);
  });

  it('a scan marks the caller too (AwsProvider.collect), on both sources', async () => {
    const caller = await provider.caller();
    const callerName = /:user\/(?:.*\/)?([^/]+)$/.exec(caller.arn)![1]!;
    await moto.seed({ users: [{ name: callerName }, { name: 'kim' }] });
    for (const source of ['api', 'report'] as const) {
      const scanner = new AwsProvider(aws, { source, maxReportAgeHours: 0, reportTimeoutSeconds: 30 });
      const inventory = await scanner.collect();
      expect(inventory.provider).toBe('aws');
      const byName = new Map(inventory.identities.map((i) => [i.name, i]));
      expect(byName.get(callerName), source).toMatchObject({
        isCaller: true,
        protectedReason: 'the identity dormant runs as',
      });
      expect(byName.get('kim')!.protectedReason, source).toBeUndefined();
    }
  });

  it('isDisabled() checks what remediation.disableUser removes', async () => {
    const seeded = await moto.seed({ users: [{ name: 'lena', password: true, keys: [{}] }] });
    const live = async () => (await provider.reread(ref('lena')))!;
    expect(provider.isDisabled(await live())).toBe(false);
    await provider.perform('deactivate-key', target('lena', seeded.users[0]!.keys[0]!), new RecordingSteps());
    // The key is inactive now, but the password is still there.
    expect(provider.isDisabled(await live())).toBe(false);
    const keysOnly = new AwsRemediation(aws, {
      remediation: { disableUser: ['deactivate-keys'], quarantinePolicyArn: null },
      evidence: EVIDENCE_OFF,
    });
    expect(keysOnly.isDisabled(await live())).toBe(true);
    await provider.perform('disable-user', target('lena'), new RecordingSteps());
    expect(provider.isDisabled(await live())).toBe(true);
  });

  it('evidence() never throws: off, failing sources and a client that cannot be built are "unavailable"', async () => {
    await moto.seed({ users: [{ name: 'mia' }] });
    const off = await provider.evidence(ref('mia'));
    expect(off.map((s) => [s.source, s.title, s.status, s.reason, s.summary])).toEqual([
      ['cloudtrail', 'CloudTrail', 'unavailable', 'disabled in config', 'CloudTrail unavailable: disabled in config'],
      [
        'access-advisor',
        'Access Advisor',
        'unavailable',
        'disabled in config',
        'Access Advisor unavailable: disabled in config',
      ],
    ]);

    // CloudTrail at a closed port; moto has no Access Advisor.
    const failing = new AwsRemediation(aws, {
      remediation: DISABLE,
      evidence: {
        cloudtrail: { ...EVIDENCE_OFF.cloudtrail, enabled: true, endpointUrl: 'http://127.0.0.1:9' },
        accessAdvisor: { enabled: true, timeoutSeconds: 2 },
      },
      cloudtrail: { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
      accessAdvisorPollMs: 10,
    });
    const failed = await failing.evidence(ref('mia'));
    failing.destroy();
    expect(failed.map((s) => [s.source, s.status])).toEqual([
      ['cloudtrail', 'unavailable'],
      ['access-advisor', 'unavailable'],
    ]);
    for (const s of failed) {
      expect(s.reason).toMatch(/\S/);
      expect(s.summary).toBe(`${s.title} unavailable: ${s.reason}`);
      expect(s.items).toEqual([]);
    }

    // A CloudTrail client that cannot even be built (depth 0) still gives sections, not an error.
    const broken = new AwsRemediation(aws, {
      remediation: DISABLE,
      evidence: { ...EVIDENCE_OFF, cloudtrail: { ...EVIDENCE_OFF.cloudtrail, enabled: true, depth: 0 } },
    });
    const none = await broken.evidence(ref('mia'));
    expect(none.map((s) => [s.source, s.status])).toEqual([
      ['cloudtrail', 'unavailable'],
      ['access-advisor', 'unavailable'],
    ]);
    expect(none[0]!.reason).toMatch(/depth must be a positive integer/);
  });
});

describe('isUnsupportedOperation', () => {
  const meta = (status: number) => ({ $metadata: { httpStatusCode: status } });
  const settings = {
    profile: null,
    region: 'us-east-1',
    endpointUrl: 'http://127.0.0.1:1',
    maxAttempts: 1,
    retryMode: 'standard' as const,
    concurrency: 1,
  };

  it('recognises the usual names and HTTP 501, never AccessDenied', () => {
    for (const name of ['NotImplemented', 'InvalidAction', 'UnknownOperationException']) {
      expect(isUnsupportedOperation(Object.assign(new Error('x'), { name, ...meta(400) }))).toBe(true);
    }
    expect(isUnsupportedOperation(Object.assign(new Error('x'), { name: 'Whatever', ...meta(501) }))).toBe(true);
    expect(
      isUnsupportedOperation(Object.assign(new Error('not implemented'), { name: 'AccessDenied', ...meta(403) })),
    ).toBe(false);
    expect(isUnsupportedOperation(Object.assign(new Error('nope'), { name: 'NoSuchEntity', ...meta(404) }))).toBe(
      false,
    );
  });

  it("counts an emulator's bare HTTP 500 page only against a custom endpoint", () => {
    const saved = { a: process.env.AWS_ENDPOINT_URL, b: process.env.AWS_ENDPOINT_URL_IAM };
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_IAM;
    try {
      const html = Object.assign(new Error('Deserialization error: to see the raw response…'), {
        name: 'Error',
        ...meta(500),
        $responseBodyText: '<!doctype html><title>500 Internal Server Error</title>',
      });
      expect(isUnsupportedOperation(html, settings)).toBe(true);
      expect(isUnsupportedOperation(html, { ...settings, endpointUrl: null })).toBe(false);
      const awsFailure = Object.assign(new Error('We encountered an internal error.'), {
        name: 'ServiceFailure',
        ...meta(500),
        $responseBodyText: '<ErrorResponse><Error><Code>ServiceFailure</Code></Error></ErrorResponse>',
      });
      expect(isUnsupportedOperation(awsFailure, settings)).toBe(false);
    } finally {
      if (saved.a !== undefined) process.env.AWS_ENDPOINT_URL = saved.a;
      if (saved.b !== undefined) process.env.AWS_ENDPOINT_URL_IAM = saved.b;
    }
  });

  it('decodes URL-encoded policy documents and leaves plain JSON alone', () => {
    const doc = JSON.stringify(INLINE_DOCUMENT);
    expect(decodePolicyDocument(encodeURIComponent(doc))).toBe(doc);
    expect(decodePolicyDocument(doc)).toBe(doc);
  });
});
