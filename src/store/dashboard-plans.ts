/**
 * The dashboard's reads of plans and identities: the plans list, a plan's page of items with
 * their evidence and the newest decision from any channel, and an identity's whole story
 * (credentials, findings, items, decisions, journal outcomes, backups). SQLite and PostgreSQL.
 */
import type { Evidence } from '../model/evidence.js';
import type { Finding, ScannedIdentity } from '../model/finding.js';
import type { IdentityKind } from '../model/identity.js';
import type { ItemStatus, Plan, PlanItem } from '../model/plan.js';
import { type Paged, countOf as count, pageOf, parseJson } from './dashboard.js';
import { type BackupSummary, backupSummary } from './dashboard-audit.js';
import { itemFromRow } from './plans.js';
import type { Db } from './store.js';

// ------------------------------------------------------------------ decisions

export interface DecisionRecord {
  itemId: string;
  planId: string;
  decision: 'approve' | 'deny';
  by: string;
  reason: string | null;
  channel: string;
  snoozeUntil: string | null;
  at: string;
}

/** Decisions on these items, oldest first. */
export async function decisionsFor(db: Db, itemIds: string[]): Promise<DecisionRecord[]> {
  const out: DecisionRecord[] = [];
  for (let i = 0; i < itemIds.length; i += 500) {
    const rows = await db
      .selectFrom('approvals')
      .selectAll()
      .where('item_id', 'in', itemIds.slice(i, i + 500))
      .orderBy('id')
      .execute();
    for (const r of rows)
      out.push({
        itemId: r.item_id,
        planId: r.plan_id,
        decision: r.decision,
        by: r.decided_by,
        reason: r.reason,
        channel: r.channel,
        snoozeUntil: r.snooze_until,
        at: r.at,
      });
  }
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

/** The newest decision on each item. */
export async function latestDecisions(db: Db, itemIds: string[]): Promise<Map<string, DecisionRecord>> {
  const out = new Map<string, DecisionRecord>();
  for (const d of await decisionsFor(db, itemIds)) out.set(d.itemId, d);
  return out;
}

// ------------------------------------------------------------------ plans

export interface PlanSummary {
  id: string;
  createdAt: string;
  createdBy: string;
  scanId: string;
  /** Items by status. */
  counts: Partial<Record<ItemStatus, number>>;
  items: number;
}

/** Plans, newest first, with their items counted by status. */
export async function plansPage(db: Db, page: number, pageSize: number): Promise<Paged<PlanSummary>> {
  const total = count(
    await db
      .selectFrom('plans')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirst(),
  );
  const at = pageOf(total, page, pageSize);
  const plans = await db
    .selectFrom('plans')
    .select(['id', 'created_at', 'created_by', 'scan_id'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(pageSize)
    .offset(at.offset)
    .execute();
  const ids = plans.map((p) => p.id);
  const counts =
    ids.length === 0
      ? []
      : await db
          .selectFrom('plan_items')
          .select(['plan_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('plan_id', 'in', ids)
          .groupBy(['plan_id', 'status'])
          .execute();
  const rows = plans.map((p) => {
    const mine = counts.filter((c) => c.plan_id === p.id);
    return {
      id: p.id,
      createdAt: p.created_at,
      createdBy: p.created_by,
      scanId: p.scan_id,
      counts: Object.fromEntries(mine.map((c) => [c.status, Number(c.n)])) as PlanSummary['counts'],
      items: mine.reduce((n, c) => n + Number(c.n), 0),
    };
  });
  return { rows, total, pageSize, page: at.page, pages: at.pages };
}

export interface PlanItemView {
  item: PlanItem;
  evidence: Evidence | null;
  /** The newest decision on it, from any channel. */
  decision: DecisionRecord | null;
  /** The identity's kind, from the plan's scan (null when it has no snapshot). */
  kind: IdentityKind | null;
}

export interface PlanPage {
  plan: Omit<Plan, 'items'>;
  /** Items by status, over the whole plan. */
  counts: Partial<Record<ItemStatus, number>>;
  items: Paged<PlanItemView>;
}

/** A plan and one page of its items (in plan order, optionally only those with `status`); null when unknown. */
export async function planPage(
  db: Db,
  planId: string,
  options: { status?: ItemStatus | undefined; page: number; pageSize: number },
): Promise<PlanPage | null> {
  const plan = await db.selectFrom('plans').selectAll().where('id', '=', planId).executeTakeFirst();
  if (!plan) return null;
  const statusCounts = await db
    .selectFrom('plan_items')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('plan_id', '=', planId)
    .groupBy('status')
    .execute();
  const counts = Object.fromEntries(statusCounts.map((c) => [c.status, Number(c.n)])) as PlanPage['counts'];
  const total = options.status
    ? (counts[options.status] ?? 0)
    : Object.values(counts).reduce((n, c) => n + (c ?? 0), 0);
  const at = pageOf(total, options.page, options.pageSize);
  let q = db.selectFrom('plan_items').selectAll().where('plan_id', '=', planId);
  if (options.status) q = q.where('status', '=', options.status);
  const rows = await q.orderBy('seq').limit(options.pageSize).offset(at.offset).execute();
  const items = rows.map(itemFromRow);
  const decisions = await latestDecisions(
    db,
    items.map((i) => i.id),
  );
  const kinds = await kindsIn(
    db,
    plan.scan_id,
    items.map((i) => i.identityId),
  );
  return {
    plan: {
      id: plan.id,
      createdAt: plan.created_at,
      createdBy: plan.created_by,
      scanId: plan.scan_id,
      inventorySize: Number(plan.inventory_size),
    },
    counts,
    items: {
      rows: rows.map((r, i) => ({
        item: items[i]!,
        evidence: parseJson<Evidence | null>(r.evidence, null),
        decision: decisions.get(r.id) ?? null,
        kind: kinds.get(`${r.provider}|${r.identity_id}`) ?? null,
      })),
      total,
      pageSize: options.pageSize,
      page: at.page,
      pages: at.pages,
    },
  };
}

async function kindsIn(db: Db, scanId: string, identityIds: string[]): Promise<Map<string, IdentityKind>> {
  const out = new Map<string, IdentityKind>();
  const unique = [...new Set(identityIds)];
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db
      .selectFrom('identity_snapshots')
      .select(['provider', 'identity_id', 'data'])
      .where('scan_id', '=', scanId)
      .where('identity_id', 'in', unique.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      const kind = parseJson<{ kind?: IdentityKind }>(r.data, {}).kind;
      if (kind) out.set(`${r.provider}|${r.identity_id}`, kind);
    }
  }
  return out;
}

// ------------------------------------------------------------------ an identity

export interface JournalOutcome {
  itemId: string;
  step: string;
  status: string | null;
  detail: unknown;
  at: string;
}

export interface IdentityStory {
  /** The newest snapshot of it (credentials, last activity), and the scan it is from. */
  snapshot: ScannedIdentity | null;
  scan: { id: string; createdAt: string } | null;
  /** Its findings in that scan. */
  findings: Finding[];
  /** Its plan items, newest first, with their evidence. */
  items: { item: PlanItem; evidence: Evidence | null; planCreatedAt: string }[];
  decisions: DecisionRecord[];
  /** Journal outcomes of its items (steps done, skipped, failed), oldest first. */
  outcomes: JournalOutcome[];
  backups: BackupSummary[];
}

/** Everything the store knows about one identity; null when it knows nothing. */
export async function identityStory(
  db: Db,
  who: { provider: string; account: string; identityId: string },
): Promise<IdentityStory | null> {
  const snap = await db
    .selectFrom('identity_snapshots')
    .innerJoin('scans', 'scans.id', 'identity_snapshots.scan_id')
    .select(['identity_snapshots.scan_id', 'identity_snapshots.data', 'scans.created_at'])
    .where('identity_snapshots.provider', '=', who.provider)
    .where('identity_snapshots.account', '=', who.account)
    .where('identity_snapshots.identity_id', '=', who.identityId)
    .orderBy('scans.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const findings = snap
    ? (
        await db
          .selectFrom('findings')
          .select('data')
          .where('scan_id', '=', snap.scan_id)
          .where('provider', '=', who.provider)
          .where('identity_id', '=', who.identityId)
          .orderBy('id')
          .execute()
      ).flatMap((f) => {
        const parsed = parseJson<Finding | null>(f.data, null);
        return parsed ? [parsed] : [];
      })
    : [];
  const itemRows = await db
    .selectFrom('plan_items')
    .innerJoin('plans', 'plans.id', 'plan_items.plan_id')
    .selectAll('plan_items')
    .select('plans.created_at as plan_created_at')
    .where('plan_items.provider', '=', who.provider)
    .where('plan_items.account', '=', who.account)
    .where('plan_items.identity_id', '=', who.identityId)
    .orderBy('plans.created_at', 'desc')
    .orderBy('plan_items.seq')
    .execute();
  const itemIds = itemRows.map((r) => r.id);
  const outcomes: JournalOutcome[] = [];
  for (let i = 0; i < itemIds.length; i += 500) {
    const rows = await db
      .selectFrom('journal')
      .select(['item_id', 'step', 'status', 'detail', 'at'])
      .where('item_id', 'in', itemIds.slice(i, i + 500))
      .where('phase', '=', 'outcome')
      .orderBy('id')
      .execute();
    for (const r of rows)
      outcomes.push({ itemId: r.item_id, step: r.step, status: r.status, detail: parseJson(r.detail, null), at: r.at });
  }
  const backups = (
    await db
      .selectFrom('backups')
      .selectAll()
      .where('provider', '=', who.provider)
      .where('account', '=', who.account)
      .where('identity_id', '=', who.identityId)
      .orderBy('created_at', 'desc')
      .execute()
  ).map(backupSummary);
  if (!snap && itemRows.length === 0 && backups.length === 0) return null;
  return {
    snapshot: snap ? parseJson<ScannedIdentity | null>(snap.data, null) : null,
    scan: snap ? { id: snap.scan_id, createdAt: snap.created_at } : null,
    findings,
    items: itemRows.map((r) => ({
      item: itemFromRow(r),
      evidence: parseJson<Evidence | null>(r.evidence, null),
      planCreatedAt: r.plan_created_at,
    })),
    decisions: await decisionsFor(db, itemIds),
    outcomes: outcomes.sort((a, b) => a.at.localeCompare(b.at)),
    backups,
  };
}

/** The items of a plan with these ids (those that exist in it), in plan order. */
export async function itemsOfPlan(db: Db, planId: string, itemIds: string[]): Promise<PlanItem[]> {
  const out: PlanItem[] = [];
  const unique = [...new Set(itemIds)];
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db
      .selectFrom('plan_items')
      .selectAll()
      .where('plan_id', '=', planId)
      .where('id', 'in', unique.slice(i, i + 500))
      .execute();
    out.push(...rows.map(itemFromRow));
  }
  return out.sort((a, b) => a.seq - b.seq);
}
