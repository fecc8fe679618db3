/** The audit trail: who did what, when, to which plan and item. Append-only. */
import { type Db, nowIso } from './store.js';

export interface AuditEvent {
  actor: string;
  kind: string;
  planId?: string | null;
  itemId?: string | null;
  detail?: unknown;
}

export interface StoredAuditEvent {
  at: string;
  actor: string;
  kind: string;
  planId: string | null;
  itemId: string | null;
  detail: unknown;
}

export async function writeAudit(db: Db, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at: nowIso(),
      actor: event.actor,
      kind: event.kind,
      plan_id: event.planId ?? null,
      item_id: event.itemId ?? null,
      detail: JSON.stringify(event.detail ?? {}),
    })
    .execute();
}

export async function listAudit(db: Db, filter: { kind?: string } = {}): Promise<StoredAuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll().orderBy('id');
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  const rows = await q.execute();
  return rows.map((r) => ({
    at: r.at,
    actor: r.actor,
    kind: r.kind,
    planId: r.plan_id,
    itemId: r.item_id,
    detail: JSON.parse(r.detail) as unknown,
  }));
}

/** When an identity was last restored (a `restore.done` event naming it), or null. */
export async function lastRestoreOf(
  db: Db,
  identity: { provider: string; identityId: string; name?: string },
): Promise<string | null> {
  const events = await listAudit(db, { kind: 'restore.done' });
  const mine = events.filter((e) => {
    const d = e.detail as { provider?: string; identityId?: string; user?: string } | null;
    if (d?.identityId !== undefined) return d.provider === identity.provider && d.identityId === identity.identityId;
    // Events written before they named the identity's id: its name then (or its id, which some are).
    return (
      (d?.provider ?? 'aws') === identity.provider &&
      (d?.user === identity.identityId || (identity.name !== undefined && d?.user === identity.name))
    );
  });
  return mine.at(-1)?.at ?? null;
}
