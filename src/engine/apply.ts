/**
 * Apply a plan's approved items (DESIGN §4): guards first, a lock against a second apply,
 * then per item a live re-check, a committed backup, and journaled idempotent steps.
 * A crash at any point is resumed by running apply again.
 */
import pLimit from 'p-limit';
import type { Config } from '../config/config.js';
import { GuardError, UsageError } from '../errors.js';
import type { Identity } from '../model/identity.js';
import type { Plan, PlanItem } from '../model/plan.js';
import { DAY_MS } from '../model/time.js';
import type { RemediationProvider, StepRunner } from '../providers/provider.js';
import { backupForItem, saveBackup } from '../store/backups.js';
import { journalFor, writeJournal } from '../store/journal.js';
import { getItem, getPlan, recordDecision, setItemStatus } from '../store/plans.js';
import { type Store, StoreError, newId } from '../store/store.js';
import { Exemptions } from './exemptions.js';
import { evaluate } from './scan.js';

export interface ApplyOptions {
  planId: string;
  config: Config;
  dryRun?: boolean;
  /** Cap for this run; the config's maxActionsPerRun when not given. */
  maxActions?: number;
  /** The operator; with `yes`, pending items are approved in their name first. */
  by: string;
  yes?: boolean;
  now?: () => Date;
  /** A line per event, for the CLI. */
  onEvent?: (line: string) => void;
  /** Stop between items (graceful shutdown): the current item finishes, the rest stay approved. */
  signal?: AbortSignal;
}

export interface ApplyReport {
  planId: string;
  runId: string;
  dryRun: boolean;
  done: PlanItem[];
  skipped: { item: PlanItem; reason: string }[];
  failed: { item: PlanItem; reason: string }[];
  notDue: { item: PlanItem; reason: string }[];
  /** With --dry-run: what would be done. */
  wouldDo: PlanItem[];
}

const LOCK_TTL_MS = 60_000;
const USER_RULES = new Set(['DORMANT-AWS-001', 'DORMANT-AWS-003']);

/** Which items can run now, and why the others cannot. */
export function dueItems(plan: Plan, now: Date): { due: PlanItem[]; notDue: { item: PlanItem; reason: string }[] } {
  const byId = new Map(plan.items.map((i) => [i.id, i]));
  const due: PlanItem[] = [];
  const notDue: { item: PlanItem; reason: string }[] = [];
  const runnable = (i: PlanItem) => i.status === 'approved' || i.status === 'failed';
  for (const item of plan.items) {
    if (!runnable(item)) continue;
    const dep = item.dependsOn ? byId.get(item.dependsOn) : undefined;
    // A dependency that runs earlier in the same run counts (deleteAfterDays: 0).
    const depDueNow =
      dep !== undefined &&
      runnable(dep) &&
      Date.parse(dep.notBefore) <= now.getTime() &&
      Date.parse(item.notBefore) <= now.getTime();
    if (dep && dep.status !== 'done' && !depDueNow) {
      notDue.push({ item, reason: `waits for item ${dep.seq} (${dep.action}), which is ${dep.status}` });
    } else if (Date.parse(item.notBefore) > now.getTime()) {
      notDue.push({ item, reason: `not before ${item.notBefore}` });
    } else {
      due.push(item);
    }
  }
  // Disable before delete, then plan order.
  const rank = (i: PlanItem) => (i.action === 'delete-user' ? 1 : 0);
  due.sort((a, b) => rank(a) - rank(b) || a.seq - b.seq);
  return { due, notDue };
}

/** Activity after the plan was made, as a sentence, or null. */
export function activitySince(identity: Identity, since: string): string | null {
  const t = Date.parse(since);
  if (identity.createdAt && Date.parse(identity.createdAt) > t)
    return `the user was re-created at ${identity.createdAt}`;
  if (identity.lastSignInAt && Date.parse(identity.lastSignInAt) > t) {
    return `signed in to the console at ${identity.lastSignInAt}`;
  }
  for (const c of identity.credentials) {
    const label = c.kind === 'password' ? 'console password' : `access key ${c.id ?? ''}`;
    if (c.lastUsedAt && Date.parse(c.lastUsedAt) > t) return `${label} used at ${c.lastUsedAt}`;
    if (c.createdAt && Date.parse(c.createdAt) > t) return `${label} created at ${c.createdAt}`;
  }
  return null;
}

