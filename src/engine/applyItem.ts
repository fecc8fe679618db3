/**
 * One item of an apply (DESIGN §4): journal the re-check, skip with the reason when the live
 * identity no longer warrants it, commit a backup before the first change, run the provider's
 * journaled steps, and record the outcome. Resumes an item a crash interrupted.
 */
import { deleteDelayDays } from './plan.js';
import type { Config } from '../config/config.js';
import type { Plan, PlanItem } from '../model/plan.js';
import { DAY_MS } from '../model/time.js';
import type { RemediationProvider } from '../providers/provider.js';
import { backupForItem, saveBackup } from '../store/backups.js';
import { journalFor, writeJournal } from '../store/journal.js';
import { delayDependents, setItemStatus } from '../store/plans.js';
import type { Store } from '../store/store.js';
import { recheck, refOf } from './recheck.js';
import { journaledSteps } from './steps.js';

export interface ItemRun {
  store: Store;
  provider: RemediationProvider;
  plan: Plan;
  config: Config;
  runId: string;
  by: string;
  clock: () => Date;
  say: (line: string) => void;
}

export type ItemOutcome = { status: 'done' } | { status: 'skipped'; reason: string };

export async function applyItem(run: ItemRun, item: PlanItem): Promise<ItemOutcome> {
  const { store, provider, plan, runId } = run;
  const at = { planId: plan.id, itemId: item.id, runId };
  const history = await journalFor(store.db, { itemId: item.id });
  // A run that began changing the item and never recorded its outcome was cut short (a crash).
  const finished = new Set(history.filter((e) => e.step === 'item').map((e) => e.runId));
  const resuming = history.some((e) => e.phase === 'intent' && e.step !== 'recheck' && !finished.has(e.runId));
  // Providers name their delete steps `delete-…` (delete-user, delete-service-account, delete-key:ID).
  const deleteStarted =
    item.action === 'delete-user' && history.some((e) => e.phase === 'intent' && e.step.startsWith('delete-'));
  const keyDeleteStarted =
    item.action === 'delete-key' && history.some((e) => e.phase === 'intent' && e.step.startsWith('delete-key'));

  await writeJournal(store.db, { ...at, step: 'recheck', phase: 'intent' });
  const doneSteps = new Set(history.filter((e) => e.phase === 'outcome' && e.status === 'ok').map((e) => e.step));
  const verdict = await recheck(item, plan, provider, run.config, run.clock(), {
    resuming,
    expectDisabled: true,
    doneSteps,
  });
  // A delete that started and whose identity is now gone finished before the crash.
  const finishedDelete =
    (deleteStarted && verdict.live === null) ||
    (keyDeleteStarted && verdict.live !== null && !verdict.live.credentials.some((c) => c.id === item.credentialId));
  if (verdict.skip && !finishedDelete) {
    await skipItem(run, item, verdict.skip);
    return { status: 'skipped', reason: verdict.skip };
  }
  await writeJournal(store.db, { ...at, step: 'recheck', phase: 'outcome', status: 'ok' });

  // Back up before the first change, and commit the backup before making it.
  if (item.action !== 'notify' && verdict.live !== null && !(await backupForItem(store.db, item.id))) {
    const backup = await provider.backup(refOf(item), verdict.live);
    await store.transaction(async (trx) => {
      const id = await saveBackup(trx, { backup, planId: plan.id, itemId: item.id });
      await store.audit(trx, {
        actor: run.by,
        kind: 'backup.saved',
        planId: plan.id,
        itemId: item.id,
        detail: { backupId: id, user: item.identityName, provider: item.provider },
      });
      await writeJournal(trx, { ...at, step: 'backup', phase: 'outcome', status: 'ok', detail: { backupId: id } });
    });
  }

  const steps = journaledSteps(store, at, (message) => run.say(`warning: ${item.identityName}: ${message}`));
  if (!finishedDelete) {
    await provider.perform(item.action, { identity: refOf(item), credentialId: item.credentialId }, steps);
  }
  // Warnings are journaled before the item's outcome, so the journal reads in order.
  await steps.flush();
  const doneAt = run.clock();
  await recordOutcome(
    run,
    item,
    { step: 'item', status: 'done', reason: null, detail: { action: item.action } },
    async (trx) => {
      // Deletion waits deleteAfterDays in the disabled state, counted from when the disable is done.
      if (item.action === 'disable-user' || item.action === 'deactivate-key') {
        const after = deleteDelayDays(run.config.remediation.deleteAfterDays, item.ruleIds) ?? 0;
        await delayDependents(trx, item.id, new Date(doneAt.getTime() + after * DAY_MS).toISOString());
      }
    },
  );
  return { status: 'done' };
}

/** Record an item that failed (the cloud refused or broke): the rest of the run goes on. */
export async function failItem(run: ItemRun, item: PlanItem, reason: string): Promise<void> {
  await recordOutcome(run, item, { step: 'item', status: 'failed', reason, detail: { reason } });
}

/** Record an item skipped (the re-check said no, or what it waits for will never be done). */
export async function skipItem(
  run: Pick<ItemRun, 'store' | 'plan' | 'runId' | 'by'>,
  item: PlanItem,
  reason: string,
  step = 'recheck',
): Promise<void> {
  await recordOutcome(run, item, { step, status: 'skipped', reason, detail: { reason } });
}

/**
 * An item's outcome in one transaction: the journal's outcome row, the item's status and the
 * audit event (`item.<status>`), plus whatever else must commit with them.
 */
async function recordOutcome(
  run: Pick<ItemRun, 'store' | 'plan' | 'runId' | 'by'>,
  item: PlanItem,
  outcome: {
    step: string;
    status: 'done' | 'failed' | 'skipped';
    reason: string | null;
    detail: Record<string, unknown>;
  },
  also?: (trx: Parameters<Parameters<Store['transaction']>[0]>[0]) => Promise<void>,
): Promise<void> {
  const { store, plan } = run;
  await store.transaction(async (trx) => {
    await writeJournal(trx, {
      planId: plan.id,
      itemId: item.id,
      runId: run.runId,
      step: outcome.step,
      phase: 'outcome',
      status: outcome.status,
      ...(outcome.status === 'done' ? {} : { detail: outcome.detail }),
    });
    await setItemStatus(trx, item.id, outcome.status, outcome.reason);
    await store.audit(trx, {
      actor: run.by,
      kind: `item.${outcome.status}`,
      planId: plan.id,
      itemId: item.id,
      detail: outcome.detail,
    });
    if (also) await also(trx);
  });
}
