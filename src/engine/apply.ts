/**
 * Apply a plan's approved items (DESIGN §4): a lock against a second apply, `--yes`
 * approvals, guards, then each due item through its provider (applyItem.ts). Items of
 * several providers and accounts run in one plan. A crash at any point is resumed by
 * running apply again.
 */
import type { Config } from '../config/config.js';
import { GuardError, UsageError } from '../errors.js';
import type { ProviderName } from '../model/identity.js';
import type { Plan, PlanItem } from '../model/plan.js';
import type { RemediationProvider } from '../providers/provider.js';
import { getItem, getPlan } from '../store/plans.js';
import { type Store, StoreError, newId } from '../store/store.js';
import { type ItemRun, applyItem, failItem, skipItem } from './applyItem.js';
import { recordItemDecision } from './decide.js';
import { type NotDue, dueItems, waitsFor } from './due.js';
import { guard } from './guards.js';
import pLimit from 'p-limit';
import { recheck } from './recheck.js';

export { dueItems } from './due.js';
export { activitySince, stillMatches } from './recheck.js';

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
  notDue: NotDue[];
  /** With --dry-run: what would be done. */
  wouldDo: PlanItem[];
}

const LOCK_TTL_MS = 60_000;

/** The providers a plan's items need, by name; an item of a provider not given is refused before anything runs. */
export function providerLookup(
  providers: RemediationProvider | RemediationProvider[],
): (item: PlanItem) => RemediationProvider {
  const byName = new Map<ProviderName, RemediationProvider>();
  for (const p of Array.isArray(providers) ? providers : [providers]) byName.set(p.provider, p);
  return (item) => {
    const p = byName.get(item.provider);
    if (!p) {
      throw new UsageError(
        `item ${item.seq} is for provider ${item.provider}, which is not enabled; pass --provider ${item.provider} or enable it in the config`,
      );
    }
    return p;
  };
}