/** Does the live identity still warrant the item's action? */
export function stillMatches(item: PlanItem, live: Identity, config: Config, now: Date): string | null {
  const [evaluated] = evaluate([live], config, now);
  const ruleIds = new Set((evaluated?.hits ?? []).map((h) => h.rule.id));
  switch (item.action) {
    case 'disable-user':
    case 'delete-user':
      return [...ruleIds].some((r) => USER_RULES.has(r)) ? null : 'the user is no longer inactive';
    case 'deactivate-key': {
      const key = live.credentials.find((c) => c.kind === 'access-key' && c.id === item.credentialId);
      if (!key) return `access key ${item.credentialId ?? ''} no longer exists`;
      if (key.status !== 'Active') return `access key ${item.credentialId ?? ''} is already inactive`;
      const hit = evaluated?.hits.some(
        (h) => h.rule.id === 'DORMANT-AWS-002' && h.hit.credential?.id === item.credentialId,
      );
      return hit ? null : `access key ${item.credentialId ?? ''} is no longer unused`;
    }
    case 'remove-password':
      return ruleIds.has('DORMANT-AWS-004') ? null : 'the console password is gone or no longer unused';
    case 'notify':
      return null;
  }
}

export async function apply(store: Store, provider: RemediationProvider, options: ApplyOptions): Promise<ApplyReport> {
  const clock = options.now ?? (() => new Date());
  const say = options.onEvent ?? (() => undefined);
  const runId = newId('run');
  const dryRun = Boolean(options.dryRun);
  const report: ApplyReport = {
    planId: options.planId,
    runId,
    dryRun,
    done: [],
    skipped: [],
    failed: [],
    notDue: [],
    wouldDo: [],
  };

  let plan = await getPlan(store.db, options.planId);
  if (!plan) throw new UsageError(`plan ${options.planId} not found; 'dormant history' lists the plans`);

  // The lock comes first: a second apply of the same plan must not even start.
  let lockOwner: string | null = null;
  const lockName = `apply:${plan.id}`;
  if (!dryRun) {
    const lock = await store.acquireLock(lockName, LOCK_TTL_MS);
    if ('heldBy' in lock) {
      throw new GuardError(`another apply of plan ${plan.id} is running (${lock.heldBy}); wait for it to finish`);
    }
    lockOwner = lock.owner;
    // Read the plan again under the lock: another apply may have finished items since we read it.
    plan = (await getPlan(store.db, plan.id)) ?? plan;
  }
  let lockLost = false;
  const heartbeat = lockOwner
    ? setInterval(
        () =>
          void store
            .renewLock(lockName, lockOwner!, LOCK_TTL_MS)
            .then((held) => {
              if (!held) lockLost = true;
            })
            .catch(() => undefined),
        LOCK_TTL_MS / 4,
      )
    : null;
  try {
    if (options.yes) {
      const pending = plan.items.filter((i) => i.status === 'pending');
      if (pending.length > 0 && !dryRun) {
        await store.transaction(async (trx) => {
          const at = clock().toISOString();
          for (const item of pending) {
            await setItemStatus(trx, item.id, 'approved', null, { by: options.by, at });
            await recordDecision(trx, {
              item,
              decision: 'approve',
              by: options.by,
              reason: 'apply --yes',
              channel: 'cli',
              snoozeUntil: null,
              at,
            });
            await store.audit(trx, {
              actor: options.by,
              kind: 'item.approved',
              planId: plan!.id,
              itemId: item.id,
              detail: { channel: 'apply --yes' },
            });
          }
        });
        plan = (await getPlan(store.db, plan.id))!;
      } else if (dryRun) {
        for (const item of pending) item.status = 'approved';
      }
    }

    const { due, notDue } = dueItems(plan, clock());
    report.notDue = notDue;
    await guard(plan, due, provider, options);

    for (const planned of due) {
      if (options.signal?.aborted) {
        say('stopping: the remaining items stay approved and run next time');
        break;
      }
      // Re-read the item: an earlier item of this run may have changed what it waits for.
      const item = (await getItem(store.db, planned.id)) ?? planned;
      // Only items still approved (or failed, to retry) run: never redo or overwrite a finished one.
      if (!dryRun && item.status !== 'approved' && item.status !== 'failed') continue;
      if (lockLost) throw new GuardError(`lost the lock on plan ${plan.id} to another apply; stopping`);
      const dep = item.dependsOn ? await getItem(store.db, item.dependsOn) : null;
      if (!dryRun && dep && dep.status !== 'done') {
        report.notDue.push({ item, reason: `waits for item ${dep.seq} (${dep.action}), which is ${dep.status}` });
        continue;
      }
      if (!dryRun && Date.parse(item.notBefore) > clock().getTime()) {
        report.notDue.push({ item, reason: `not before ${item.notBefore}` });
        continue;
      }
      if (dryRun) {
        // In a dry run the disable this delete depends on has not happened: don't expect it.
        const verdict = await recheck(item, plan, provider, options, clock(), false, dep?.status === 'done');
        if (verdict.skip) report.skipped.push({ item, reason: verdict.skip });
        else report.wouldDo.push(item);
        say(verdict.skip ? `would skip: ${item.sentence}: ${verdict.skip}` : `would: ${item.sentence}`);
        continue;
      }
      try {
        const outcome = await applyItem(store, provider, plan, item, options, runId, clock);
        if (outcome.status === 'done') {
          report.done.push(item);
          say(`done: ${item.sentence}`);
        } else {
          report.skipped.push({ item, reason: outcome.reason });
          say(`skipped: ${item.sentence}: ${outcome.reason}`);
        }
      } catch (err) {
        // The store itself failing means we can no longer journal: stop here.
        if (err instanceof StoreError || err instanceof GuardError) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        await store.transaction(async (trx) => {
          await writeJournal(trx, {
            planId: plan!.id,
            itemId: item.id,
            runId,
            step: 'item',
            phase: 'outcome',
            status: 'failed',
            detail: { reason },
          });
          await setItemStatus(trx, item.id, 'failed', reason);
          await store.audit(trx, {
            actor: options.by,
            kind: 'item.failed',
            planId: plan!.id,
            itemId: item.id,
            detail: { reason },
          });
        });
        report.failed.push({ item, reason });
        say(`failed: ${item.sentence}: ${reason}`);
      }
    }
    // Report what is still waiting as it stands after this run (a disable may have started a delay).
    if (!dryRun) {
      const after = await getPlan(store.db, plan.id);
      const handled = new Set(
        [...report.done, ...report.skipped.map((s) => s.item), ...report.failed.map((f) => f.item)].map((i) => i.id),
      );
      report.notDue = after ? dueItems(after, clock()).notDue.filter((n) => !handled.has(n.item.id)) : report.notDue;
    }
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    if (lockOwner) await store.releaseLock(lockName, lockOwner).catch(() => undefined);
  }
  return report;
}

