/** Review workflow records: evidence per item, Slack messages, Jira tickets, owner notifications. */
import type { Evidence } from '../model/evidence.js';
import type { Finding } from '../model/finding.js';
import type { ScannedIdentity } from '../model/finding.js';
import type { PlanItem } from '../model/plan.js';
import { itemFromRow } from './plans.js';
import { type Db, nowIso } from './store.js';

export async function saveEvidence(db: Db, itemId: string, evidence: Evidence): Promise<void> {
  await db
    .updateTable('plan_items')
    .set({ evidence: JSON.stringify(evidence) })
    .where('id', '=', itemId)
    .execute();
}

export async function markRequested(db: Db, itemIds: string[], at = nowIso()): Promise<void> {
  if (itemIds.length === 0) return;
  await db
    .updateTable('plan_items')
    .set({ requested_at: at })
    .where('id', 'in', itemIds)
    .where('requested_at', 'is', null)
    .execute();
}

/** Pending items whose review was requested before `before`: they expire. */
export async function expiredRequests(db: Db, before: string): Promise<PlanItem[]> {
  const rows = await db
    .selectFrom('plan_items')
    .selectAll()
    .where('status', '=', 'pending')
    .where('requested_at', 'is not', null)
    .where('requested_at', '<', before)
    .execute();
  return rows.map(itemFromRow);
}

/** Pending items never sent for review. */
export async function unrequestedItems(db: Db): Promise<PlanItem[]> {
  const rows = await db
    .selectFrom('plan_items')
    .selectAll()
    .where('status', '=', 'pending')
    .where('requested_at', 'is', null)
    .orderBy('plan_id')
    .orderBy('seq')
    .execute();
  return rows.map(itemFromRow);
}

export interface ReviewMessage {
  itemId: string;
  planId: string;
  channel: string;
  ts: string;
  renderedStatus: string;
}

export async function getMessage(db: Db, itemId: string): Promise<ReviewMessage | null> {
  const r = await db.selectFrom('review_messages').selectAll().where('item_id', '=', itemId).executeTakeFirst();
  return r
    ? { itemId: r.item_id, planId: r.plan_id, channel: r.channel, ts: r.ts, renderedStatus: r.rendered_status }
    : null;
}

export async function messagesForPlan(db: Db, planId: string): Promise<ReviewMessage[]> {
  const rows = await db.selectFrom('review_messages').selectAll().where('plan_id', '=', planId).execute();
  return rows.map((r) => ({
    itemId: r.item_id,
    planId: r.plan_id,
    channel: r.channel,
    ts: r.ts,
    renderedStatus: r.rendered_status,
  }));
}

export async function saveMessage(db: Db, m: ReviewMessage): Promise<void> {
  const at = nowIso();
  await db
    .insertInto('review_messages')
    .values({
      item_id: m.itemId,
      plan_id: m.planId,
      channel: m.channel,
      ts: m.ts,
      rendered_status: m.renderedStatus,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc
        .column('item_id')
        .doUpdateSet({ channel: m.channel, ts: m.ts, rendered_status: m.renderedStatus, updated_at: at }),
    )
    .execute();
}

/** Messages whose item changed status since they were last rendered (a decision made elsewhere). */
export async function staleMessages(db: Db): Promise<ReviewMessage[]> {
  const rows = await db
    .selectFrom('review_messages')
    .innerJoin('plan_items', 'plan_items.id', 'review_messages.item_id')
    .select([
      'review_messages.item_id',
      'review_messages.plan_id',
      'review_messages.channel',
      'review_messages.ts',
      'review_messages.rendered_status',
    ])
    .whereRef('plan_items.status', '<>', 'review_messages.rendered_status')
    .execute();
  return rows.map((r) => ({
    itemId: r.item_id,
    planId: r.plan_id,
    channel: r.channel,
    ts: r.ts,
    renderedStatus: r.rendered_status,
  }));
}

export interface Ticket {
  scope: string;
  planId: string;
  itemId: string | null;
  key: string;
  url: string;
  lastStatus: string | null;
}

export async function getTicket(db: Db, scope: string): Promise<Ticket | null> {
  const r = await db.selectFrom('tickets').selectAll().where('scope', '=', scope).executeTakeFirst();
  return r
    ? { scope: r.scope, planId: r.plan_id, itemId: r.item_id, key: r.key, url: r.url, lastStatus: r.last_status }
    : null;
}

export async function saveTicket(db: Db, t: Ticket): Promise<void> {
  await db
    .insertInto('tickets')
    .values({
      scope: t.scope,
      plan_id: t.planId,
      item_id: t.itemId,
      key: t.key,
      url: t.url,
      last_status: t.lastStatus,
      created_at: nowIso(),
    })
    .onConflict((oc) => oc.column('scope').doUpdateSet({ key: t.key, url: t.url, last_status: t.lastStatus }))
    .execute();
}

export async function ownerNotified(db: Db, itemId: string): Promise<boolean> {
  return Boolean(
    await db.selectFrom('owner_notifications').select('item_id').where('item_id', '=', itemId).executeTakeFirst(),
  );
}

export async function saveOwnerNotification(
  db: Db,
  n: { itemId: string; email: string; slackUser: string | null; status: string },
): Promise<void> {
  await db
    .insertInto('owner_notifications')
    .values({ item_id: n.itemId, email: n.email, slack_user: n.slackUser, status: n.status, at: nowIso() })
    .onConflict((oc) => oc.column('item_id').doNothing())
    .execute();
}

/** Everything a reviewer needs to see about one item. */
export interface ReviewView {
  item: PlanItem;
  findings: Finding[];
  identity: ScannedIdentity | null;
  /** From the identity's `owner` tag (an email), if any. */
  owner: string | null;
  evidence: Evidence | null;
}

export async function reviewViews(db: Db, items: PlanItem[], ownerTag = 'owner'): Promise<ReviewView[]> {
  const views: ReviewView[] = [];
  for (const item of items) {
    const row = await db.selectFrom('plan_items').select(['evidence']).where('id', '=', item.id).executeTakeFirst();
    const plan = await db.selectFrom('plans').select(['scan_id']).where('id', '=', item.planId).executeTakeFirst();
    const findings = plan
      ? (
          await db
            .selectFrom('findings')
            .select(['data'])
            .where('scan_id', '=', plan.scan_id)
            .where('id', 'in', item.findingIds.length > 0 ? item.findingIds : ['-'])
            .execute()
        ).map((f) => JSON.parse(f.data) as Finding)
      : [];
    const snap = plan
      ? await db
          .selectFrom('identity_snapshots')
          .select(['data'])
          .where('scan_id', '=', plan.scan_id)
          .where('identity_id', '=', item.identityId)
          .executeTakeFirst()
      : undefined;
    const identity = snap ? (JSON.parse(snap.data) as ScannedIdentity) : null;
    views.push({
      item,
      findings,
      identity,
      owner: identity?.tags?.[ownerTag] ?? null,
      evidence: row?.evidence ? (JSON.parse(row.evidence) as Evidence) : null,
    });
  }
  return views;
}
