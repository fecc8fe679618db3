/**
 * Remediation of IAM roles (DESIGN §2b, §4): re-read a role live, back it up, quarantine it
 * (reversible), delete it completely, restore it, and gather its evidence. AwsRemediation hands
 * every role (an ARN with `:role/`, a backup of kind `role`) to this class; the work is in
 * aws-role-actions, aws-role-backup, aws-role-restore and aws-role-evidence.
 */
import { CloudError, UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Caller, Identity } from '../../model/identity.js';
import type { IdentityRef, RestoreOptions, StepRunner } from '../provider.js';
import { markProtected } from './aws-caller.js';
import type { AwsClients } from './aws-client.js';
import type { EvidenceDeps } from './aws-evidence.js';
import { deleteRole, quarantineRole } from './aws-role-actions.js';
import { type RoleBackup, readRoleBackup, roleBackupEnvelope, takeRoleBackup } from './aws-role-backup.js';
import { QUARANTINE_POLICY_NAME, isRoleArn, roleIdentity } from './aws-role-identity.js';
import { getRole, hasQuarantine, listRolePolicyNames } from './aws-role-lists.js';
import { restoreRole } from './aws-role-restore.js';

/** True when a plan item or backup names an IAM role (roles and users share the AWS provider). */
export function isRoleRef(ref: Pick<IdentityRef, 'id'>): boolean {
  return isRoleArn(ref.id);
}

export interface RoleRemediationContext {
  aws: Pick<AwsClients, 'iam' | 'settings'>;
  caller: () => Promise<Caller>;
  /** Refuses before any call when the credentials are for another account. */
  checkAccount: (account: string, what: string) => Promise<void>;
  now?: () => Date;
}

export class AwsRoleRemediation {
  constructor(private readonly ctx: RoleRemediationContext) {}

  private get aws() {
    return this.ctx.aws;
  }

  /** GetRole (trust policy, tags, RoleLastUsed) and the inline policy names (is it quarantined?). */
  async reread(ref: IdentityRef): Promise<Identity | null> {
    await this.ctx.checkAccount(ref.account, `role ${ref.name}`);
    const [role, names, caller] = await Promise.all([
      getRole(this.aws, ref.name),
      listRolePolicyNames(this.aws, ref.name),
      this.ctx.caller(),
    ]);
    if (!role?.Arn || !role.RoleName) return null;
    const identity = roleIdentity(
      {
        arn: role.Arn,
        name: role.RoleName,
        path: role.Path,
        createDate: role.CreateDate,
        trustPolicy: role.AssumeRolePolicyDocument,
        tags: role.Tags,
        lastUsed: role.RoleLastUsed,
        quarantined: await hasQuarantine(this.aws, ref.name, names),
      },
      (this.ctx.now ?? (() => new Date()))(),
    );
    markProtected(identity, caller);
    return identity;
  }

  /**
   * The quarantine is still on: a role someone lifted it from is not deleted. Or this item's own
   * delete took it off (journaled) in a run that crashed or failed before DeleteRole.
   */
  isDisabled(live: Identity, doneSteps?: ReadonlySet<string>): boolean {
    return live.enabled === false || Boolean(doneSteps?.has(`delete-inline-policy:${QUARANTINE_POLICY_NAME}`));
  }

  async backup(ref: IdentityRef): Promise<BackupEnvelope<RoleBackup>> {
    return roleBackupEnvelope(await takeRoleBackup(this.aws, ref.name));
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope<RoleBackup> {
    return readRoleBackup(envelope);
  }

  async perform(action: ActionName, ref: IdentityRef, steps: StepRunner): Promise<void> {
    switch (action) {
      case 'notify':
        return;
      case 'disable-user':
        await quarantineRole(this.aws, ref.name, steps);
        return;
      case 'delete-user':
        await deleteRole(this.aws, ref.name, steps);
        return;
      case 'deactivate-key':
      case 'delete-key':
      case 'remove-password':
        // A role has no keys or password of its own: refuse rather than guess.
        throw new UsageError(`${action} is not an action on IAM roles (${ref.name}); plan again`);
      default: {
        const never: never = action;
        throw new Error(`unknown action ${String(never)}`);
      }
    }
  }

  async restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    const valid = readRoleBackup(backup);
    if (valid.data.role.arn !== valid.identityId) {
      throw new CloudError(
        `the backup of ${valid.identityName} names ${valid.identityId} but holds role ${valid.data.role.arn}; it is not restored`,
        'UnreadableBackup',
      );
    }
    await this.ctx.checkAccount(valid.account, `the backup of role ${valid.identityName}`);
    return restoreRole(this.aws, valid.data, options, steps);
  }

  evidence(ref: IdentityRef, deps: EvidenceDeps): Promise<Evidence> {
    return import('./aws-role-evidence.js').then(({ gatherRoleEvidence }) =>
      gatherRoleEvidence({ name: ref.name, arn: ref.id }, deps),
    );
  }
}
