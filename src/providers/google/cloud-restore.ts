/**
 * Restore a Google Cloud service account from its backup (DESIGN §2d, §4.8): undelete it by
 * unique id if it was deleted (IAM allows that for 30 days), enable it if it was enabled, and
 * re-enable the keys that were enabled and are disabled now. A deleted key cannot come back, and
 * the report says so, naming each one.
 */
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { StepRunner } from '../provider.js';
import { readCloudBackup } from './cloud-backup.js';
import { getServiceAccount, listUserManagedKeys } from './cloud-collect.js';
import { keyIdOf } from './cloud-identity.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure, googleMessage, googleStatus } from './google-errors.js';

/** How long IAM keeps a deleted service account undeletable. */
export const UNDELETE_DAYS = 30;

export async function restoreServiceAccount(
  ctx: GoogleContext,
  envelope: BackupEnvelope<unknown>,
  steps: StepRunner,
): Promise<RestoreReport> {
  const backup = readCloudBackup(envelope);
  const { serviceAccount: saved, keys: savedKeys } = backup.data;
  const id = saved.uniqueId;
  const label = `service account ${saved.email} (${id})`;
  const name = `projects/-/serviceAccounts/${id}`;
  const iam = ctx.apis.iam().projects.serviceAccounts;
  const report: RestoreReport = { restored: [], cannotRestore: [], warnings: [] };
  try {
    let live = await getServiceAccount(ctx, id);
    if (!live) {
      const refusal = await steps.step('undelete-service-account', async (): Promise<string | null> => {
        try {
          await iam.undelete({ name, requestBody: {} });
          return null;
        } catch (err) {
          const status = googleStatus(err);
          // 404: purged (deleted more than 30 days ago); 400: its email belongs to a newer account.
          if (status === 404 || status === 400) return `${status} ${googleMessage(err)}`;
          throw err;
        }
      });
      if (refusal !== null) {
        report.cannotRestore.push(
          `${label} cannot be undeleted (${refusal}): IAM keeps a deleted service account for ${UNDELETE_DAYS} days only, and an account whose email was taken by a new one stays deleted. Create a new service account from the backup by hand (it gets a new unique id; role bindings and keys must be granted and created again).`,
        );
        return report;
      }
      live = await getServiceAccount(ctx, id);
      if (!live) {
        report.cannotRestore.push(`${label} was undeleted but cannot be read back yet; run restore again in a minute`);
        return report;
      }
      report.restored.push(
        `${label} undeleted (same unique id, within IAM's ${UNDELETE_DAYS}-day window); its role bindings come back unless they were removed meanwhile`,
      );
    }
    if (!saved.disabled && live.disabled === true) {
      await steps.step('enable-service-account', () => iam.enable({ name, requestBody: {} }));
      report.restored.push(`${label} enabled again`);
    }
    const liveKeys = (await listUserManagedKeys(ctx, name)) ?? [];
    const byId = new Map(liveKeys.map((k) => [keyIdOf(k.name), k]));
    const deleted: string[] = [];
    for (const key of savedKeys) {
      const now = byId.get(key.keyId);
      if (!now) {
        deleted.push(key.keyId);
        continue;
      }
      if (!key.disabled && now.disabled === true) {
        await steps.step(`enable-key:${key.keyId}`, () =>
          iam.keys.enable({ name: `${name}/keys/${key.keyId}`, requestBody: {} }),
        );
        report.restored.push(`key ${key.keyId} of ${saved.email} enabled again`);
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
