/** Which approved items of a plan can run now, in what order, and why the others cannot. Pure. */
import { DELETE_ACTIONS } from '../model/finding.js';
import type { Plan, PlanItem } from '../model/plan.js';

export interface NotDue {
  item: PlanItem;
  reason: string;
}

export function dueItems(plan: Plan, now: Date): { due: PlanItem[]; notDue: NotDue[] } {
  const byId = new Map(plan.items.map((i) => [i.id, i]));
  const due: PlanItem[] = [];
  const notDue: NotDue[] = [];
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
      notDue.push({ item, reason: waitsFor(dep) });
    } else if (Date.parse(item.notBefore) > now.getTime()) {
      notDue.push({ item, reason: `not before ${item.notBefore}` });
    } else {
      due.push(item);
    }
  }
  // Disable before delete, then plan order.
  const rank = (i: PlanItem) => (DELETE_ACTIONS.includes(i.action) ? 1 : 0);
  due.sort((a, b) => rank(a) - rank(b) || a.seq - b.seq);
  return { due, notDue };
}

export function waitsFor(dep: PlanItem): string {
  return `waits for item ${dep.seq} (${dep.action}), which is ${dep.status}`;
}
