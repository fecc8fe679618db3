/**
 * Restore a Google Cloud service account from its backup (DESIGN §2d, §4.8), undoing only what
 * dormant did (the restore's `changes`): undelete the account by unique id if dormant deleted it
 * (IAM allows that for 30 days), enable it if dormant disabled it, re-enable the keys dormant
 * disabled. Any other difference from the backup (a key someone disabled or deleted since, an
 * account someone disabled) is left alone and reported. A deleted key cannot come back, and the
 * report says so, naming each one.
 */
import { UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { RestoreOptions, StepRunner } from '../provider.js';
import { readCloudBackup } from './cloud-backup.js';
import { accountResource, getServiceAccount, listUserManagedKeys } from './cloud-collect.js';
import { keyIdOf } from './cloud-identity.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure, googleMessage, googleStatus } from './google-errors.js';

/** How long IAM keeps a deleted service account undeletable. */
export const UNDELETE_DAYS = 30;

type Changes = NonNullable<RestoreOptions['changes']>;

export async function restoreServiceAccount(
  ctx: GoogleContext,
  envelope: BackupEnvelope<unknown>,
  steps: StepRunner,
  changes?: Changes,
): Promise<RestoreReport> {
  const backup = readCloudBackup(envelope);
  const { serviceAccount: saved, keys: savedKeys } = backup.data;
  if (saved.projectId !== backup.account) {
    throw new UsageError(
      `the backup of ${saved.email} names project ${backup.account} but holds an account of project ${saved.projectId}; it is not restored`,
    );
  }
  const id = saved.uniqueId;
  const label = `service account ${saved.email} (${id})`;
  const name = accountResource(saved.projectId, id);
  const iam = ctx.apis.iam().projects.serviceAccounts;
  const report: RestoreReport = { restored: [], cannotRestore: [], warnings: [] };
  // Without a record of what dormant did (an old caller), fall back to what the backup shows.
  const did = (action: string, keyId: string | null = null) =>
    changes === undefined || changes.some((c) => c.action === action && (keyId === null || c.credentialId === keyId));
  try {
    let live = await getServiceAccount(ctx, saved.projectId, id);
    if (!live) {
      if (changes !== undefined && !did('delete-user')) {
        report.warnings.push(
          `${label} was deleted, but not by dormant; it is undeleted because a restore was asked for`,
        );
      }
      const refusal = await steps.step('undelete-service-account', async (): Promise<string | null> => {
        try {
          await iam.undelete({ name, requestBody: {} });
          return null;
        } catch (err) {
          const status = googleStatus(err);
          // 404: purged (deleted more than 30 days ago); 400: not deleted after all (a retried
          // undelete that went through), or its email belongs to a newer account.
          if (status === 404 || status === 400) return `${status} ${googleMessage(err)}`;
          throw err;
        }
      });
      live = await getServiceAccount(ctx, saved.projectId, id);
      if (refusal !== null && !live) {
        report.cannotRestore.push(
          `${label} cannot be undeleted (${refusal}): IAM keeps a deleted service account for ${UNDELETE_DAYS} days only, and an account whose email was taken by a new one stays deleted. Create a new service account from the backup by hand (it gets a new unique id; role bindings and keys must be granted and created again).`,
        );
        return report;
      }
      if (!live) {
        report.cannotRestore.push(`${label} was undeleted but cannot be read back yet; run restore again in a minute`);
        return report;
      }
      report.restored.push(
        `${label} undeleted (same unique id, within IAM's ${UNDELETE_DAYS}-day window); its role bindings come back unless they were removed meanwhile`,
      );
    }
    if (live.disabled === true) {
      // dormant never plans a disabled account: one it disabled was enabled before.
      const dormantDisabled = changes !== undefined ? did('disable-user') || did('delete-user') : !saved.disabled;
      if (dormantDisabled) {
        await steps.step('enable-service-account', () => iam.enable({ name, requestBody: {} }));
        report.restored.push(`${label} enabled again`);
      } else {
        report.warnings.push(`${label} is disabled, but not by dormant; it is left disabled`);
      }
    }
    const liveKeys = (await listUserManagedKeys(ctx, name)) ?? [];
    const byId = new Map(liveKeys.map((k) => [keyIdOf(k.name), k]));
    const deleted: string[] = [];
    for (const key of savedKeys) {
      const now = byId.get(key.keyId);
      if (!now) {
        if (did('delete-key', key.keyId) || did('delete-user')) deleted.push(key.keyId);
        else
          report.warnings.push(`key ${key.keyId} of ${saved.email} was deleted since the backup, but not by dormant`);
        continue;
      }
      if (now.disabled === true) {
        const dormantDisabled = changes !== undefined ? did('deactivate-key', key.keyId) : !key.disabled;
        if (dormantDisabled) {
          await steps.step(`enable-key:${key.keyId}`, () =>
            iam.keys.enable({ name: `${name}/keys/${key.keyId}`, requestBody: {} }),
          );
          report.restored.push(`key ${key.keyId} of ${saved.email} enabled again`);
        } else {
          report.warnings.push(
            `key ${key.keyId} of ${saved.email} is disabled, but not by dormant; it is left disabled`,
          );
        }
      }
    }
    if (deleted.length > 0) {
      report.cannotRestore.push(
        `key${deleted.length > 1 ? 's' : ''} ${deleted.join(', ')} of ${saved.email} ${deleted.length > 1 ? 'were' : 'was'} deleted: a deleted service account key cannot come back (Google keeps no copy of its private key); create a new key and give it to whatever used the old one`,
      );
    }
    return report;
  } catch (err) {
    throw googleFailure(err, { what: `restoring ${label}`, fix: 'restore again' });
  }
}
