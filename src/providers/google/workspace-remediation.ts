/**
 * Remediation of Workspace users (DESIGN §2d, §4): re-read by id, back up, suspend (the
 * disable), delete (undeletable for 20 days), restore, and the login audit as evidence. The
 * Google RemediationProvider (google-remediation.ts) hands user identities to this class.
 */
import { UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Identity } from '../../model/identity.js';
import type { ActionTarget, IdentityRef, RestoreOptions, StepRunner } from '../provider.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure, googleStatus } from './google-errors.js';
import { workspaceMapperFor } from './workspace-collect.js';
import { readWorkspaceBackup, readWorkspaceUser, takeWorkspaceBackup } from './workspace-backup.js';
import { workspaceLoginEvidence } from './workspace-evidence.js';
import { restoreWorkspaceUser } from './workspace-restore.js';

export class WorkspaceRemediation {
  /** What the last re-read saw suspended, by identity (archived users are disabled but not suspended). */
  private readonly suspended = new WeakMap<Identity, boolean>();

  constructor(private readonly ctx: GoogleContext) {}

  private failure(err: unknown, what: string, fix: string) {
    return googleFailure(err, {
      what,
      fix,
      subject: this.ctx.google.subject,
      serviceAccount: this.ctx.who?.serviceAccount ?? null,
      clientId: this.ctx.who?.clientId ?? null,
    });
  }

  /** An identity of another customer must not be acted on with this config (checked before any call). */
  private checkCustomer(account: string, name: string): void {
    const customer = this.ctx.google.customer;
    if (customer !== 'my_customer' && account !== customer) {
      throw new UsageError(
        `${name} belongs to Google Workspace customer ${account}, but google.customer is ${customer}; run with that customer's config`,
      );
    }
  }

  /** Found by the immutable id, so a user renamed since the plan is still the same user. Deleted or gone: null. */
  async reread(target: IdentityRef): Promise<Identity | null> {
    this.checkCustomer(target.account, target.name);
    let user;
    try {
      user = await readWorkspaceUser(this.ctx, target.id);
    } catch (err) {
      throw this.failure(err, `re-reading Workspace user ${target.name}`, 'apply again');
    }
    if (!user) return null;
    const identity = workspaceMapperFor(this.ctx)(user);
    if (identity.account !== target.account) {
      // `my_customer` reaches the subject's own customer: the plan was made for another one.
      throw new UsageError(
        `${target.name} belongs to Google Workspace customer ${target.account}, but google.subject administers ${identity.account}; run with that customer's config`,
      );
    }
    this.suspended.set(identity, user.suspended === true);
    return identity;
  }

  /** The state a disable leaves: suspended (an archived user is disabled, but not by dormant). */
  isDisabled(live: Identity): boolean {
    return this.suspended.get(live) ?? live.enabled === false;
  }

  async backup(target: IdentityRef): Promise<BackupEnvelope> {
    this.checkCustomer(target.account, target.name);
    try {
      return await takeWorkspaceBackup(this.ctx, target, this.ctx.clock());
    } catch (err) {
      throw this.failure(err, `backing up Workspace user ${target.name}`, 'apply again');
    }
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope {
    return readWorkspaceBackup(envelope);
  }

  async perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    const ref = target.identity;
    this.checkCustomer(ref.account, ref.name);
    const fail = (err: unknown) => this.failure(err, `${action} of Workspace user ${ref.name}`, 'apply again');
    switch (action) {
      case 'disable-user':
        // Suspending blocks sign-in and ends the user's sessions; the password stays as it was.
        await steps.step('suspend-user', async () => {
          try {
            await this.ctx.apis.directory('write').users.patch({ userKey: ref.id, requestBody: { suspended: true } });
          } catch (err) {
            throw fail(err);
          }
        });
        return;
      case 'delete-user':
        await steps.step('delete-user', async () => {
          try {
            await this.ctx.apis.directory('write').users.delete({ userKey: ref.id });
          } catch (err) {
            // Already deleted (an earlier, interrupted run): done.
            if (googleStatus(err) === 404) return;
            throw fail(err);
          }
        });
        return;
      case 'notify':
        return;
      default:
        throw new UsageError(`${action} is not an action on Workspace users (disable-user, delete-user or notify)`);
    }
  }

  async restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    // Before any call: a backup of another customer must not be replayed into this one.
    this.checkCustomer(backup.account, `the backup of ${backup.identityName}`);
    return restoreWorkspaceUser(this.ctx, backup, options, steps);
  }

  async evidence(target: IdentityRef): Promise<Evidence> {
    return [await workspaceLoginEvidence(this.ctx, target, this.ctx.clock())];
  }
}
