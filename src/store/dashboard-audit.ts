/**
 * The dashboard's reads of the audit trail and backups: history (the life of plan items and
 * restores), the raw audit log with its filters, and backups with their restores. SQLite and
 * PostgreSQL alike.
 */
import type { PlanItem } from '../model/plan.js';
import { type Paged, countOf as count, pageOf, parseJson } from './dashboard.js';
import type { Db } from './store.js';

export interface BackupSummary {
  id: string;
  provider: string;
  identityId: string;
  identityName: string;
  account: string;
  planId: string | null;
  itemId: string | null;
  createdAt: string;
  /** The backed-up identity's kind, from the envelope. */
  kind: string | null;
}

export function backupSummary(r: {
  id: string;
  provider: string;
  identity_id: string;
  identity_name: string;
  account: string;
  plan_id: string | null;
  item_id: string | null;
  created_at: string;
  data: string;
}): BackupSummary {
  return {
    id: r.id,
    provider: r.provider,
    identityId: r.identity_id,
    identityName: r.identity_name,
    account: r.account,
    planId: r.plan_id,
    itemId: r.item_id,
    createdAt: r.created_at,
    kind: parseJson<{ kind?: string; data?: unknown }>(r.data, {}).kind ?? null,
  };
}

// ------------------------------------------------------------------ history and audit

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  kind: string;
  planId: string | null;
  itemId: string | null;
  detail: unknown;
  /** The item the event is about, when it names one that exists. */
  item: Pick<PlanItem, 'seq' | 'sentence' | 'provider' | 'account' | 'identityId' | 'identityName'> | null;
}

/** What the history page shows: the life of plan items and restores. */
export const HISTORY_KINDS = [
  'plan.created',
  'item.approved',
  'item.denied',
  'item.done',
  'item.skipped',
  'item.failed',
  'restore.done',
  'apply.refused',
] as const;

/** Audit events, newest first, optionally only of some kinds and one actor. */
export async function auditPage(
  db: Db,
  filter: { kinds?: readonly string[] | undefined; actor?: string | undefined },
  page: number,
  pageSize: number,
): Promise<Paged<AuditRow>> {
  let base = db.selectFrom('audit_events');
  if (filter.kinds && filter.kinds.length > 0) base = base.where('audit_events.kind', 'in', [...filter.kinds]);
  if (filter.actor) base = base.where('audit_events.actor', '=', filter.actor);
  const total = count(await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst());
  const at = pageOf(total, page, pageSize);
  const rows = await base
    .leftJoin('plan_items', 'plan_items.id', 'audit_events.item_id')
    .select([
      'audit_events.id',
      'audit_events.at',
      'audit_events.actor',
      'audit_events.kind',
      'audit_events.plan_id',
      'audit_events.item_id',
      'audit_events.detail',
      'plan_items.seq',
      'plan_items.sentence',
      'plan_items.provider',
      'plan_items.account',
      'plan_items.identity_id',
      'plan_items.identity_name',
    ])
    .orderBy('audit_events.id', 'desc')
    .limit(pageSize)
    .offset(at.offset)
    .execute();
  return {
    rows: rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      kind: r.kind,
      planId: r.plan_id,
      itemId: r.item_id,
      detail: parseJson<unknown>(r.detail, null),
      item:
        r.sentence !== null && r.seq !== null
          ? {
              seq: Number(r.seq),
              sentence: r.sentence,
              provider: (r.provider ?? 'aws') as PlanItem['provider'],
              account: r.account ?? '',
              identityId: r.identity_id ?? '',
              identityName: r.identity_name ?? '',
            }
          : null,
    })),
    total,
    pageSize,
    page: at.page,
    pages: at.pages,
  };
}

/** Kinds and actors that appear in the audit trail, for the filters. */
export async function auditFacets(db: Db): Promise<{ kinds: string[]; actors: string[] }> {
  const kinds = await db.selectFrom('audit_events').select('kind').distinct().orderBy('kind').execute();
  const actors = await db.selectFrom('audit_events').select('actor').distinct().orderBy('actor').limit(500).execute();
  return { kinds: kinds.map((k) => k.kind), actors: actors.map((a) => a.actor) };
}

// ------------------------------------------------------------------ backups

export interface BackupRow extends BackupSummary {
  /** Restores from this backup (restore.done events), newest first. */
  restores: { at: string; by: string }[];
}

async function restoresOf(db: Db, backupIds: string[]): Promise<Map<string, { at: string; by: string }[]>> {
  const out = new Map<string, { at: string; by: string }[]>();
  if (backupIds.length === 0) return out;
  const wanted = new Set(backupIds);
  const events = await db
    .selectFrom('audit_events')
    .select(['at', 'actor', 'detail'])
    .where('kind', '=', 'restore.done')
    .orderBy('id', 'desc')
    .execute();
  for (const e of events) {
    const id = parseJson<{ backupId?: string }>(e.detail, {}).backupId;
    if (id && wanted.has(id)) out.set(id, [...(out.get(id) ?? []), { at: e.at, by: e.actor }]);
  }
  return out;
}

/** Backups, newest first. */
export async function backupsPage(db: Db, page: number, pageSize: number): Promise<Paged<BackupRow>> {
  const total = count(
    await db
      .selectFrom('backups')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirst(),
  );
  const at = pageOf(total, page, pageSize);
  const rows = (
    await db
      .selectFrom('backups')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(pageSize)
      .offset(at.offset)
      .execute()
  ).map(backupSummary);
  const restores = await restoresOf(
    db,
    rows.map((r) => r.id),
  );
  return {
    rows: rows.map((r) => ({ ...r, restores: restores.get(r.id) ?? [] })),
    total,
    pageSize,
    page: at.page,
    pages: at.pages,
  };
}

/** One backup's summary and its restores; null when unknown. */
export async function backupRow(db: Db, id: string): Promise<BackupRow | null> {
  const r = await db.selectFrom('backups').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return null;
  const restores = await restoresOf(db, [id]);
  return { ...backupSummary(r), restores: restores.get(id) ?? [] };
}
