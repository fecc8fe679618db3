// The world of the least-privilege tests (test/aws-least-privilege.test.ts) and the commands
// they run in-process: stale, active and exempt users, a kitchen-sink user with everything
// DESIGN §4 names, and scan, plan, approve, apply, restore and evidence called the way the CLI
// calls them (registry → engine), as one principal (an AWS profile) at a time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AddRoleToInstanceProfileCommand,
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateInstanceProfileCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateServiceSpecificCredentialCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  UpdateSigningCertificateCommand,
  UpdateSSHPublicKeyCommand,
  UploadSigningCertificateCommand,
  UploadSSHPublicKeyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { type Config, parseConfig } from '../../src/config/config.js';
import { apply, type ApplyReport } from '../../src/engine/apply.js';
import { decide } from '../../src/engine/decide.js';
import { restore, type RestoreRun } from '../../src/engine/restore.js';
import { scan } from '../../src/engine/scan.js';
import { storePlan } from '../../src/engine/storePlan.js';
import type { Evidence } from '../../src/model/evidence.js';
import type { ScanResult } from '../../src/model/finding.js';
import type { Plan } from '../../src/model/plan.js';
import { openProviders, providerEntry } from '../../src/providers/registry.js';
import type { ProviderSession } from '../../src/providers/provider.js';
import { Store } from '../../src/store/store.js';
import { signingCertificate, sshPublicKey, staleSeedUser, activeSeedUser } from './identities.js';
import { MOTO_ACCOUNT_ID, type MotoServer } from './moto.js';
import type { Principal } from './motoEnforced.js';

const DAY = 86_400_000;
export const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString();

export const ADMIN_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export const INLINE_DOCUMENT = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::scratch/${aws:username}/*' }],
};

/** What every kitchen-sink user shares: groups, a managed policy, a boundary, public key material. */
export interface World {
  groups: string[];
  policyArn: string;
  boundaryArn: string;
  ssh: [string, string];
  certs: [string, string];
}

/**
 * The users every scan sees (names say what they are), and what the kitchen sinks share.
 * stale-pat's two keys were created in the same second with the same status: the report names
 * them by slot, and only GetAccessKeyLastUsed tells them apart.
 */
export async function buildWorld(moto: MotoServer, iam: IAMClient): Promise<World> {
  const sameSecond = ago(400);
  await moto.seed({
    users: [
      staleSeedUser('stale-pat', {
        keys: [
          { createDate: sameSecond, lastUsed: ago(300) },
          { createDate: sameSecond, lastUsed: ago(200) },
        ],
      }),
      staleSeedUser('stale-kim', {
        password: false,
        passwordLastUsed: null,
        keys: [{ createDate: ago(400), lastUsed: null }],
      }),
      { name: 'never-nia', createDate: ago(400) },
      staleSeedUser('exempt-ed', { tags: { 'dormant:exempt': 'true', owner: 'ed@example.com' } }),
      activeSeedUser('active-ann'),
      { ...activeSeedUser('rotate-rob'), keys: [{ createDate: ago(200), lastUsed: ago(1) }] },
    ],
  });
  const groups = ['analysts', 'engineers'];
  for (const group of groups) await iam.send(new CreateGroupCommand({ GroupName: group }));
  const policy = async (name: string, document: object): Promise<string> =>
    (await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: JSON.stringify(document) }))).Policy!
      .Arn!;
  const read = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }] };
  const boundary = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
  return {
    groups,
    policyArn: await policy('eng-read', read),
    boundaryArn: await policy('eng-boundary', boundary),
    ssh: [sshPublicKey('sink@laptop'), sshPublicKey('sink@old-laptop')],
    certs: [signingCertificate('/CN=sink'), signingCertificate('/CN=sink-old')],
  };
}

export interface Sink {
  name: string;
  path: string;
  arn: string;
  keys: string[];
  mfaSerial: string;
  tags: Record<string, string>;
}

