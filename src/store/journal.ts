/** The apply journal: an intent before each step and an outcome after it. */
import { type Db, nowIso } from './store.js';

export interface JournalEntry {
  id: number;
  planId: string;
  itemId: string;
  runId: string;
  step: string;
  phase: 'intent' | 'outcome';
  status: string | null;
  detail: string | null;
  at: string;
}

export async function writeJournal(
  db: Db,
  e: {
    planId: string;
    itemId: string;
    runId: string;
    step: string;
    phase: 'intent' | 'outcome';
    status?: string | null;
    detail?: unknown;
  },
): Promise<void> {
  await db
    .insertInto('journal')
    .values({
      plan_id: e.planId,
      item_id: e.itemId,
      run_id: e.runId,
      step: e.step,
      phase: e.phase,
      status: e.status ?? null,
      detail: e.detail === undefined ? null : JSON.stringify(e.detail),
      at: nowIso(),
    })
    .execute();
}

export async function journalFor(db: Db, filter: { planId?: string; itemId?: string }): Promise<JournalEntry[]> {
  let q = db.selectFrom('journal').selectAll();
  if (filter.planId) q = q.where('plan_id', '=', filter.planId);
  if (filter.itemId) q = q.where('item_id', '=', filter.itemId);
  const rows = await q.orderBy('id').execute();
  return rows.map((r) => ({
    id: Number(r.id),
    planId: r.plan_id,
    itemId: r.item_id,
    runId: r.run_id,
    step: r.step,
    phase: r.phase,
    status: r.status,
    detail: r.detail,
    at: r.at,
  }));
}
