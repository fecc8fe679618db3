/** What was planned, approved, done, skipped and failed, by whom and when. */
import type { PlanItem } from '../model/plan.js';
import { listAudit } from '../store/audit.js';
import { getPlan, listPlans, approvalsFor } from '../store/plans.js';
import type { Store } from '../store/store.js';

export interface HistoryDocument {
  plans: {
    id: string;
    createdAt: string;
    createdBy: string;
    items: PlanItem[];
    decisions: {
      itemId: string;
      decision: string;
      by: string;
      reason: string | null;
      channel: string;
      at: string;
      snoozeUntil: string | null;
    }[];
  }[];
  events: { at: string; actor: string; kind: string; planId: string | null; itemId: string | null; detail: unknown }[];
}

export async function history(store: Store): Promise<HistoryDocument> {
  const plans: HistoryDocument['plans'] = [];
  for (const p of await listPlans(store.db)) {
    const plan = (await getPlan(store.db, p.id))!;
    const decisions = (await approvalsFor(store.db, p.id)).map((a) => ({
      itemId: a.item_id,
      decision: a.decision,
      by: a.decided_by,
      reason: a.reason,
      channel: a.channel,
      at: a.at,
      snoozeUntil: a.snooze_until,
    }));
    plans.push({ id: plan.id, createdAt: plan.createdAt, createdBy: plan.createdBy, items: plan.items, decisions });
  }
  return { plans, events: await listAudit(store.db) };
}