/** Due items grouped by identity, each group in plan order. */
function byIdentity(items: PlanItem[]): Map<string, PlanItem[]> {
  const groups = new Map<string, PlanItem[]>();
  for (const item of items) {
    const key = `${item.provider}|${item.identityId}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

export async function apply(
  store: Store,
  providers: RemediationProvider | RemediationProvider[],
  options: ApplyOptions,
): Promise<ApplyReport> {
  const clock = options.now ?? (() => new Date());
  const say = options.onEvent ?? (() => undefined);
  const providerFor = providerLookup(providers);
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

  const first = await getPlan(store.db, options.planId);
  if (!first) throw new UsageError(`plan ${options.planId} not found; 'dormant history' lists the plans`);
  if (dryRun) {
    await run(first, () => false);
    return report;
  }
  // The lock comes first: a second apply of the same plan must not even start.
  const locked = await store.withLock(`apply:${first.id}`, LOCK_TTL_MS, async (lease) => {
    // Read the plan again under the lock: another apply may have finished items since we read it.
    await run((await getPlan(store.db, first.id)) ?? first, lease.lost);
  });
  if ('held' in locked) {
    throw new GuardError(`another apply of plan ${first.id} is running (${locked.held}); wait for it to finish`);
  }
  return report;

  async function run(initial: Plan, lockLost: () => boolean): Promise<void> {
    let plan = initial;
    if (options.yes) plan = await approvePending(plan);
    const { due, notDue } = dueItems(plan, clock());
    report.notDue = notDue;
    for (const item of due) providerFor(item);
    await guard(plan, due, providerFor, options.config, options.maxActions);
    // After the guards, so that a run they refuse changes nothing at all.
    if (!dryRun) await skipOrphans(plan);

    // Items of different identities run concurrently (remediation.concurrency); one identity's
    // items run in plan order, one after another, so a delete never overtakes its disable.
    const limit = pLimit(options.config.remediation.concurrency);
    const fatal: unknown[] = [];
    /** Items of an identity another apply or restore holds: due, and left for the next run. */
    const heldBack: NotDue[] = [];
    let stopping = false;
    await Promise.all(
      [...byIdentity(due)].map(([key, items]) =>
        limit(async () => {
          const runGroup = async (identityLost: () => boolean): Promise<void> => {
            for (const planned of items) {
              if (fatal.length > 0) return;
              if (options.signal?.aborted) {
                if (!stopping) say('stopping: the remaining items stay approved and run next time');
                stopping = true;
                return;
              }
              await runItem(planned, plan, () => lockLost() || identityLost());
            }
          };
          try {
            if (dryRun) return await runGroup(() => false);
            // Another plan's apply (or a restore) acting on the same identity waits for the next run.
            const held = await store.withLock(`identity:${key}`, LOCK_TTL_MS, (lease) => runGroup(lease.lost));
            if ('held' in held) {
              for (const item of items) {
                heldBack.push({
                  item,
                  reason: `another apply or restore is acting on this identity (${held.held})`,
                });
              }
            }
          } catch (err) {
            // The store failing or a lock lost: start nothing more; items in flight finish.
            fatal.push(err);
          }
        }),
      ),
    );
    if (fatal.length > 0) throw fatal[0];
    // Identity locks a killed run left on identities nobody needs any more: gone with this run.
    if (!dryRun) await store.releaseStaleLocks('identity:');
    // Report what is still waiting as it stands after this run (a disable may have started a delay).
    if (!dryRun) {
      const ended = await getPlan(store.db, plan.id);
      if (ended) await skipOrphans(ended);
      const after = await getPlan(store.db, plan.id);
      const handled = new Set(
        [...report.done, ...report.skipped.map((s) => s.item), ...report.failed.map((f) => f.item)].map((i) => i.id),
      );
      report.notDue = after ? dueItems(after, clock()).notDue.filter((n) => !handled.has(n.item.id)) : report.notDue;
      report.notDue.push(...heldBack);
    }
  }

  /** One due item: waits, dry run, or the real thing. Store and guard errors are thrown; anything else fails the item. */
  async function runItem(planned: PlanItem, plan: Plan, lockLost: () => boolean): Promise<void> {
    // Re-read the item: an earlier item of this run may have changed what it waits for.
    const item = (await getItem(store.db, planned.id)) ?? planned;
    // Only items still approved (or failed, to retry) run: never redo or overwrite a finished one.
    if (!dryRun && item.status !== 'approved' && item.status !== 'failed') return;
    if (lockLost()) throw new GuardError(`lost the lock on plan ${plan.id} to another apply; stopping`);
    const dep = item.dependsOn ? await getItem(store.db, item.dependsOn) : null;
    if (!dryRun && dep && (dep.status === 'skipped' || dep.status === 'denied')) {
      await skipBehind(item, dep);
      return;
    }
    if (!dryRun && dep && dep.status !== 'done') {
      report.notDue.push({ item, reason: waitsFor(dep) });
      return;
    }
    if (!dryRun && Date.parse(item.notBefore) > clock().getTime()) {
      report.notDue.push({ item, reason: `not before ${item.notBefore}` });
      return;
    }
    const provider = providerFor(item);
    if (dryRun) {
      // In a dry run the disable this delete depends on has not happened: don't expect it.
      const verdict = await recheck(item, plan, provider, options.config, clock(), {
        resuming: false,
        expectDisabled: dep?.status === 'done',
      });
      if (verdict.skip) report.skipped.push({ item, reason: verdict.skip });
      else report.wouldDo.push(item);
      say(verdict.skip ? `would skip: ${item.sentence}: ${verdict.skip}` : `would: ${item.sentence}`);
      return;
    }
    const itemRun: ItemRun = { store, provider, plan, config: options.config, runId, by: options.by, clock, say };
    try {
      const outcome = await applyItem(itemRun, item);
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
      await failItem(itemRun, item, reason);
      report.failed.push({ item, reason });
      say(`failed: ${item.sentence}: ${reason}`);
    }
  }

  /** A delete whose disable was skipped or denied waits for nothing that will ever happen: skip it too. */
  async function skipOrphans(plan: Plan): Promise<void> {
    for (const { item } of dueItems(plan, clock()).notDue) {
      const dep = item.dependsOn ? plan.items.find((i) => i.id === item.dependsOn) : undefined;
      if (dep && (dep.status === 'skipped' || dep.status === 'denied')) await skipBehind(item, dep);
    }
  }

  /** Skip an item whose dependency will never be done (skipped or denied), saying which and why. */
  async function skipBehind(item: PlanItem, dep: PlanItem): Promise<void> {
    const reason = `its ${dep.action} (item ${dep.seq}) was ${dep.status}${dep.reason ? `: ${dep.reason}` : ''}`;
    // No provider is needed (nothing is read or changed in the cloud), so a provider no longer enabled cannot stop it.
    await skipItem({ store, plan: first!, runId, by: options.by }, item, reason, 'dependency');
    report.skipped.push({ item, reason });
    report.notDue = report.notDue.filter((n) => n.item.id !== item.id);
    say(`skipped: ${item.sentence}: ${reason}`);
  }

  /** `--yes`: the operator approves every pending item, recorded as an approval in their name. */
  async function approvePending(plan: Plan): Promise<Plan> {
    const pending = plan.items.filter((i) => i.status === 'pending');
    if (pending.length === 0) return plan;
    if (dryRun) {
      for (const item of pending) item.status = 'approved';
      return plan;
    }
    await store.transaction(async (trx) => {
      const at = clock().toISOString();
      for (const item of pending) {
        await recordItemDecision(store, trx, item, {
          decision: 'approve',
          by: options.by,
          reason: 'apply --yes',
          channel: 'cli',
          snoozeUntil: null,
          at,
          auditChannel: 'apply --yes',
        });
      }
    });
    return (await getPlan(store.db, plan.id))!;
  }
}
