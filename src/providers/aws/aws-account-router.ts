/**
 * Remediation across the accounts of an Organization (DESIGN §8): each call goes to the
 * account its plan item or backup names, through that account's assumed role; the caller's own
 * account uses the caller's credentials. Without --org every call stays in the caller's
 * account, where a foreign account's identity is refused with a one-line error.
 */
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Caller, Identity } from '../../model/identity.js';
import type { ActionTarget, IdentityRef, RemediationProvider, RestoreOptions, StepRunner } from '../provider.js';
import { unavailableReason } from './aws-errors.js';
import { evidenceUnavailable } from './aws-evidence-result.js';
import type { AwsIamRemediation } from './aws-iam-remediation.js';

export class AwsAccountRouter implements RemediationProvider {
  readonly provider = 'aws' as const;
  private readonly members = new Map<string, AwsIamRemediation>();
  private caller: Promise<Caller> | null = null;

  /** `openMember`: the remediation of a member account (null when --org is off). */
  constructor(
    readonly home: AwsIamRemediation,
    private readonly openMember: ((account: string) => AwsIamRemediation) | null,
  ) {}

  private async to(account: string): Promise<AwsIamRemediation> {
    if (!this.openMember || !account) return this.home;
    this.caller ??= this.home.users.caller();
    const caller = await this.caller.catch((err: unknown) => {
      this.caller = null;
      throw err;
    });
    if (account === caller.account) return this.home;
    let member = this.members.get(account);
    if (!member) {
      member = this.openMember(account);
      this.members.set(account, member);
    }
    return member;
  }

  async reread(target: IdentityRef): Promise<Identity | null> {
    return (await this.to(target.account)).reread(target);
  }

  async readMarks(target: IdentityRef): Promise<Identity | null> {
    return (await this.to(target.account)).readMarks(target);
  }

  /** A reading of state: the same for every account. */
  isDisabled(live: Identity, doneSteps?: ReadonlySet<string>): boolean {
    return this.home.isDisabled(live, doneSteps);
  }

  async backup(target: IdentityRef, live?: Identity | null): Promise<BackupEnvelope> {
    return (await this.to(target.account)).backup(target, live);
  }

  /** Schema validation only: no account is involved. */
  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope {
    return this.home.readBackup(envelope);
  }

  async perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    return (await this.to(target.identity.account)).perform(action, target, steps);
  }

  async restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    return (await this.to(backup.account)).restore(backup, options, steps);
  }

  /** Never throws (the contract): an account that cannot be entered makes the evidence unavailable. */
  async evidence(target: IdentityRef): Promise<Evidence> {
    let remediation: AwsIamRemediation;
    try {
      remediation = await this.to(target.account);
    } catch (err) {
      return evidenceUnavailable(unavailableReason(err, 'evidence'), new Date());
    }
    return remediation.evidence(target);
  }

  /** Each account's calls, for --verbose. */
  memberCalls(): Map<string, AwsIamRemediation> {
    return this.members;
  }

  destroy(): void {
    this.home.destroy();
    for (const m of this.members.values()) {
      m.destroy();
      m.aws.destroy();
    }
  }
}
