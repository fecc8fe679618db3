/**
 * Restore a user from a backup (DESIGN §4.8): by backup id, or by user name (its latest
 * backup). Every step is journaled like an apply, and what cannot come back is said plainly.
 */
import type { RestoreReport } from '../model/backup.js';
import { UsageError } from '../errors.js';
import type { RemediationProvider, RestoreOptions, StepRunner } from '../providers/provider.js';
import { type StoredBackup, backupsForUser, getBackup } from '../store/backups.js';
import { writeJournal } from '../store/journal.js';
import { type Store, newId } from '../store/store.js';

export interface RestoreRun {
  backup: StoredBackup;
  report: RestoreReport;
}

export async function findBackup(store: Store, target: string): Promise<StoredBackup> {
  const byId = target.startsWith('bk-') ? await getBackup(store.db, target) : null;
  if (byId) return byId;
  const forUser = await backupsForUser(store.db, target);
  // The newest retirement, and in it the earliest backup: the state before dormant touched the user.
  const latest = forUser[0];
  if (!latest) {
    throw new UsageError(`no backup found for '${target}'; 'dormant history' lists what was changed and backed up`);
  }
  const samePlan = forUser.filter((b) => b.planId !== null && b.planId === latest.planId);
  return samePlan.at(-1) ?? latest;
}

export async function restore(
  store: Store,
  provider: RemediationProvider,
  target: string,
  options: RestoreOptions & { by: string },
): Promise<RestoreRun> {
  const backup = await findBackup(store, target);
  const runId = newId('run');
  const planId = 'restore';
  const itemId = backup.id;
  const warnings: string[] = [];
  const steps: StepRunner = {
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      await writeJournal(store.db, { planId, itemId, runId, step: name, phase: 'intent' });
      try {
        const out = await fn();
        await writeJournal(store.db, { planId, itemId, runId, step: name, phase: 'outcome', status: 'ok' });
        return out;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await writeJournal(store.db, {
          planId,
          itemId,
          runId,
          step: name,
          phase: 'outcome',
          status: 'error',
          detail: { reason },
        });
        throw err;
      }
    },
    warn(message: string) {
      warnings.push(message);
    },
  };
  await store.audit(store.db, {
    actor: options.by,
    kind: 'restore.started',
    detail: { backupId: backup.id, user: backup.identityName },
  });
  const report = await provider.restore(backup.data, options, steps);
  report.warnings.push(...warnings);
  await store.audit(store.db, {
    actor: options.by,
    kind: 'restore.done',
    detail: {
      backupId: backup.id,
      user: backup.identityName,
      restored: report.restored,
      cannotRestore: report.cannotRestore,
    },
  });
  return { backup, report };
}
