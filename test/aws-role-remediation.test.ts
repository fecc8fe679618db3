// Role remediation in-process against moto over HTTP (not mocked), through the provider the
// registry hands out (AwsIamRemediation): the live re-read and its quarantine check, idempotent
// quarantine and delete, DeleteConflict, restore of a role that still exists (only dormant's
// quarantine is lifted, someone else's changes are left and said), instance profiles that are
// gone or taken, the backup's schema, another account's role, and the review's evidence
// (CloudTrail AssumeRole events naming the role, Access Advisor).
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/config.js';
import { CloudError, UsageError } from '../src/errors.js';
import type { BackupEnvelope } from '../src/model/backup.js';
import { createAwsClients, type AwsClients } from '../src/providers/aws/aws-client.js';
import { AwsIamRemediation } from '../src/providers/aws/aws-iam-remediation.js';
import type { RoleBackup } from '../src/providers/aws/aws-role-backup.js';
import type { IdentityRef, StepRunner } from '../src/providers/provider.js';
import { startAccessAdvisorFake } from './support/accessAdvisorFake.js';
import { startCloudTrailFake } from './support/cloudtrailFake.js';
import { MOTO_ACCOUNT_ID, startMoto, type MotoServer } from './support/moto.js';

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

const EVIDENCE_OFF: Config['evidence'] = {
  cloudtrail: { enabled: false, regions: [], depth: 20, maxRequestsPerSecond: 2, endpointUrl: null },
  accessAdvisor: { enabled: false, timeoutSeconds: 10 },
};
const DISABLE = {
  disableUser: ['deactivate-keys', 'remove-password'] as Config['remediation']['disableUser'],
  quarantinePolicyArn: null,
};
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' },
  ],
});
const DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
});

let moto: MotoServer;
let aws: AwsClients;
let iam: IAMClient;
let provider: AwsIamRemediation;

function clients(endpoint: string): AwsClients {
  return createAwsClients({
    profile: null,
    region: 'us-east-1',
    endpointUrl: endpoint,
    maxAttempts: 2,
    retryMode: 'standard',
    concurrency: 4,
  });
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  moto = await startMoto();
  aws = clients(moto.endpoint);
  iam = aws.iam;
  provider = new AwsIamRemediation(aws, { remediation: DISABLE, evidence: EVIDENCE_OFF });
});
afterAll(async () => {
  provider?.destroy();
  aws?.destroy();
  await moto?.stop();
});
beforeEach(() => moto.reset());

const ref = (name: string, path = '/', account = MOTO_ACCOUNT_ID): IdentityRef => ({
  provider: 'aws',
  account,
  id: `arn:aws:iam::${account}:role${path}${name}`,
  name,
});

async function role(
  name: string,
  extra: { profile?: string; managed?: boolean } = {},
): Promise<{ policyArn: string | null }> {
  await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST }));
  await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'work', PolicyDocument: DOCUMENT }));
  let policyArn: string | null = null;
  if (extra.managed) {
    const p = await iam.send(new CreatePolicyCommand({ PolicyName: `${name}-managed`, PolicyDocument: DOCUMENT }));
    policyArn = p.Policy!.Arn!;
    await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn }));
  }
  if (extra.profile) {
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: extra.profile }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: extra.profile, RoleName: name }));
  }
  await moto.backdate({ roles: [{ name, createDate: '2024-01-01T00:00:00Z', lastUsed: '2025-06-01T00:00:00Z' }] });
  return { policyArn };
}

