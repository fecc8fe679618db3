/**
 * The RemediationProvider for Google Cloud service accounts (DESIGN §2d, §4): re-reads an
 * account by unique id with its keys and last authentications, backs it up, disables or deletes
 * it or one of its user-managed keys as journaled steps, restores it, and gathers its evidence.
 * Keys Google manages are never touched.
 */
import { CloudError, UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Identity } from '../../model/identity.js';
import type { ActionTarget, IdentityRef, RemediationProvider, RestoreOptions, StepRunner } from '../provider.js';
import { readCloudBackup, takeCloudBackup } from './cloud-backup.js';
import { accountResource, readLiveAccount } from './cloud-collect.js';
import { cloudAuthEvidence } from './cloud-evidence.js';
import { serviceAccountKeySchema, serviceAccountIdentity, type CloudMarks } from './cloud-identity.js';
import { parseCloudPage } from './cloud-projects.js';
import { restoreServiceAccount } from './cloud-restore.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure, googleStatus } from './google-errors.js';

export class CloudRemediation implements RemediationProvider {
  readonly provider = 'google' as const;

  constructor(
    private readonly ctx: GoogleContext,
    private readonly marks: CloudMarks = {},
  ) {}

  private fail(err: unknown, what: string, fix = 'apply again') {
    return googleFailure(err, { what, fix, serviceAccount: this.marks.caller ?? null });
  }

  /** Found by unique id: an email can belong to a newer account after a delete. */
  async reread(target: IdentityRef): Promise<Identity | null> {
    try {
      const live = await readLiveAccount(this.ctx, target.account, target.id);
      if (!live) return null;
      if (live.problem) this.ctx.progress?.(`Google Cloud: last use of ${live.sa.email} unknown: ${live.problem}`);
      return serviceAccountIdentity(live.sa, live.keys, live.index, this.marks, this.ctx.clock());
    } catch (err) {
      throw this.fail(err, `re-reading service account ${target.name}`);
    }
  }

  isDisabled(live: Identity): boolean {
    return live.enabled === false;
  }

  async backup(target: IdentityRef): Promise<BackupEnvelope> {
    try {
      return await takeCloudBackup(this.ctx, target, this.ctx.clock());
    } catch (err) {
      throw this.fail(err, `backing up service account ${target.name}`);
    }
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope {
    return readCloudBackup(envelope);
  }

  /** Whether the key exists; refuses a key Google manages, before any change. */
  private async userKeyExists(name: string, keyId: string, owner: string): Promise<boolean> {
    let data: unknown;
    try {
      data = (await this.ctx.apis.iam().projects.serviceAccounts.keys.get({ name })).data;
    } catch (err) {
      if (googleStatus(err) === 404) return false;
      throw this.fail(err, `reading key ${keyId} of ${owner}`);
    }
    const key = parseCloudPage(serviceAccountKeySchema, data, `reading key ${keyId} of ${owner}`);
    if (key.keyType !== 'USER_MANAGED') {
      throw new UsageError(
        `key ${keyId} of ${owner} is managed by Google (${key.keyType}); dormant never disables or deletes such keys`,
      );
    }
    return true;
  }

  async perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    const owner = target.identity.name;
    const account = accountResource(target.identity.account, target.identity.id);
    const iam = this.ctx.apis.iam().projects.serviceAccounts;
    const send = async (what: string, fn: () => Promise<unknown>, goneIsDone: boolean) => {
      try {
        await fn();
      } catch (err) {
        // A delete of something already gone (an earlier, interrupted run) is done.
        if (goneIsDone && googleStatus(err) === 404) return;
        throw this.fail(err, what);
      }
    };
    const keyId = () => {
      if (!target.credentialId)
        throw new UsageError(`${action} needs a key id, and the plan item for ${owner} names none`);
      return target.credentialId;
    };
    switch (action) {
      case 'disable-user':
        await steps.step('disable-service-account', () =>
          send(`disabling service account ${owner}`, () => iam.disable({ name: account, requestBody: {} }), false),
        );
        return;
      case 'delete-user':
        await steps.step('delete-service-account', () =>
          send(`deleting service account ${owner}`, () => iam.delete({ name: account }), true),
        );
        return;
      case 'deactivate-key': {
        const id = keyId();
        const name = `${account}/keys/${id}`;
        if (!(await this.userKeyExists(name, id, owner))) {
          throw new CloudError(`key ${id} of ${owner} no longer exists; there is nothing to disable`, 'NotFound');
        }
        await steps.step(`disable-key:${id}`, () =>
          send(`disabling key ${id} of ${owner}`, () => iam.keys.disable({ name, requestBody: {} }), false),
        );
        return;
      }
      case 'delete-key': {
        const id = keyId();
        const name = `${account}/keys/${id}`;
        await this.userKeyExists(name, id, owner);
        await steps.step(`delete-key:${id}`, () =>
          send(`deleting key ${id} of ${owner}`, () => iam.keys.delete({ name }), true),
        );
        return;
      }
      case 'notify':
        return;
      default:
        throw new UsageError(
          `${action} is not an action on Google Cloud service accounts (disable-user, delete-user, deactivate-key, delete-key or notify)`,
        );
    }
  }

  async restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    return restoreServiceAccount(this.ctx, backup, steps, options.changes);
  }

  async evidence(target: IdentityRef): Promise<Evidence> {
    return [await cloudAuthEvidence(this.ctx, target, this.ctx.clock())];
  }
}