/** Pre-flight guards (DESIGN §4.7): all refuse the whole run with exit 4 before any change. */
async function guard(plan: Plan, due: PlanItem[], provider: RemediationProvider, options: ApplyOptions): Promise<void> {
  const acting = due.filter((i) => i.action !== 'notify');
  const cap = options.maxActions ?? options.config.remediation.maxActionsPerRun;
  if (acting.length > cap) {
    throw new GuardError(
      `plan ${plan.id} has ${acting.length} actions due, more than the limit of ${cap} per run; raise --max-actions or remediation.maxActionsPerRun after review`,
    );
  }
  // The percentage is of identities: disabling and deleting one user touches one identity.
  const pct = options.config.remediation.maxActionsPercent;
  const allowed = Math.floor((plan.inventorySize * pct) / 100);
  const touched = new Set(acting.map((i) => i.identityId)).size;
  if (touched > allowed) {
    throw new GuardError(
      `plan ${plan.id} would act on ${touched} of ${plan.inventorySize} identities, more than remediation.maxActionsPercent (${pct}%, ${allowed}); review the plan or raise the limit`,
    );
  }
  if (acting.length === 0) return;
  const caller = await provider.caller();
  const exemptions = new Exemptions(options.config.exempt);
  const refused: string[] = [];
  const limit = pLimit(4);
  const names = [...new Set(acting.map((i) => i.identityName))];
  const live = new Map<string, Identity | null>();
  await Promise.all(names.map((n) => limit(async () => live.set(n, await provider.reread(n)))));
  for (const item of acting) {
    if (item.identityId === caller.arn || callerUserName(caller.arn) === item.identityName) {
      refused.push(`item ${item.seq} (${item.identityName}) is the identity dormant runs as`);
    } else if (/:root$/.test(item.identityId) || item.identityName === '<root_account>') {
      refused.push(`item ${item.seq} targets the root user`);
    } else {
      const identity = live.get(item.identityName);
      const probe = identity ?? { id: item.identityId, name: item.identityName, path: '/' };
      const reason = exemptions.byConfig(probe as Identity) ?? (identity ? exemptions.byTag(identity) : null);
      if (reason) refused.push(`item ${item.seq} (${item.identityName}) is exempt: ${reason}`);
    }
  }
  if (refused.length > 0) {
    throw new GuardError(`refusing to apply plan ${plan.id}: ${refused.join('; ')}; deny these items and apply again`);
  }
}

