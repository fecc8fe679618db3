/**
 * Restore an identity from a backup (DESIGN §4.8): by backup id, or by name or stable id (its
 * latest retirement). The backup's provider validates it first; every step is journaled like
 * an apply, and what cannot come back is said plainly.
 */
import type { RestoreReport } from '../model/backup.js';
import { GuardError, UsageError } from '../errors.js';
import type { RemediationProvider, RestoreOptions } from '../providers/provider.js';
import { type StoredBackup, backupsForUser, getBackup } from '../store/backups.js';
import { lastRestoreOf } from '../store/audit.js';
import { closeOpenItemsFor, doneActionsFor } from '../store/plans.js';
import { type Store, newId } from '../store/store.js';
import { journaledSteps } from './steps.js';

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
  providers: RemediationProvider | RemediationProvider[],
  target: string,
  options: RestoreOptions & { by: string },
): Promise<RestoreRun> {
  const backup = await findBackup(store, target);
  const provider = (Array.isArray(providers) ? providers : [providers]).find(
    (p) => p.provider === backup.envelope.provider,
  );
  if (!provider) {
    throw new UsageError(
      `backup ${backup.id} is of a ${backup.envelope.provider} identity, and that provider is not enabled; pass --provider ${backup.envelope.provider} or enable it in the config`,
    );
  }
  // Validate before anything changes: a backup that does not fit its schema restores nothing.
  const envelope = provider.readBackup(backup.envelope);
  const warnings: string[] = [];
  const steps = journaledSteps(store, { planId: 'restore', itemId: backup.id, runId: newId('run') }, (m) =>
    warnings.push(m),
  );
  // The same lock as apply's for this identity: a restore never races an item acting on it.
  const key = `identity:${backup.envelope.provider}|${backup.identityId}`;
  const locked = await store.withLock(key, 60_000, async (lease) => {
    // A restore that stalled past the lock's lifetime stops before its next step: an apply may hold it now.
    const guarded: typeof steps = {
      ...steps,
      step: (name, fn) => {
        if (lease.lost()) {
          throw new GuardError(
            `lost the lock on ${backup.identityName} to an apply or another restore; stopping before ${name}: restore again`,
          );
        }
        return steps.step(name, fn);
      },
    };
    await store.audit(store.db, {
      actor: options.by,
      kind: 'restore.started',
      detail: { backupId: backup.id, user: backup.identityName, provider: backup.provider },
    });
    const who = { provider: backup.envelope.provider, identityId: backup.identityId };
    const since = await lastRestoreOf(store.db, { ...who, name: backup.identityName });
    const changes = (await doneActionsFor(store.db, who, since)).map((c) => ({
      action: c.action,
      credentialId: c.credentialId,
      steps: c.steps,
    }));
    const report = await provider.restore(envelope, { ...options, changes }, guarded);
    await steps.flush();
    report.warnings.push(...warnings);
    await store.transaction(async (trx) => {
      // A restored identity starts over: items still open for it (a delete waiting after the
      // disable, a failed retry) must not act on it without a new plan and review.
      const closed = await closeOpenItemsFor(
        trx,
        { provider: backup.envelope.provider, identityId: backup.identityId },
        `restored by ${options.by}: plan again if it is still unused`,
      );
      if (closed.length > 0)
        report.warnings.push(`closed ${closed.length} open plan item(s) for ${backup.identityName}`);
      await store.audit(trx, {
        actor: options.by,
        kind: 'restore.done',
        detail: {
          backupId: backup.id,
          user: backup.identityName,
          provider: backup.provider,
          identityId: backup.identityId,
          restored: report.restored,
          cannotRestore: report.cannotRestore,
          closedItems: closed,
        },
      });
    });
    return report;
  });
  if ('held' in locked) {
    throw new GuardError(
      `an apply or another restore is acting on ${backup.identityName} (${locked.held}); wait for it to finish and restore again`,
    );
  }
  const report = locked.value;
  return { backup, report };
}
