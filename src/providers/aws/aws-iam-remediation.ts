/**
 * AWS remediation for every kind of IAM identity the scan lists: users go to AwsRemediation,
 * roles to AwsRoleRemediation. A plan item names its identity by ARN (`:user/` or `:role/`) and a
 * backup by its envelope's kind, so each call is handed on by that; both share one IAM client,
 * one read of the caller and one CloudTrail client.
 */
import { UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Identity } from '../../model/identity.js';
import type { ActionTarget, IdentityRef, RemediationProvider, RestoreOptions, StepRunner } from '../provider.js';
import type { AwsClients } from './aws-client.js';
import { unavailableReason } from './aws-errors.js';
import { evidenceUnavailable } from './aws-evidence-result.js';
import { AwsRemediation, type AwsRemediationOptions } from './aws-remediation.js';
import { AwsRoleRemediation, isRoleRef } from './aws-role-remediation.js';

export class AwsIamRemediation implements RemediationProvider {
  readonly provider = 'aws' as const;
  readonly users: AwsRemediation;
  readonly roles: AwsRoleRemediation;

  constructor(
    readonly aws: AwsClients,
    private readonly options: AwsRemediationOptions,
  ) {
    this.users = new AwsRemediation(aws, options);
    this.roles = new AwsRoleRemediation({
      aws,
      caller: () => this.users.caller(),
      checkAccount: async (account, what) => {
        const caller = await this.users.caller();
        if (account && caller.account && account !== caller.account) {
          throw new UsageError(
            `${what} is in AWS account ${account}, but the credentials are for account ${caller.account}; use that account's profile, or --org to act through aws.organization.roleName`,
          );
        }
      },
      ...(options.now ? { now: options.now } : {}),
    });
  }

  reread(target: IdentityRef): Promise<Identity | null> {
    return isRoleRef(target) ? this.roles.reread(target) : this.users.reread(target);
  }

  /** For the guards: a role's full read is already three calls or fewer. */
  readMarks(target: IdentityRef): Promise<Identity | null> {
    if (isRoleRef(target)) return this.roles.reread(target);
    const users: RemediationProvider = this.users;
    return users.readMarks ? users.readMarks(target) : users.reread(target);
  }

  isDisabled(live: Identity, doneSteps?: ReadonlySet<string>): boolean {
    return live.kind === 'role' ? this.roles.isDisabled(live, doneSteps) : this.users.isDisabled(live);
  }

  backup(target: IdentityRef, live?: Identity | null): Promise<BackupEnvelope> {
    return isRoleRef(target) ? this.roles.backup(target) : this.users.backup(target, live);
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope {
    return envelope?.kind === 'role' ? this.roles.readBackup(envelope) : this.users.readBackup(envelope);
  }

  perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    return isRoleRef(target.identity)
      ? this.roles.perform(action, target.identity, steps)
      : this.users.perform(action, target, steps);
  }

  restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    return backup?.kind === 'role'
      ? this.roles.restore(backup, options, steps)
      : this.users.restore(backup, options, steps);
  }

  /** CloudTrail (a role's AssumeRole events) and Access Advisor. Never throws. */
  async evidence(target: IdentityRef): Promise<Evidence> {
    if (!isRoleRef(target)) return this.users.evidence(target);
    const now = this.options.now ?? (() => new Date());
    try {
      return await this.roles.evidence(target, {
        cloudtrail: await this.users.cloudTrail(),
        aws: this.aws,
        settings: this.options.evidence,
        ...(this.options.accessAdvisorPollMs !== undefined ? { pollMs: this.options.accessAdvisorPollMs } : {}),
        now,
      });
    } catch (err) {
      return evidenceUnavailable(unavailableReason(err, 'evidence'), now());
    }
  }

  destroy(): void {
    this.users.destroy();
  }
}
