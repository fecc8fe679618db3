/**
 * An in-memory IAM account: a provider that scans, re-reads, backs up, acts and restores
 * without any cloud. `dormant demo` uses it, seeded from the shipped credential report, so a
 * new user can watch plan → approve → apply → restore with no account. Nothing here is AWS.
 */
import { createHash } from 'node:crypto';
import { CloudError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Caller, Credential, Identity, Inventory } from '../../model/identity.js';
import type {
  ActionTarget,
  EnrichRequest,
  IdentityRef,
  RemediationProvider,
  RestoreOptions,
  ScanProvider,
  StepRunner,
} from '../provider.js';

/** What disable-user removes in the memory account (remediation.disableUser). */
export interface MemorySettings {
  disableUser: ('deactivate-keys' | 'remove-password' | 'quarantine')[];
}

/** The snapshot of a memory user: the same facts an IAM backup holds, minus what the demo has not. */
export interface MemoryBackup {
  user: { name: string; arn: string; path: string; tags: { key: string; value: string }[] };
  groups: string[];
  attachedPolicies: { arn: string; name: string }[];
  inlinePolicies: { name: string; document: string }[];
  loginProfile: { exists: boolean };
  accessKeys: { id: string; status: 'Active' | 'Inactive'; createdAt: string | null }[];
}

function isMemoryBackup(d: unknown): d is MemoryBackup {
  const o = d as Partial<MemoryBackup> | null;
  return Boolean(
    o &&
    typeof o.user?.name === 'string' &&
    Array.isArray(o.groups) &&
    Array.isArray(o.attachedPolicies) &&
    Array.isArray(o.inlinePolicies) &&
    Array.isArray(o.accessKeys) &&
    typeof o.loginProfile?.exists === 'boolean',
  );
}

export interface MemoryUser {
  identity: Identity;
  tags: Record<string, string>;
  groups: string[];
  attachedPolicies: { arn: string; name: string }[];
  inlinePolicies: { name: string; document: string }[];
  mfaDevices: string[];
}

export class MemoryAccount implements ScanProvider, RemediationProvider {
  readonly name = 'memory';
  readonly provider = 'aws' as const;
  settings: MemorySettings = { disableUser: ['deactivate-keys', 'remove-password'] };
  readonly users = new Map<string, MemoryUser>();
  /** Every mutating call, in order, for the demo's narration and for tests. */
  readonly calls: string[] = [];

  constructor(
    readonly account: string,
    private readonly callerArn = `arn:aws:iam::${account}:user/dormant-runner`,
  ) {}