/** After disable-user, what the config said to remove must still be gone. */
function reEnabled(live: Identity, config: Config): boolean {
  const steps = config.remediation.disableUser;
  if (
    steps.includes('deactivate-keys') &&
    live.credentials.some((c) => c.kind === 'access-key' && c.status === 'Active')
  ) {
    return true;
  }
  return steps.includes('remove-password') && live.credentials.some((c) => c.kind === 'password');
}

function callerUserName(arn: string): string | null {
  const m = /:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? m[1]! : null;
}

async function recheck(
  item: PlanItem,
  plan: Plan,
  provider: RemediationProvider,
  options: ApplyOptions,
  now: Date,
  resuming: boolean,
  expectDisabled = true,
): Promise<{ skip: string | null; live: Identity | null }> {
  const live = await provider.reread(item.identityName);
  if (!live) return { skip: 'the user no longer exists', live };
  if (live.id !== item.identityId) return { skip: `the user was replaced (now ${live.id})`, live };
  const tag = new Exemptions(options.config.exempt).byTag(live);
  if (tag) return { skip: `exempt: ${tag}`, live };
  const activity = activitySince(live, plan.createdAt);
  if (activity) return { skip: `activity after the plan was made: ${activity}`, live };
  if (!resuming) {
    const mismatch = stillMatches(item, live, options.config, now);
    if (mismatch) return { skip: mismatch, live };
    if (item.action === 'delete-user' && expectDisabled && reEnabled(live, options.config)) {
      return { skip: 'the user was re-enabled after it was disabled', live };
    }
  }
  return { skip: null, live };
}

