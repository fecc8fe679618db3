/** Plans, plan items and decisions in the store. */
import type { ActionName } from '../model/finding.js';
import type { ProviderName } from '../model/identity.js';
import type { ItemStatus, Plan, PlanItem } from '../model/plan.js';
import type { Database } from './schema.js';
import { type Db, nowIso } from './store.js';
import type { Selectable } from 'kysely';

type ItemRow = Selectable<Database['plan_items']>;

export function itemFromRow(r: ItemRow): PlanItem {
  return {
    id: r.id,
    planId: r.plan_id,
    seq: Number(r.seq),
    provider: r.provider as ProviderName,
    identityId: r.identity_id,
    identityName: r.identity_name,
    account: r.account,
    credentialId: r.credential_id,
    action: r.action as ActionName,
    ruleIds: JSON.parse(r.rule_ids) as string[],
    findingIds: JSON.parse(r.finding_ids) as string[],
    status: r.status,
    notBefore: r.not_before,
    dependsOn: r.depends_on,
    sentence: r.sentence,
    reason: r.reason,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
  };
}

export async function insertPlan(db: Db, plan: Plan): Promise<void> {
  await db
    .insertInto('plans')
    .values({
      id: plan.id,
      created_at: plan.createdAt,
      scan_id: plan.scanId,
      inventory_size: plan.inventorySize,
      created_by: plan.createdBy,
      settings: JSON.stringify({
        ...(plan.inventoryByAccount ? { inventoryByAccount: plan.inventoryByAccount } : {}),
        ...(plan.inventoryByKind ? { inventoryByKind: plan.inventoryByKind } : {}),
        ...(plan.kindOf ? { kindOf: plan.kindOf } : {}),
      }),
    })
    .execute();
  for (const item of plan.items) {
    await db
      .insertInto('plan_items')
      .values({
        id: item.id,
        plan_id: item.planId,
        seq: item.seq,
        provider: item.provider,
        identity_id: item.identityId,
        identity_name: item.identityName,
        account: item.account,
        credential_id: item.credentialId,
        action: item.action,
        rule_ids: JSON.stringify(item.ruleIds),
        finding_ids: JSON.stringify(item.findingIds),
        status: item.status,
        not_before: item.notBefore,
        depends_on: item.dependsOn,
        sentence: item.sentence,
        reason: item.reason,
        evidence: null,
        decided_by: item.decidedBy,
        decided_at: item.decidedAt,
        updated_at: plan.createdAt,
        requested_at: null,
      })
      .execute();
  }
}

function inventoryByAccountOf(settings: string): Pick<Plan, 'inventoryByAccount' | 'inventoryByKind' | 'kindOf'> {
  try {
    const parsed = JSON.parse(settings) as Pick<Plan, 'inventoryByAccount' | 'inventoryByKind' | 'kindOf'>;
    return {
      ...(parsed.inventoryByAccount ? { inventoryByAccount: parsed.inventoryByAccount } : {}),
      ...(parsed.inventoryByKind ? { inventoryByKind: parsed.inventoryByKind } : {}),
      ...(parsed.kindOf ? { kindOf: parsed.kindOf } : {}),
    };
  } catch {
    return {};
  }
}

export async function getPlan(db: Db, planId: string): Promise<Plan | null> {
  const row = await db.selectFrom('plans').selectAll().where('id', '=', planId).executeTakeFirst();
  if (!row) return null;
  const items = await db.selectFrom('plan_items').selectAll().where('plan_id', '=', planId).orderBy('seq').execute();
  return {
    id: row.id,
    createdAt: row.created_at,
    scanId: row.scan_id,
    inventorySize: Number(row.inventory_size),
    ...inventoryByAccountOf(row.settings),
    createdBy: row.created_by,
    items: items.map(itemFromRow),
  };
}

export async function getItem(db: Db, itemId: string): Promise<PlanItem | null> {
  const row = await db.selectFrom('plan_items').selectAll().where('id', '=', itemId).executeTakeFirst();
  return row ? itemFromRow(row) : null;
}

export async function listPlans(db: Db): Promise<{ id: string; createdAt: string; createdBy: string }[]> {
  const rows = await db.selectFrom('plans').select(['id', 'created_at', 'created_by']).orderBy('created_at').execute();
  return rows.map((r) => ({ id: r.id, createdAt: r.created_at, createdBy: r.created_by }));
}

/** Items that are still open anywhere (not decided-against and not finished). */
export async function openItems(db: Db): Promise<PlanItem[]> {
  const rows = await db
    .selectFrom('plan_items')
    .selectAll()
    .where('status', 'in', ['pending', 'approved', 'failed'])
    .execute();
  return rows.map(itemFromRow);
}

/** Identities snoozed by a deny with --snooze, until when. */
export async function snoozedUntil(db: Db, now: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('approvals')
    .select(['identity_id', 'snooze_until'])
    .where('decision', '=', 'deny')
    .where('snooze_until', '>', now)
    .execute();
  const out = new Map<string, string>();
  for (const r of rows) {
    const prev = out.get(r.identity_id);
    if (r.snooze_until && (!prev || r.snooze_until > prev)) out.set(r.identity_id, r.snooze_until);
  }
  return out;
}

export async function setItemStatus(
  db: Db,
  itemId: string,
  status: ItemStatus,
  reason: string | null,
  decided?: { by: string; at: string },
): Promise<void> {
  await db
    .updateTable('plan_items')
    .set({
      status,
      reason,
      updated_at: nowIso(),
      ...(decided ? { decided_by: decided.by, decided_at: decided.at } : {}),
    })
    .where('id', '=', itemId)
    .execute();
}

