/**
 * AWS remediation (DESIGN §4): re-verify a user live, back it up completely, perform an
 * action as named idempotent steps, rebuild a user from its backup, and gather the review's
 * evidence. This class only composes: the work is in aws-backup, aws-actions, aws-restore
 * and aws-evidence.
 *
 * Every mutating call runs inside `steps.step(name, fn)` with a stable, deterministic name, so
 * the engine can journal it and resume after a crash. Read-only list calls run outside steps.
 * NoSuchEntity on a delete, detach or remove means the work is already done; EntityAlreadyExists
 * on a create, attach or add means the same.
 */
import type { User } from '@aws-sdk/client-iam';
import type { Config } from '../../config/config.js';
import { CloudError, UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Caller, Identity } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import type { ActionTarget, IdentityRef, RemediationProvider, RestoreOptions, StepRunner } from '../provider.js';
import { type DisableSettings, deactivateKey, deleteLoginProfile, deleteUser, disableUser } from './aws-actions.js';
import { type UserReadings, readUserLive } from './aws-api-source.js';
import { type UserBackup, readUserBackup, takeUserBackup, userBackupEnvelope } from './aws-backup.js';
import { markProtected, readCaller } from './aws-caller.js';
import type { AwsClients } from './aws-client.js';
import type { CloudTrailEvidence, CloudTrailEvidenceOptions } from './aws-cloudtrail-evidence.js';
import { isNoSuchEntity, isNoSuchEntityCloudError, unavailableReason } from './aws-errors.js';
import { evidenceUnavailable } from './aws-evidence-result.js';
import { getUser } from './aws-lists.js';
import { parseUserArn } from './aws-credential-report.js';
import { restoreUser } from './aws-restore.js';

export interface AwsRemediationOptions {
  /** What disable-user does: `config.remediation` (only disableUser and quarantinePolicyArn are read). */
  remediation: DisableSettings;
  /** `config.evidence`: which evidence sources are on, and how they are read. */
  evidence: Config['evidence'];
  /**
   * For the CloudTrail client: explicit credentials (tests), the per-region limiters (default:
   * shared by the whole process, as AWS counts per account and region), a clock.
   */
  cloudtrail?: Pick<CloudTrailEvidenceOptions, 'credentials' | 'limiters' | 'now'>;
  /** Access Advisor's first poll wait in ms (default 1000); tests make it short. */
  accessAdvisorPollMs?: number;
  now?: () => Date;
}

export class AwsRemediation implements RemediationProvider {
  readonly provider = 'aws' as const;
  private callerRead: Promise<Caller> | null = null;
  /** The raw answers behind each identity reread returned, for the backup that follows it. */
  private readonly readings = new WeakMap<Identity, UserReadings>();
  /** Built on the first evidence() call: apply and restore never load the CloudTrail SDK. */
  private trail: Promise<CloudTrailEvidence | null> | null = null;

  constructor(
    readonly aws: AwsClients,
    private readonly options: AwsRemediationOptions,
  ) {}

  private get iam() {
    return this.aws.iam;
  }

  private get settings() {
    return this.aws.settings;
  }

  /** The principal dormant runs as (sts:GetCallerIdentity), read once. */
  caller(): Promise<Caller> {
    if (!this.callerRead) {
      this.callerRead = readCaller(this.aws);
      // A failed read is not remembered: the next call asks again.
      this.callerRead.catch(() => {
        this.callerRead = null;
      });
    }
    return this.callerRead;
  }

  /** Refuse before any call when the credentials are for another account than the plan item's or backup's. */
  private async checkAccount(account: string, what: string): Promise<void> {
    const caller = await this.caller();
    if (account && caller.account && account !== caller.account) {
      throw new UsageError(
        `${what} is in AWS account ${account}, but the credentials are for account ${caller.account}; use that account's profile, or --org to act through aws.organization.roleName`,
      );
    }
  }

  async reread(ref: IdentityRef): Promise<Identity | null> {
    await this.checkAccount(ref.account, `user ${ref.name}`);
    const userName = ref.name;
    try {
      const [read, caller] = await Promise.all([
        readUserLive(this.aws, userName, () => getUser(this.aws, userName)),
        this.caller(),
      ]);
      if (!read) return null;
      const { identity, readings } = read;
      // GetUser answers with every tag of the user (IAM allows 50): no ListUserTags needed.
      identity.tags = tagsOf(readings.user);
      identity.lastSignInAt = readings.user.PasswordLastUsed ? isoSeconds(readings.user.PasswordLastUsed) : null;
      markProtected(identity, caller);
      this.readings.set(identity, readings);
      return identity;
    } catch (err) {
      // Deleted between GetUser and the credential reads: it no longer exists.
      if (isNoSuchEntity(err) || isNoSuchEntityCloudError(err)) return null;
      throw err;
    }
  }