  /** Seed from parsed identities; report slots get stable, fake key ids. */
  static fromIdentities(account: string, identities: Identity[]): MemoryAccount {
    const acct = new MemoryAccount(account);
    for (const source of identities) {
      const identity: Identity = structuredClone(source);
      for (const c of identity.credentials) {
        if (c.kind === 'access-key' && c.id === null) {
          const digest = createHash('sha256')
            .update(`${identity.id}/${c.handle ?? ''}`)
            .digest('hex')
            .toUpperCase();
          c.id = `AKIADEMO${digest.replace(/[^A-Z0-9]/g, '').slice(0, 12)}`;
        }
      }
      acct.users.set(identity.name, {
        identity,
        tags: { ...(identity.tags ?? {}) },
        groups: ['developers'],
        attachedPolicies: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', name: 'ReadOnlyAccess' }],
        inlinePolicies: [
          {
            name: 's3-team-bucket',
            document: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-bucket/*' }],
            }),
          },
        ],
        mfaDevices: [],
      });
    }
    return acct;
  }

  async collect(): Promise<Inventory> {
    return {
      provider: 'aws',
      source: 'api',
      accounts: [this.account],
      dataAsOf: null,
      caller: { arn: this.callerArn, account: this.account },
      identities: [...this.users.values()].map((u) => this.marked(structuredClone(u.identity))),
      warnings: [],
    };
  }

  async enrich(request: EnrichRequest): Promise<string[]> {
    for (const identity of request.tags) identity.tags = { ...(this.users.get(identity.name)?.tags ?? {}) };
    return [];
  }

  async caller(): Promise<Caller> {
    return { arn: this.callerArn, account: this.account };
  }

  /** The caller and the root are protected, as the AWS provider marks them. */
  private marked(identity: Identity): Identity {
    if (identity.id === this.callerArn) {
      identity.isCaller = true;
      identity.protectedReason = 'the identity dormant runs as';
    } else if (identity.id.endsWith(':root') || identity.name === '<root_account>') {
      identity.protectedReason = 'the root user';
    }
    return identity;
  }

  async reread(target: IdentityRef): Promise<Identity | null> {
    const u = this.users.get(target.name);
    return u ? this.marked({ ...structuredClone(u.identity), tags: { ...u.tags } }) : null;
  }

  isDisabled(live: Identity): boolean {
    const steps = this.settings.disableUser;
    if (steps.includes('deactivate-keys') && live.credentials.some((c) => c.kind === 'access-key' && c.enabled)) {
      return false;
    }
    return !(steps.includes('remove-password') && live.credentials.some((c) => c.kind === 'password'));
  }

  async evidence(): Promise<Evidence> {
    return [];
  }

  async backup(target: IdentityRef): Promise<BackupEnvelope<MemoryBackup>> {
    const userName = target.name;
    const u = this.users.get(userName);
    if (!u) throw new CloudError(`memory account: no user ${userName}`, 'NoSuchEntity');
    const password = u.identity.credentials.find((c) => c.kind === 'password');
    return {
      provider: 'aws',
      kind: 'user',
      version: 1,
      takenAt: new Date().toISOString(),
      account: this.account,
      identityId: u.identity.id,
      identityName: userName,
      data: {
        user: {
          name: userName,
          arn: u.identity.id,
          path: u.identity.path,
          tags: Object.entries(u.tags).map(([key, value]) => ({ key, value })),
        },
        groups: [...u.groups],
        attachedPolicies: structuredClone(u.attachedPolicies),
        inlinePolicies: structuredClone(u.inlinePolicies),
        loginProfile: { exists: Boolean(password) },
        accessKeys: u.identity.credentials
          .filter((c): c is Credential & { id: string } => c.kind === 'access-key' && c.id !== null)
          .map((c) => ({ id: c.id, status: c.enabled ? 'Active' : 'Inactive', createdAt: c.createdAt })),
      },
    };
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope<MemoryBackup> {
    if (envelope.provider !== 'aws' || envelope.version !== 1 || !isMemoryBackup(envelope.data)) {
      throw new CloudError(
        `backup of ${envelope.identityName} does not fit the memory account's backup shape`,
        'InvalidBackup',
      );
    }
    return envelope as BackupEnvelope<MemoryBackup>;
  }

  async perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    const settings = this.settings;
    const userName = target.identity.name;
    const u = () => this.users.get(userName);
    const deactivate = (id: string) =>
      steps.step(`deactivate-key:${id}`, async () => {
        const key = u()?.identity.credentials.find((c) => c.kind === 'access-key' && c.id === id);
        if (key) Object.assign(key, { status: 'Inactive', enabled: false });
        this.calls.push(`UpdateAccessKey ${id} Inactive`);
      });
    const removePassword = () =>
      steps.step('delete-login-profile', async () => {
        const user = u();
        if (user) user.identity.credentials = user.identity.credentials.filter((c) => c.kind !== 'password');
        this.calls.push(`DeleteLoginProfile ${userName}`);
      });
    switch (action) {
      case 'notify':
        return;
      case 'deactivate-key':
        if (!target.credentialId) throw new CloudError('deactivate-key needs a key id', 'InvalidInput');
        return deactivate(target.credentialId);
      case 'remove-password':
        return removePassword();
      case 'disable-user': {
        if (settings.disableUser.includes('deactivate-keys')) {
          for (const c of u()?.identity.credentials ?? []) {
            if (c.kind === 'access-key' && c.id && c.enabled) await deactivate(c.id);
          }
        }
        if (settings.disableUser.includes('remove-password')) await removePassword();
        return;
      }
      case 'delete-user': {
        await removePassword();
        for (const c of [...(u()?.identity.credentials ?? [])]) {
          if (c.kind !== 'access-key' || !c.id) continue;
          await steps.step(`delete-access-key:${c.id}`, async () => {
            const user = u();
            if (user) user.identity.credentials = user.identity.credentials.filter((k) => k.id !== c.id);
            this.calls.push(`DeleteAccessKey ${c.id}`);
          });
        }
        for (const p of [...(u()?.inlinePolicies ?? [])]) {
          await steps.step(`delete-inline-policy:${p.name}`, async () => {
            const user = u();
            if (user) user.inlinePolicies = user.inlinePolicies.filter((x) => x.name !== p.name);
            this.calls.push(`DeleteUserPolicy ${p.name}`);
          });
        }
        for (const p of [...(u()?.attachedPolicies ?? [])]) {
          await steps.step(`detach-policy:${p.arn}`, async () => {
            const user = u();
            if (user) user.attachedPolicies = user.attachedPolicies.filter((x) => x.arn !== p.arn);
            this.calls.push(`DetachUserPolicy ${p.arn}`);
          });
        }
        for (const g of [...(u()?.groups ?? [])]) {
          await steps.step(`remove-from-group:${g}`, async () => {
            const user = u();
            if (user) user.groups = user.groups.filter((x) => x !== g);
            this.calls.push(`RemoveUserFromGroup ${g}`);
          });
        }
        await steps.step('delete-user', async () => {
          this.users.delete(userName);
          this.calls.push(`DeleteUser ${userName}`);
        });
        return;
      }
    }
  }

  async restore(envelope: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    const backup = this.readBackup(envelope).data;
    const report: RestoreReport = { restored: [], cannotRestore: [], warnings: [] };
    const name = backup.user.name;
    let user = this.users.get(name);
    if (!user) {
      await steps.step('create-user', async () => {
        user = {
          identity: {
            provider: 'aws',
            account: envelope.account,
            kind: 'user',
            id: backup.user.arn,
            name,
            path: backup.user.path,
            createdAt: new Date().toISOString(),
            credentials: [],
          },
          tags: Object.fromEntries(backup.user.tags.map((t) => [t.key, t.value])),
          groups: [],
          attachedPolicies: [],
          inlinePolicies: [],
          mfaDevices: [],
        };
        this.users.set(name, user);
        this.calls.push(`CreateUser ${name}`);
      });
      report.restored.push(`user ${name} at path ${backup.user.path} with ${backup.user.tags.length} tag(s)`);
    }
    const target = this.users.get(name)!;
    for (const g of backup.groups) {
      if (!target.groups.includes(g)) target.groups.push(g);
      report.restored.push(`group membership ${g}`);
    }
    for (const p of backup.attachedPolicies) {
      if (!target.attachedPolicies.some((x) => x.arn === p.arn)) target.attachedPolicies.push(p);
      report.restored.push(`managed policy ${p.name}`);
    }
    for (const p of backup.inlinePolicies) {
      target.inlinePolicies = [...target.inlinePolicies.filter((x) => x.name !== p.name), p];
      report.restored.push(`inline policy ${p.name} (identical document)`);
    }
    for (const k of backup.accessKeys) {
      const live = target.identity.credentials.find((c) => c.kind === 'access-key' && c.id === k.id);
      if (!live)
        report.cannotRestore.push(`access key ${k.id} was deleted: its secret cannot come back; create a new key`);
      else if (k.status === 'Active' && !live.enabled) {
        Object.assign(live, { status: 'Active', enabled: true });
        report.restored.push(`access key ${k.id} reactivated`);
      }
    }
    if (backup.loginProfile.exists) {
      if (options.temporaryPassword) {
        target.identity.credentials.push({
          kind: 'password',
          id: null,
          status: 'enabled',
          enabled: true,
          createdAt: new Date().toISOString(),
          lastUse: 'never',
          lastUsedAt: null,
        });
        report.restored.push('console password, with a reset required at next sign-in');
      } else {
        report.cannotRestore.push(
          'console password: not recreated (pass a temporary password to restore it; a reset is required at sign-in)',
        );
      }
    }
    return report;
  }
}
