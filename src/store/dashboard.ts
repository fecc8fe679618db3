/**
 * The dashboard's reads of scans and findings: the latest scan's counts, findings across
 * scans, and the findings table (filter, search, sort, page, export). Findings are read from
 * the latest scan; a finding's state is the status of the newest plan item that carries it
 * ('open' when no plan item does). Works on SQLite and PostgreSQL alike.
 */
import { PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { Finding, Severity } from '../model/finding.js';
import type { ItemStatus } from '../model/plan.js';
import type { Db } from './store.js';

export const FINDING_STATES = ['open', 'pending', 'approved', 'denied', 'done', 'skipped', 'failed'] as const;
export type FindingState = (typeof FINDING_STATES)[number];

export const FINDING_SORTS = ['severity', 'days', 'identity', 'account', 'rule', 'provider'] as const;
export type FindingSort = (typeof FINDING_SORTS)[number];

export interface ScanInfo {
  id: string;
  createdAt: string;
  source: string;
  accounts: string[];
  summary: { identities: number; inactive: number; exempt: number; findings: number };
}

/** A page of a list: pages count from 1; a page past the end reads as the last one. */
export interface Paged<T> {
  rows: T[];
  total: number;
  page: number;
  pages: number;
  pageSize: number;
}

export function pageOf(total: number, page: number, pageSize: number): { page: number; pages: number; offset: number } {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const current = Math.min(Math.max(1, page), pages);
  return { page: current, pages, offset: (current - 1) * pageSize };
}

export const countOf = (r: { n: number | string | bigint } | undefined): number => Number(r?.n ?? 0);

/** JSON written by dormant itself; a damaged cell reads as `fallback` rather than failing the page. */
export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

const EMPTY_SUMMARY: ScanInfo['summary'] = { identities: 0, inactive: 0, exempt: 0, findings: 0 };

/** The newest scan, or null on a fresh store. */
export async function latestScan(db: Db): Promise<ScanInfo | null> {
  const r = await db
    .selectFrom('scans')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!r) return null;
  return {
    id: r.id,
    createdAt: r.created_at,
    source: r.source,
    accounts: parseJson<string[]>(r.accounts, []),
    summary: { ...EMPTY_SUMMARY, ...parseJson<Partial<ScanInfo['summary']>>(r.summary, {}) },
  };
}

export interface TrendPoint {
  scanId: string;
  createdAt: string;
  findings: number;
  identities: number;
}