export async function recordDecision(
  db: Db,
  d: {
    item: PlanItem;
    decision: 'approve' | 'deny';
    by: string;
    reason: string | null;
    channel: string;
    snoozeUntil: string | null;
    at: string;
  },
): Promise<void> {
  await db
    .insertInto('approvals')
    .values({
      plan_id: d.item.planId,
      item_id: d.item.id,
      decision: d.decision,
      decided_by: d.by,
      reason: d.reason,
      channel: d.channel,
      snooze_until: d.snoozeUntil,
      provider: d.item.provider,
      account: d.item.account,
      identity_id: d.item.identityId,
      at: d.at,
    })
    .execute();
}

export async function approvalsFor(db: Db, planId: string) {
  return db.selectFrom('approvals').selectAll().where('plan_id', '=', planId).orderBy('id').execute();
}

/**
 * Identities dormant disabled (a disable-user item done) and nobody restored since: planning
 * must not ask to disable them again, only to delete them when due.
 */
export async function disabledIdentities(db: Db): Promise<Map<string, { itemId: string; doneAt: string }>> {
  const done = await db
    .selectFrom('plan_items')
    .select(['id', 'identity_id', 'identity_name', 'updated_at'])
    .where('action', '=', 'disable-user')
    .where('status', '=', 'done')
    .orderBy('updated_at')
    .execute();
  const restores = await db
    .selectFrom('audit_events')
    .select(['at', 'detail'])
    .where('kind', '=', 'restore.done')
    .execute();
  const restoredAt = new Map<string, string>();
  for (const r of restores) {
    const user = (JSON.parse(r.detail) as { user?: string }).user;
    if (user && (!restoredAt.has(user) || r.at > restoredAt.get(user)!)) restoredAt.set(user, r.at);
  }
  const out = new Map<string, { itemId: string; doneAt: string }>();
  for (const row of done) {
    const restored = restoredAt.get(row.identity_name);
    if (restored && restored > row.updated_at) continue;
    out.set(row.identity_id, { itemId: row.id, doneAt: row.updated_at });
  }
  return out;
}

/** Deletion waits `deleteAfterDays` counted from when the disable is done: push its dependents back. */
export async function delayDependents(db: Db, itemId: string, notBefore: string): Promise<void> {
  await db
    .updateTable('plan_items')
    .set({ not_before: notBefore })
    .where('depends_on', '=', itemId)
    .where('not_before', '<', notBefore)
    .execute();
}

/** Plans with items still to apply (approved, or failed and to be retried). */
export async function plansWithApprovedItems(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('plan_items')
    .select('plan_id')
    .distinct()
    .where('status', 'in', ['approved', 'failed'])
    .execute();
  return rows.map((r) => r.plan_id);
}

/**
 * Close what is still open for one identity (pending, approved or failed items), with the
 * reason: after a restore, an old plan must not retire the identity again without a new review.
 */
export async function closeOpenItemsFor(
  db: Db,
  identity: { provider: string; identityId: string },
  reason: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('plan_items')
    .select('id')
    .where('provider', '=', identity.provider)
    .where('identity_id', '=', identity.identityId)
    .where('status', 'in', ['pending', 'approved', 'failed'])
    .execute();
  const ids = rows.map((r) => r.id);
  if (ids.length > 0) {
    await db
      .updateTable('plan_items')
      .set({ status: 'skipped', reason, updated_at: nowIso() })
      .where('id', 'in', ids)
      .execute();
  }
  return ids;
}

/**
 * What dormant did to an identity after `since` (exclusive; null: ever), oldest first: items
 * done, and items a failed or interrupted run changed part of (a journaled step with an `ok`
 * outcome, other than the re-check and the backup), so that a restore can undo those too.
 */
export async function doneActionsFor(
  db: Db,
  identity: { provider: string; identityId: string },
  since: string | null,
): Promise<{ action: PlanItem['action']; credentialId: string | null; doneAt: string; steps: string[] }[]> {
  let q = db
    .selectFrom('plan_items')
    .select(['id', 'action', 'credential_id', 'status', 'updated_at'])
    .where('provider', '=', identity.provider)
    .where('identity_id', '=', identity.identityId)
    .orderBy('updated_at');
  if (since) q = q.where('updated_at', '>', since);
  const rows = await q.execute();
  // The provider steps each item finished (a done item's, and those of one a failed run changed part of).
  const stepsOf = new Map<string, string[]>();
  if (rows.length > 0) {
    const steps = await db
      .selectFrom('journal')
      .select(['item_id', 'step'])
      .where(
        'item_id',
        'in',
        rows.map((r) => r.id),
      )
      .where('phase', '=', 'outcome')
      .where('status', '=', 'ok')
      .where('step', 'not in', ['recheck', 'backup', 'item', 'dependency'])
      .orderBy('id')
      .execute();
    for (const s of steps) stepsOf.set(s.item_id, [...(stepsOf.get(s.item_id) ?? []), s.step]);
  }
  return rows
    .filter((r) => r.status === 'done' || stepsOf.has(r.id))
    .map((r) => ({
      action: r.action as PlanItem['action'],
      credentialId: r.credential_id,
      doneAt: r.updated_at,
      steps: stepsOf.get(r.id) ?? [],
    }));
}