/**
 * A stale user with everything DeleteUser cares about and a backup must hold: a console
 * password, two access keys, two groups, a managed and an inline policy, a permissions
 * boundary, a virtual MFA device, two SSH keys and two signing certificates (one of each
 * Inactive), a service-specific credential and tags. `iam` must be allowed everything.
 */
export async function kitchenSink(moto: MotoServer, iam: IAMClient, world: World, name: string): Promise<Sink> {
  const path = '/eng/';
  const tags = { team: 'data', owner: `${name}@example.com` };
  const seeded = await moto.seed({
    users: [
      staleSeedUser(name, {
        path,
        tags,
        keys: [
          { createDate: ago(400), lastUsed: ago(300) },
          { createDate: ago(380), lastUsed: null },
        ],
      }),
    ],
  });
  for (const group of world.groups) await iam.send(new AddUserToGroupCommand({ GroupName: group, UserName: name }));
  await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: world.policyArn }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: name,
      PolicyName: 'scratch',
      PolicyDocument: JSON.stringify(INLINE_DOCUMENT),
    }),
  );
  await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: name, PermissionsBoundary: world.boundaryArn }));
  const mfa = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${name}-phone` }));
  const mfaSerial = mfa.VirtualMFADevice!.SerialNumber!;
  await iam.send(
    new EnableMFADeviceCommand({
      UserName: name,
      SerialNumber: mfaSerial,
      AuthenticationCode1: '123456',
      AuthenticationCode2: '654321',
    }),
  );
  for (const [i, body] of world.ssh.entries()) {
    const key = await iam.send(new UploadSSHPublicKeyCommand({ UserName: name, SSHPublicKeyBody: body }));
    if (i === 1) {
      const id = key.SSHPublicKey!.SSHPublicKeyId!;
      await iam.send(new UpdateSSHPublicKeyCommand({ UserName: name, SSHPublicKeyId: id, Status: 'Inactive' }));
    }
  }
  for (const [i, body] of world.certs.entries()) {
    const cert = await iam.send(new UploadSigningCertificateCommand({ UserName: name, CertificateBody: body }));
    if (i === 1) {
      const id = cert.Certificate!.CertificateId!;
      await iam.send(new UpdateSigningCertificateCommand({ UserName: name, CertificateId: id, Status: 'Inactive' }));
    }
  }
  await iam.send(
    new CreateServiceSpecificCredentialCommand({ UserName: name, ServiceName: 'codecommit.amazonaws.com' }),
  );
  const user = seeded.users[0]!;
  return { name, path, arn: user.arn, keys: user.keys, mfaSerial, tags };
}

export interface RoleSink {
  name: string;
  path: string;
  arn: string;
  profile: string;
  trustPolicy: object;
  tags: Record<string, string>;
}

/**
 * A stale role with everything its backup holds: a trust policy a person may use (so it is
 * flagged), a description, a maximum session, a boundary, tags, a managed and an inline policy,
 * and an instance profile of its own. `iam` must be allowed everything.
 */
export async function roleSink(moto: MotoServer, iam: IAMClient, world: World, name: string): Promise<RoleSink> {
  const path = '/svc/';
  const tags = { team: 'data', owner: `${name}@example.com` };
  const trustPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' },
    ],
  };
  const seeded = await moto.seed({
    roles: [
      {
        name,
        path,
        createDate: ago(400),
        lastUsed: ago(300),
        trustPolicy,
        tags,
        description: 'batch jobs nobody runs any more',
        maxSessionDuration: 7200,
      },
    ],
  });
  await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: world.policyArn }));
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: name,
      PolicyName: 'scratch',
      PolicyDocument: JSON.stringify(INLINE_DOCUMENT),
    }),
  );
  await iam.send(new PutRolePermissionsBoundaryCommand({ RoleName: name, PermissionsBoundary: world.boundaryArn }));
  const profile = `${name}-profile`;
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: profile, Path: path }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profile, RoleName: name }));
  return { name, path, arn: seeded.roles[0]!.arn, profile, trustPolicy, tags };
}

// ---------------------------------------------------------------- verdicts

/** What a scan decided about each identity, without the principals the tests run as (their keys are in use). */
export function verdicts(result: Pick<ScanResult, 'identities' | 'findings'>): unknown {
  const mine = (name: string) => !name.startsWith('dormant-');
  return {
    identities: result.identities
      .filter((i) => mine(i.name))
      .map((i) => ({ name: i.name, kind: i.kind, state: i.state, exempt: i.exemptReason, last: i.lastActivityAt })),
    findings: result.findings
      .filter((f) => mine(f.identityName))
      .map((f) => [f.identityName, f.ruleId, f.credentialId, f.recommendedAction, f.lastActivityAt]),
  };
}

// ---------------------------------------------------------------- the commands, in-process

/** The principals' keys as AWS profiles, for sessions opened in this process (no key ever in env). */
export function writeProfiles(dir: string, principals: Principal[]): Record<string, string> {
  const credentials = join(dir, 'credentials');
  const config = join(dir, 'config');
  writeFileSync(
    credentials,
    principals
      .map(
        (p) =>
          `[${p.name}]\naws_access_key_id = ${p.key.accessKeyId}\naws_secret_access_key = ${p.key.secretAccessKey}\n`,
      )
      .join('\n'),
  );
  writeFileSync(config, '');
  return { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config };
}

/**
 * scan, plan, approve, apply, restore and evidence as the CLI runs them (the same registry
 * sessions and engine calls, the same store as the CLI's `--db`), as the principal named.
 */
export class InProcess {
  constructor(
    private readonly endpoint: string,
    private readonly db: string,
    private readonly settings: Record<string, unknown>,
  ) {}

  config(profile: string): Config {
    return parseConfig({
      ...this.settings,
      aws: { profile, endpointUrl: this.endpoint, maxAttempts: 1 },
      evidence: {
        cloudtrail: { endpointUrl: this.endpoint },
        accessAdvisor: { timeoutSeconds: 10 },
      },
    });
  }

  private async session<T>(
    profile: string,
    source: string | undefined,
    fn: (s: ProviderSession, c: Config) => Promise<T>,
  ) {
    const config = this.config(profile);
    const [session] = await openProviders([providerEntry('aws')], { config, ...(source ? { source } : {}) });
    try {
      return await fn(session!, config);
    } finally {
      session!.close();
    }
  }

  private async store<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    const store = await Store.open(this.db);
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }

  scan(profile: string, source: 'auto' | 'report' | 'api'): Promise<ScanResult> {
    return this.session(profile, source, (s, config) => scan([s.scanner], { config }));
  }

  /** A plan with the items of `users` approved (the others left pending). */
  async plan(profile: string, users: string[], only?: (action: string) => boolean): Promise<Plan> {
    const result = await this.scan(profile, 'report');
    return this.store(async (store) => {
      const { plan } = await storePlan(store, result, this.config(profile), profile);
      const items = plan.items.filter((i) => users.includes(i.identityName) && (!only || only(i.action)));
      if (items.length === 0) throw new Error(`the plan has no items for ${users.join(', ')}`);
      await decide(store, {
        planId: plan.id,
        items: items.map((i) => i.id),
        all: false,
        decision: 'approve',
        by: profile,
        reason: 'least-privilege test',
        channel: 'cli',
      });
      return plan;
    });
  }

  apply(profile: string, planId: string): Promise<ApplyReport> {
    return this.session(profile, undefined, (s, config) =>
      this.store((store) => apply(store, [s.remediation], { planId, config, by: profile })),
    );
  }

  restore(profile: string, target: string, temporaryPassword?: string): Promise<RestoreRun> {
    return this.session(profile, undefined, (s) =>
      this.store((store) =>
        restore(store, [s.remediation], target, { by: profile, ...(temporaryPassword ? { temporaryPassword } : {}) }),
      ),
    );
  }

  evidence(profile: string, user: { name: string; arn: string }): Promise<Evidence> {
    return this.session(profile, undefined, (s) =>
      s.remediation.evidence({ provider: 'aws', account: MOTO_ACCOUNT_ID, id: user.arn, name: user.name }),
    );
  }
}