async function applyItem(
  store: Store,
  provider: RemediationProvider,
  plan: Plan,
  item: PlanItem,
  options: ApplyOptions,
  runId: string,
  clock: () => Date,
): Promise<{ status: 'done' } | { status: 'skipped'; reason: string }> {
  const history = await journalFor(store.db, { itemId: item.id });
  const resuming = history.some((e) => e.phase === 'intent' && e.step !== 'recheck');
  const deleteStarted = history.some((e) => e.phase === 'intent' && e.step === 'delete-user');

  await writeJournal(store.db, { planId: plan.id, itemId: item.id, runId, step: 'recheck', phase: 'intent' });
  const verdict = await recheck(item, plan, provider, options, clock(), resuming);
  if (verdict.skip && !(deleteStarted && verdict.live === null)) {
    await store.transaction(async (trx) => {
      await writeJournal(trx, {
        planId: plan.id,
        itemId: item.id,
        runId,
        step: 'recheck',
        phase: 'outcome',
        status: 'skipped',
        detail: { reason: verdict.skip },
      });
      await setItemStatus(trx, item.id, 'skipped', verdict.skip);
      await store.audit(trx, {
        actor: options.by,
        kind: 'item.skipped',
        planId: plan.id,
        itemId: item.id,
        detail: { reason: verdict.skip },
      });
    });
    return { status: 'skipped', reason: verdict.skip! };
  }
  await writeJournal(store.db, {
    planId: plan.id,
    itemId: item.id,
    runId,
    step: 'recheck',
    phase: 'outcome',
    status: 'ok',
  });

  // Back up before the first change, and commit the backup before making it.
  if (item.action !== 'notify' && verdict.live !== null && !(await backupForItem(store.db, item.id))) {
    const backup = await provider.backup(item.identityName);
    await store.transaction(async (trx) => {
      const id = await saveBackup(trx, { identityId: item.identityId, backup, planId: plan.id, itemId: item.id });
      await store.audit(trx, {
        actor: options.by,
        kind: 'backup.saved',
        planId: plan.id,
        itemId: item.id,
        detail: { backupId: id, user: item.identityName },
      });
      await writeJournal(trx, {
        planId: plan.id,
        itemId: item.id,
        runId,
        step: 'backup',
        phase: 'outcome',
        status: 'ok',
        detail: { backupId: id },
      });
    });
  }

  const pendingWarnings: Promise<void>[] = [];
  const steps: StepRunner = {
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      await writeJournal(store.db, { planId: plan.id, itemId: item.id, runId, step: name, phase: 'intent' });
      try {
        const out = await fn();
        await writeJournal(store.db, {
          planId: plan.id,
          itemId: item.id,
          runId,
          step: name,
          phase: 'outcome',
          status: 'ok',
        });
        return out;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await writeJournal(store.db, {
          planId: plan.id,
          itemId: item.id,
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
      options.onEvent?.(`warning: ${item.identityName}: ${message}`);
      pendingWarnings.push(
        writeJournal(store.db, {
          planId: plan.id,
          itemId: item.id,
          runId,
          step: 'warning',
          phase: 'outcome',
          status: 'warning',
          detail: { message },
        }),
      );
    },
  };

  if (!(deleteStarted && verdict.live === null)) {
    await provider.perform(
      item.action,
      { userName: item.identityName, identityId: item.identityId, credentialId: item.credentialId },
      {
        disableUser: options.config.remediation.disableUser,
        quarantinePolicyArn: options.config.remediation.quarantinePolicyArn,
      },
      steps,
    );
  }

  // Warnings are journaled before the item's outcome, so the journal reads in order.
  await Promise.all(pendingWarnings);
  const doneAt = clock();
  await store.transaction(async (trx) => {
    await writeJournal(trx, {
      planId: plan.id,
      itemId: item.id,
      runId,
      step: 'item',
      phase: 'outcome',
      status: 'done',
    });
    await setItemStatus(trx, item.id, 'done', null);
    await store.audit(trx, {
      actor: options.by,
      kind: 'item.done',
      planId: plan.id,
      itemId: item.id,
      detail: { action: item.action },
    });
    // Deletion waits deleteAfterDays in the disabled state, counted from when the disable is done.
    if (item.action === 'disable-user') {
      const after = options.config.remediation.deleteAfterDays ?? 0;
      const notBefore = new Date(doneAt.getTime() + after * DAY_MS).toISOString();
      await trx
        .updateTable('plan_items')
        .set({ not_before: notBefore })
        .where('depends_on', '=', item.id)
        .where('not_before', '<', notBefore)
        .execute();
    }
  });
  return { status: 'done' };
}