const inline = async (name: string) =>
  ((await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? []).sort();

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('role remediation on moto', () => {
  it('re-reads a role live, with its tags, last use and quarantine; null when it is gone', async () => {
    await role('app');
    const live = await provider.reread(ref('app'));
    expect(live).toMatchObject({
      kind: 'role',
      id: ref('app').id,
      createdAt: '2024-01-01T00:00:00Z',
      signIn: { lastUse: 'used', at: '2025-06-01T00:00:00Z' },
      enabled: true,
      quarantined: false,
    });
    expect(provider.isDisabled(live!)).toBe(false);
    // A same-named policy that is not a deny-all is not dormant's quarantine.
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'dormant-quarantine', PolicyDocument: DOCUMENT }),
    );
    expect((await provider.reread(ref('app')))?.enabled).toBe(true);
    // ... and it is never overwritten by the quarantine: the item fails, naming it.
    const taken = await errorOf(
      provider.perform('disable-user', { identity: ref('app'), credentialId: null }, new RecordingSteps()),
    );
    expect(taken.message).toBe(
      "role app already has an inline policy named dormant-quarantine that is not dormant's deny-all; rename that policy, or exempt the role",
    );
    const kept = await iam.send(new GetRolePolicyCommand({ RoleName: 'app', PolicyName: 'dormant-quarantine' }));
    expect(JSON.parse(decodeURIComponent(kept.PolicyDocument!))).toEqual(JSON.parse(DOCUMENT));
    expect(await provider.reread(ref('nobody'))).toBeNull();
    expect(await provider.readMarks(ref('nobody'))).toBeNull();
  });

  it('quarantines idempotently, and the quarantine is what the delete re-check expects', async () => {
    await role('app');
    for (let i = 0; i < 2; i++) {
      const steps = new RecordingSteps();
      await provider.perform('disable-user', { identity: ref('app'), credentialId: null }, steps);
      expect(steps.names).toEqual(['quarantine-role']);
    }
    expect(await inline('app')).toEqual(['dormant-quarantine', 'work']);
    const live = await provider.reread(ref('app'));
    expect(live).toMatchObject({ enabled: false, quarantined: true });
    expect(provider.isDisabled(live!)).toBe(true);
    const err = await errorOf(
      provider.perform('deactivate-key', { identity: ref('app'), credentialId: 'AKIA1' }, new RecordingSteps()),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('deactivate-key is not an action on IAM roles (app); plan again');
  });

  it('deletes completely in order, keeps the instance profile; a DeleteConflict fails with AWS words', async () => {
    const { policyArn } = await role('app', { profile: 'app-profile', managed: true });
    await provider.perform('disable-user', { identity: ref('app'), credentialId: null }, new RecordingSteps());
    // A detach that did not happen: DeleteRole is the judge, and says why.
    const skipping = new RecordingSteps((n) => n.startsWith('detach-policy:'));
    const err = await errorOf(provider.perform('delete-user', { identity: ref('app'), credentialId: null }, skipping));
    expect(err).toBeInstanceOf(CloudError);
    expect(err.message).toMatch(
      /^AWS refused to delete role app \(DeleteConflict\): Cannot delete entity, must detach all policies first/,
    );
    // The failed delete put the quarantine back: the role is not left usable.
    expect(await inline('app')).toEqual(['dormant-quarantine']);
    expect((await provider.reread(ref('app')))?.enabled).toBe(false);
    const steps = new RecordingSteps();
    await provider.perform('delete-user', { identity: ref('app'), credentialId: null }, steps);
    expect(steps.names).toEqual([
      `detach-policy:${policyArn}`,
      'delete-inline-policy:dormant-quarantine',
      'delete-role',
    ]);
    expect(skipping.names).toEqual([
      'remove-from-instance-profile:app-profile',
      'delete-inline-policy:work',
      `detach-policy:${policyArn}`,
      'delete-inline-policy:dormant-quarantine',
      'delete-role',
      'quarantine-role',
    ]);
    expect(await provider.reread(ref('app'))).toBeNull();
    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'app-profile' }));
    expect(profile.InstanceProfile?.Roles ?? []).toEqual([]);
    // Deleting what is gone is done.
    const again = new RecordingSteps();
    await provider.perform('delete-user', { identity: ref('app'), credentialId: null }, again);
    expect(again.names).toEqual(['delete-role']);
  });

  it('a delete cut off between lifting the quarantine and DeleteRole still counts as disabled when it resumes', async () => {
    await role('app');
    await provider.perform('disable-user', { identity: ref('app'), credentialId: null }, new RecordingSteps());
    // A crash right before DeleteRole: the quarantine is already gone.
    const cut = new RecordingSteps();
    const crash = new Error('killed');
    const crashing = {
      names: cut.names,
      async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
        if (name === 'delete-role') throw crash;
        if (name === 'quarantine-role') throw crash; // the process is gone: nothing more runs
        return cut.step(name, fn);
      },
      warn: () => undefined,
    };
    await errorOf(provider.perform('delete-user', { identity: ref('app'), credentialId: null }, crashing));
    expect(await inline('app')).toEqual([]);
    const live = await provider.reread(ref('app'));
    expect(live?.enabled).toBe(true);
    // Someone else lifting the quarantine is a re-enable; dormant's own journaled removal is not.
    expect(provider.isDisabled(live!)).toBe(false);
    expect(provider.isDisabled(live!, new Set(['delete-inline-policy:dormant-quarantine']))).toBe(true);
  });

  it("restore of a role that still exists lifts dormant's quarantine only, and says what it left", async () => {
    const { policyArn } = await role('app', { managed: true });
    const backup = await provider.backup(ref('app'));
    await provider.perform('disable-user', { identity: ref('app'), credentialId: null }, new RecordingSteps());
    // Someone else detaches the managed policy meanwhile.
    await iam.send(new DetachRolePolicyCommand({ RoleName: 'app', PolicyArn: policyArn! }));

    // dormant recorded no change since the last restore: the quarantine is not its to lift.
    const none = new RecordingSteps();
    const kept = await provider.restore(backup, { changes: [] }, none);
    expect(none.names).toEqual([]);
    expect(kept.warnings).toEqual([
      `managed policy ${policyArn} of role app is missing since the backup, but not because of dormant; it was left as it is`,
      'role app carries dormant-quarantine, but not from a change dormant recorded since; it was left on',
    ]);
    expect(await inline('app')).toEqual(['dormant-quarantine', 'work']);

    const steps = new RecordingSteps();
    const report = await provider.restore(backup, { changes: [{ action: 'disable-user', credentialId: null }] }, steps);
    expect(steps.names).toEqual(['remove-quarantine']);
    expect(report.restored).toEqual(['The quarantine (inline policy dormant-quarantine) was removed from role app.']);
    expect(report.cannotRestore).toEqual([]);
    expect(await inline('app')).toEqual(['work']);
  });

  it('restore recreates an instance profile that is gone, and leaves one another role took', async () => {
    await role('app', { profile: 'gone-profile' });
    await role('web', { profile: 'taken-profile' });
    const app = await provider.backup(ref('app'));
    const web = await provider.backup(ref('web'));
    for (const name of ['app', 'web']) {
      await provider.perform('delete-user', { identity: ref(name), credentialId: null }, new RecordingSteps());
    }
    await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'gone-profile' }));
    await iam.send(new CreateRoleCommand({ RoleName: 'newcomer', AssumeRolePolicyDocument: TRUST }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'taken-profile', RoleName: 'newcomer' }));

    const changes = [{ action: 'delete-user' as const, credentialId: null }];
    const steps = new RecordingSteps();
    const restored = await provider.restore(app, { changes }, steps);
    expect(steps.names).toEqual([
      'create-role',
      'put-inline-policy:work',
      'create-instance-profile:gone-profile',
      'add-to-instance-profile:gone-profile',
    ]);
    expect(restored.restored).toContain(
      'Added role app back to instance profile gone-profile, which was recreated at path /.',
    );
    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'gone-profile' }));
    expect(profile.InstanceProfile?.Roles?.map((r) => r.RoleName)).toEqual(['app']);

    const other = await provider.restore(web, { changes }, new RecordingSteps());
    expect(other.warnings).toContain(
      'instance profile taken-profile now holds another role; role web was not added back to it',
    );
    await iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'taken-profile', RoleName: 'newcomer' }),
    );
  });

  it('backups are checked on the way back in, and another account is refused before any call', async () => {
    await role('app');
    const backup = (await provider.backup(ref('app'))) as BackupEnvelope<RoleBackup>;
    const stored = JSON.parse(JSON.stringify(backup)) as BackupEnvelope<unknown>;
    expect(provider.readBackup(stored)).toEqual(backup);
    const broken = { ...backup, data: { ...backup.data, role: { ...backup.data.role, trustPolicy: 42 } } };
    expect(() => provider.readBackup(broken as BackupEnvelope<unknown>)).toThrow(
      /^cannot read the backup of app: data\.role\.trustPolicy: .* \(not an AWS role backup of version 1\); it cannot be restored automatically$/,
    );
    const err = await errorOf(provider.reread(ref('app', '/', '999999999999')));
    expect(err.message).toBe(
      `role app is in AWS account 999999999999, but the credentials are for account ${MOTO_ACCOUNT_ID}; use that account's profile, or --org to act through aws.organization.roleName`,
    );
  });

  it("evidence: CloudTrail's AssumeRole events naming the role, and Access Advisor", async () => {
    await role('app');
    const roleArn = ref('app').id;
    const trail = await startCloudTrailFake({
      events: [
        {
          user: 'deployer',
          region: 'us-east-1',
          name: 'AssumeRole',
          time: '2026-01-10T10:00:00Z',
          sourceIp: '198.51.100.1',
          source: 'sts.amazonaws.com',
          resources: [{ type: 'AWS::IAM::Role', name: roleArn }],
        },
        {
          user: 'ci',
          region: 'us-east-1',
          name: 'AssumeRoleWithWebIdentity',
          time: '2026-01-12T10:00:00Z',
          sourceIp: '198.51.100.2',
          source: 'sts.amazonaws.com',
          resources: [{ type: 'AWS::IAM::Role', name: roleArn }],
        },
        // The role's own management event names it too, and another role's assumption does not.
        {
          user: 'admin',
          region: 'us-east-1',
          name: 'UpdateAssumeRolePolicy',
          time: '2026-01-15T10:00:00Z',
          resources: [{ type: 'AWS::IAM::Role', name: roleArn }],
        },
        {
          user: 'deployer',
          region: 'us-east-1',
          name: 'AssumeRole',
          time: '2026-01-16T10:00:00Z',
          resources: [{ type: 'AWS::IAM::Role', name: ref('other').id }],
        },
      ],
    });
    const advisor = await startAccessAdvisorFake(moto.endpoint, {
      services: { app: [{ namespace: 's3', lastAccessedAt: '2026-01-12T11:00:00Z', region: 'us-east-1' }] },
      pollsBeforeReady: 1,
    });
    const viaAdvisor = clients(advisor.url);
    const reviewing = new AwsIamRemediation(viaAdvisor, {
      remediation: DISABLE,
      evidence: {
        cloudtrail: { enabled: true, regions: [], depth: 20, maxRequestsPerSecond: 2, endpointUrl: trail.url },
        accessAdvisor: { enabled: true, timeoutSeconds: 10 },
      },
      cloudtrail: { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
      accessAdvisorPollMs: 10,
    });
    try {
      const [ct, aa] = await reviewing.evidence(ref('app'));
      expect(ct).toMatchObject({ source: 'cloudtrail', status: 'ok' });
      expect(ct!.items.map((i) => [i.fields?.name, i.at])).toEqual([
        ['AssumeRoleWithWebIdentity', '2026-01-12T10:00:00.000Z'],
        ['AssumeRole', '2026-01-10T10:00:00.000Z'],
      ]);
      expect(ct!.summary).toBe(
        'role last assumed (AssumeRoleWithWebIdentity) at 2026-01-12T10:00:00.000Z from 198.51.100.2 (us-east-1)',
      );
      const lookups = trail.requests.map((r) => (r.body as { LookupAttributes: unknown }).LookupAttributes);
      expect(lookups).toEqual([[{ AttributeKey: 'ResourceName', AttributeValue: roleArn }]]);
      expect(aa).toMatchObject({
        source: 'access-advisor',
        status: 'ok',
        summary: 'last service s3 at 2026-01-12T11:00:00.000Z',
      });
      expect(advisor.advisorRequests()[0]!.params.get('Arn')).toBe(roleArn);

      // A role nobody assumed in the 90 days says so, by name.
      await role('idle');
      const [idle] = await reviewing.evidence(ref('idle'));
      expect(idle!.summary).toBe('no AssumeRole events for role idle in us-east-1 (90-day history)');
    } finally {
      reviewing.destroy();
      viaAdvisor.destroy();
      await Promise.all([trail.stop(), advisor.stop()]);
    }
  });
});
