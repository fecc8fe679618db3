/** Approve or deny plan items, recording who, why, through which channel, and when. */
import type { PlanItem } from '../model/plan.js';
import { DAY_MS } from '../model/time.js';
import { UsageError } from '../errors.js';
import { getPlan, recordDecision, setItemStatus } from '../store/plans.js';
import type { Db, Store } from '../store/store.js';

export interface Decision {
  planId: string;
  /** Item ids or their numbers within the plan; empty with `all`. */
  items: string[];
  all: boolean;
  decision: 'approve' | 'deny';
  by: string;
  reason: string | null;
  channel: string;
  /** With deny: keep the identity out of plans for this many days. */
  snoozeDays?: number;
  now?: Date;
}

export interface DecisionResult {
  changed: PlanItem[];
  /** Items left as they were, with why. */
  unchanged: { item: PlanItem; why: string }[];
}

export async function decide(store: Store, d: Decision): Promise<DecisionResult> {
  if (!d.all && d.items.length === 0) {
    throw new UsageError(`name the items to ${d.decision} (their numbers or ids), or pass --all`);
  }
  if (d.all && d.items.length > 0) throw new UsageError('pass either item ids or --all, not both');
  if (d.snoozeDays !== undefined && d.decision !== 'deny') throw new UsageError('--snooze only goes with deny');
  const now = d.now ?? new Date();
  return store.transaction(async (trx) => {
    const plan = await getPlan(trx, d.planId);
    if (!plan) throw new UsageError(`plan ${d.planId} not found; 'dormant history' lists the plans`);
    let targets: PlanItem[];
    if (d.all) {
      targets = plan.items;
    } else {
      targets = d.items.map((ref) => {
        const item = plan.items.find((i) => i.id === ref || String(i.seq) === ref);
        if (!item)
          throw new UsageError(`plan ${plan.id} has no item '${ref}'; 'dormant plan --format json' lists them`);
        return item;
      });
    }
    const result: DecisionResult = { changed: [], unchanged: [] };
    const at = now.toISOString();
    const snoozeUntil =
      d.snoozeDays !== undefined ? new Date(now.getTime() + d.snoozeDays * DAY_MS).toISOString() : null;
    for (const item of targets) {
      const decidable =
        item.status === 'pending' || (d.decision === 'deny' && ['approved', 'failed'].includes(item.status));
      if (!decidable) {
        result.unchanged.push({ item, why: `already ${item.status}` });
        continue;
      }
      const status = await recordItemDecision(store, trx, item, {
        decision: d.decision,
        by: d.by,
        reason: d.reason,
        channel: d.channel,
        snoozeUntil,
        at,
      });
      result.changed.push({ ...item, status, decidedBy: d.by, decidedAt: at });
    }
    return result;
  });
}

/**
 * One decision on one item: its status, the approval row and the audit event, in the caller's
 * transaction. Every channel (CLI, `apply --yes`, Slack, Jira, web) records decisions through here.
 */
export async function recordItemDecision(
  store: Store,
  trx: Db,
  item: PlanItem,
  d: {
    decision: 'approve' | 'deny';
    by: string;
    reason: string | null;
    channel: string;
    snoozeUntil: string | null;
    at: string;
    /** What the audit event records as the channel, when it says more than `channel` (`apply --yes`). */
    auditChannel?: string;
  },
): Promise<'approved' | 'denied'> {
  const status = d.decision === 'approve' ? 'approved' : 'denied';
  await setItemStatus(trx, item.id, status, d.decision === 'deny' ? d.reason : null, { by: d.by, at: d.at });
  await recordDecision(trx, {
    item,
    decision: d.decision,
    by: d.by,
    reason: d.reason,
    channel: d.channel,
    snoozeUntil: d.snoozeUntil,
    at: d.at,
  });
  await store.audit(trx, {
    actor: d.by,
    kind: d.decision === 'approve' ? 'item.approved' : 'item.denied',
    planId: item.planId,
    itemId: item.id,
    detail: d.auditChannel
      ? { channel: d.auditChannel }
      : { reason: d.reason, channel: d.channel, snoozeUntil: d.snoozeUntil },
  });
  return status;
}