  /** For the guards: one GetUser (it carries the tags), marked like reread's answer; no credentials. */
  async readMarks(ref: IdentityRef): Promise<Identity | null> {
    await this.checkAccount(ref.account, `user ${ref.name}`);
    const user = await getUser(this.aws, ref.name);
    if (!user?.Arn) return null;
    const identity: Identity = {
      provider: 'aws',
      account: parseUserArn(user.Arn)?.account ?? '',
      kind: 'user',
      id: user.Arn,
      name: user.UserName ?? ref.name,
      path: user.Path ?? '/',
      createdAt: user.CreateDate ? isoSeconds(user.CreateDate) : null,
      credentials: [],
      tags: tagsOf(user),
    };
    markProtected(identity, await this.caller());
    return identity;
  }

  /** After disable-user, what the settings said to remove must still be gone. */
  isDisabled(live: Identity): boolean {
    const how = this.options.remediation.disableUser;
    if (how.includes('deactivate-keys') && live.credentials.some((c) => c.kind === 'access-key' && c.enabled)) {
      return false;
    }
    return !(how.includes('remove-password') && live.credentials.some((c) => c.kind === 'password'));
  }

  async backup(ref: IdentityRef, live?: Identity | null): Promise<BackupEnvelope<UserBackup>> {
    // What the item's re-check read a moment ago is not asked again (GetUser, tags, keys, password).
    const readings = live ? this.readings.get(live) : undefined;
    return userBackupEnvelope(await takeUserBackup(this.aws, ref.name, readings));
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope<UserBackup> {
    return readUserBackup(envelope);
  }

  async perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    const userName = target.identity.name;
    switch (action) {
      case 'notify':
        return;
      case 'deactivate-key': {
        if (!target.credentialId) {
          throw new CloudError(
            `deactivate-key for ${userName} names no access key (credentialId is null); rescan so the key id is known`,
            'InvalidTarget',
          );
        }
        await deactivateKey(this.aws, userName, target.credentialId, steps);
        return;
      }
      case 'remove-password':
        await deleteLoginProfile(this.aws, userName, steps);
        return;
      case 'disable-user':
        await disableUser(this.aws, userName, this.options.remediation, steps);
        return;
      case 'delete-user':
        await deleteUser(this.aws, userName, steps);
        return;
      case 'delete-key':
        // No AWS rule stages a key deletion (DESIGN §2: deactivate only): refuse rather than guess.
        throw new UsageError(`delete-key is not an action dormant takes on AWS access keys (${userName})`);
      default: {
        const never: never = action;
        throw new Error(`unknown action ${String(never)}`);
      }
    }
  }

  async restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    const valid = readUserBackup(backup);
    await this.checkAccount(valid.account, `the backup of ${valid.identityName}`);
    return restoreUser(this.aws, valid.data, options, steps, this.options.remediation.quarantinePolicyArn);
  }

  /** CloudTrail and Access Advisor for the user. Never throws. */
  async evidence(ref: IdentityRef): Promise<Evidence> {
    const now = this.options.now ?? (() => new Date());
    try {
      const { gatherEvidence } = await import('./aws-evidence.js');
      return await gatherEvidence(
        { userName: ref.name, userArn: ref.id },
        {
          cloudtrail: await this.cloudTrail(),
          aws: this.aws,
          settings: this.options.evidence,
          ...(this.options.accessAdvisorPollMs !== undefined ? { pollMs: this.options.accessAdvisorPollMs } : {}),
          now,
        },
      );
    } catch (err) {
      // Not even started (an SDK module or the CloudTrail client could not be loaded): say why.
      return evidenceUnavailable(unavailableReason(err, 'evidence'), now());
    }
  }

  /** The CloudTrail client, built once (shared with role evidence, aws-iam-remediation). */
  cloudTrail(): Promise<CloudTrailEvidence | null> {
    if (!this.trail) {
      const trail = import('./aws-cloudtrail-evidence.js').then(({ CloudTrailEvidence }) =>
        CloudTrailEvidence.fromConfig(this.options.evidence.cloudtrail, this.settings, {
          calls: this.aws.calls,
          ...this.options.cloudtrail,
        }),
      );
      // A client that could not be built is tried again next time.
      trail.catch(() => {
        if (this.trail === trail) this.trail = null;
      });
      this.trail = trail;
    }
    return this.trail;
  }

  /** Close the CloudTrail clients, if evidence built them (the IAM and STS clients are the caller's). */
  destroy(): void {
    const trail = this.trail;
    this.trail = null;
    void trail?.then((t) => t?.destroy()).catch(() => undefined);
  }
}

function tagsOf(user: User): Record<string, string> {
  return Object.fromEntries((user.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
}