/** Findings per scan, oldest first, for the newest `limit` scans (read from each scan's summary). */
export async function findingsTrend(db: Db, limit = 30): Promise<TrendPoint[]> {
  const rows = await db
    .selectFrom('scans')
    .select(['id', 'created_at', 'summary'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse().map((r) => {
    const s = parseJson<Partial<ScanInfo['summary']>>(r.summary, {});
    return { scanId: r.id, createdAt: r.created_at, findings: s.findings ?? 0, identities: s.identities ?? 0 };
  });
}

export interface Count {
  key: string;
  count: number;
}

export interface OverviewCounts {
  byProvider: Count[];
  byAccount: Count[];
  byRule: Count[];
  bySeverity: Count[];
  /** Plan items in every plan, by status. */
  items: Count[];
}

// The two sort expressions below are indexed by migration 0004 (findings_dashboard_rank and
// findings_dashboard_days): keep them identical to it, or the sorts read every row's data.
const SEVERITY_RANK = sql<number>`case severity when 'high' then 3 when 'medium' then 2 else 1 end`;

/** `daysSinceActivity` out of the finding's JSON; never active counts as the oldest. */
function daysExpression(db: Db): RawBuilder<number> {
  return isPostgres(db)
    ? sql<number>`coalesce(((data::json)->>'daysSinceActivity')::numeric, 1000000)`
    : sql<number>`coalesce(json_extract(data, '$.daysSinceActivity'), 1000000)`;
}

const SEVERITY_ORDER: Record<string, number> = { high: 0, medium: 1, low: 2 };

function tally(map: Map<string, number>): Count[] {
  return [...map.entries()]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

export type ScanCounts = Omit<OverviewCounts, 'items'>;

/** One scan's findings counted by provider, account, rule and severity (one pass, an index read). */
export async function scanCounts(db: Db, scanId: string): Promise<ScanCounts> {
  const groups = await db
    .selectFrom('findings')
    .select(['provider', 'account', 'rule_id', 'severity', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('scan_id', '=', scanId)
    .groupBy(['provider', 'account', 'rule_id', 'severity'])
    .execute();
  const maps = { provider: new Map<string, number>(), account: new Map(), rule: new Map(), severity: new Map() };
  for (const g of groups) {
    const n = Number(g.n);
    for (const [map, key] of [
      [maps.provider, g.provider],
      [maps.account, g.account],
      [maps.rule, g.rule_id],
      [maps.severity, g.severity],
    ] as const)
      map.set(key, (map.get(key) ?? 0) + n);
  }
  return {
    byProvider: tally(maps.provider),
    byAccount: tally(maps.account),
    byRule: tally(maps.rule),
    bySeverity: tally(maps.severity).sort((a, b) => (SEVERITY_ORDER[a.key] ?? 9) - (SEVERITY_ORDER[b.key] ?? 9)),
  };
}

/** The latest scan's counts (none without a scan), and plan items in every plan by status. */
export async function overviewCounts(db: Db, scanId: string | null): Promise<OverviewCounts> {
  const [items, counts] = await Promise.all([
    db
      .selectFrom('plan_items')
      .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('status')
      .execute(),
    scanId ? scanCounts(db, scanId) : null,
  ]);
  const empty: ScanCounts = { byProvider: [], byAccount: [], byRule: [], bySeverity: [] };
  return { ...(counts ?? empty), items: items.map((r) => ({ key: r.status, count: Number(r.n) })) };
}

/** Where a finding stands in the plans: the newest item carrying it. */
export interface FindingItemRef {
  status: ItemStatus;
  planId: string;
  itemId: string;
  seq: number;
}

interface ItemRow {
  id: string;
  plan_id: string;
  seq: number;
  finding_ids: string;
  status: ItemStatus;
}

/** Finding id → the newest of these items that carries it (plans by creation, items by seq). */
async function refsOf(db: Db, rows: ItemRow[]): Promise<Map<string, FindingItemRef>> {
  const planIds = [...new Set(rows.map((r) => r.plan_id))];
  const created = new Map<string, string>();
  for (let i = 0; i < planIds.length; i += 500) {
    const plans = await db
      .selectFrom('plans')
      .select(['id', 'created_at'])
      .where('id', 'in', planIds.slice(i, i + 500))
      .execute();
    for (const p of plans) created.set(p.id, p.created_at);
  }
  const order = (r: ItemRow) => `${created.get(r.plan_id) ?? ''}|${r.plan_id}`;
  const sorted = rows
    .map((r) => ({ r, key: order(r) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : Number(a.r.seq) - Number(b.r.seq)));
  const out = new Map<string, FindingItemRef>();
  for (const { r } of sorted) {
    const ref = { status: r.status, planId: r.plan_id, itemId: r.id, seq: Number(r.seq) };
    for (const findingId of parseJson<string[]>(r.finding_ids, [])) out.set(findingId, ref);
  }
  return out;
}

/** The newest plan item of every finding id that is in a plan. */
export async function findingItems(db: Db): Promise<Map<string, FindingItemRef>> {
  const rows = await db.selectFrom('plan_items').select(['id', 'plan_id', 'seq', 'finding_ids', 'status']).execute();
  return refsOf(db, rows);
}

/** The same, for the findings of these identities only (one page's worth). */
async function findingItemsOf(db: Db, identityIds: string[]): Promise<Map<string, FindingItemRef>> {
  const unique = [...new Set(identityIds)];
  const rows: ItemRow[] = [];
  for (let i = 0; i < unique.length; i += 500) {
    rows.push(
      ...(await db
        .selectFrom('plan_items')
        .select(['id', 'plan_id', 'seq', 'finding_ids', 'status'])
        .where('identity_id', 'in', unique.slice(i, i + 500))
        .execute()),
    );
  }
  return refsOf(db, rows);
}

export interface FindingQuery {
  provider?: string | undefined;
  account?: string | undefined;
  rule?: string | undefined;
  severity?: Severity | undefined;
  state?: FindingState | undefined;
  /** Searches identity name and id, credential id and message (case-insensitive). */
  q?: string | undefined;
  sort: FindingSort;
  dir: 'asc' | 'desc';
}

export interface FindingRow {
  id: string;
  provider: string;
  account: string;
  ruleId: string;
  rule: string;
  severity: string;
  identityId: string;
  identityName: string;
  credentialId: string | null;
  message: string;
  lastActivityAt: string | null;
  daysSinceActivity: number | null;
  recommendedAction: string;
  state: FindingState;
  item: FindingItemRef | null;
}

export type FindingsPage = Paged<FindingRow>;

function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The scan's findings matching the query's columns (not its state): a query of their ids. */
function matching(db: Db, scanId: string, query: FindingQuery) {
  let q = db.selectFrom('findings').select('id').where('scan_id', '=', scanId);
  if (query.provider) q = q.where('provider', '=', query.provider);
  if (query.account) q = q.where('account', '=', query.account);
  if (query.rule) q = q.where('rule_id', '=', query.rule);
  if (query.severity) q = q.where('severity', '=', query.severity);
  const search = query.q?.trim();
  if (search) {
    const p = likePattern(search);
    q = q.where(
      sql<boolean>`(lower(identity_name) like ${p} escape '\\' or lower(identity_id) like ${p} escape '\\' or lower(coalesce(credential_id, '')) like ${p} escape '\\' or lower(message) like ${p} escape '\\')`,
    );
  }
  return q;
}

/** The same, sorted: by the chosen column, then by identity name and finding id. */
function sorted(db: Db, scanId: string, query: FindingQuery) {
  const q = matching(db, scanId, query);
  const dir = query.dir;
  const first =
    query.sort === 'severity'
      ? q.orderBy(SEVERITY_RANK, dir)
      : query.sort === 'days'
        ? q.orderBy(daysExpression(db), dir)
        : query.sort === 'identity'
          ? q
          : q.orderBy(
              ({ identity: 'identity_name', account: 'account', rule: 'rule_id', provider: 'provider' } as const)[
                query.sort
              ],
              dir,
            );
  return first.orderBy('identity_name', query.sort === 'identity' ? dir : 'asc').orderBy('id');
}

function stateOf(ref: FindingItemRef | undefined): FindingState {
  return ref ? ref.status : 'open';
}

/** The findings with these ids (in this order), with their data and state. */
async function detailsOf(
  db: Db,
  scanId: string,
  ids: string[],
  items: Map<string, FindingItemRef> | null,
): Promise<{ row: FindingRow; finding: Finding }[]> {
  type Full = {
    id: string;
    provider: string;
    account: string;
    rule_id: string;
    identity_id: string;
    identity_name: string;
    credential_id: string | null;
    severity: string;
    message: string;
    data: string;
  };
  const byId = new Map<string, Full>();
  for (let i = 0; i < ids.length; i += 500) {
    const found = await db
      .selectFrom('findings')
      .select([
        'id',
        'provider',
        'account',
        'rule_id',
        'identity_id',
        'identity_name',
        'credential_id',
        'severity',
        'message',
        'data',
      ])
      .where('scan_id', '=', scanId)
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const f of found) byId.set(f.id, f);
  }
  const rows = ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  const refs =
    items ??
    (await findingItemsOf(
      db,
      rows.map((r) => r.identity_id),
    ));
  return rows.map((r) => {
    const f = parseJson<Finding | null>(r.data, null) ?? ({} as Partial<Finding>);
    const ref = refs.get(r.id) ?? null;
    return {
      finding: f as Finding,
      row: {
        id: r.id,
        provider: r.provider,
        account: r.account,
        ruleId: r.rule_id,
        rule: f.rule ?? r.rule_id,
        severity: r.severity,
        identityId: r.identity_id,
        identityName: r.identity_name,
        credentialId: r.credential_id,
        message: r.message,
        lastActivityAt: f.lastActivityAt ?? null,
        daysSinceActivity: f.daysSinceActivity ?? null,
        recommendedAction: f.recommendedAction ?? '',
        state: stateOf(ref ?? undefined),
        item: ref,
      },
    };
  });
}

/** One page of the scan's findings matching the query (pages count from 1; past the end: the last page). */
export async function findingsPage(
  db: Db,
  scanId: string,
  query: FindingQuery,
  page: number,
  pageSize: number,
): Promise<FindingsPage> {
  let total: number;
  let ids: string[];
  let at: ReturnType<typeof pageOf>;
  let items: Map<string, FindingItemRef> | null = null;
  if (query.state) {
    // The state lives in the plans, not in the findings table: filter the sorted ids here.
    const [refs, matched] = await Promise.all([findingItems(db), sorted(db, scanId, query).execute()]);
    items = refs;
    const all = matched.map((r) => r.id).filter((id) => stateOf(refs.get(id)) === query.state);
    total = all.length;
    at = pageOf(total, page, pageSize);
    ids = all.slice(at.offset, at.offset + pageSize);
  } else {
    const count = await db
      .selectFrom(matching(db, scanId, query).as('m'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    total = Number(count.n);
    at = pageOf(total, page, pageSize);
    ids = (await sorted(db, scanId, query).limit(pageSize).offset(at.offset).execute()).map((r) => r.id);
  }
  const rows = (await detailsOf(db, scanId, ids, items)).map((d) => d.row);
  return { rows, total, page: at.page, pages: at.pages, pageSize };
}

/** Every finding of the scan matching the query (for CSV and JSON export), with its state. */
export async function findingsExport(
  db: Db,
  scanId: string,
  query: FindingQuery,
): Promise<{ finding: Finding; state: FindingState }[]> {
  const [items, matched] = await Promise.all([findingItems(db), sorted(db, scanId, query).execute()]);
  const ids = matched.map((r) => r.id).filter((id) => !query.state || stateOf(items.get(id)) === query.state);
  const detailed = await detailsOf(db, scanId, ids, items);
  return detailed.map((d) => ({ finding: d.finding, state: d.row.state }));
}
