/**
 * Versioned migrations, run automatically when the store opens. Never edit a shipped
 * migration; add the next one.
 */
import { type Kysely, type Migration, type MigrationProvider, PostgresAdapter, sql } from 'kysely';

type AnyDb = Kysely<unknown>;

function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** An auto-incrementing integer key in either engine. */
function serial(db: AnyDb) {
  return isPostgres(db) ? ('serial' as const) : ('integer' as const);
}

const m0001: Migration = {
  async up(db: AnyDb) {
    const pg = isPostgres(db);
    const autoKey = <T extends { primaryKey(): T; autoIncrement(): T }>(c: T): T =>
      pg ? c.primaryKey() : c.primaryKey().autoIncrement();
    await db.schema
      .createTable('scans')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('accounts', 'text', (c) => c.notNull())
      .addColumn('inactive_days', 'integer', (c) => c.notNull())
      .addColumn('summary', 'text', (c) => c.notNull())
      .addColumn('warnings', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('identity_snapshots')
      .addColumn('scan_id', 'text', (c) => c.notNull().references('scans.id'))
      .addColumn('identity_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('identity_snapshots_pk', ['scan_id', 'identity_id'])
      .execute();
    await db.schema
      .createTable('findings')
      .addColumn('scan_id', 'text', (c) => c.notNull().references('scans.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('identity_id', 'text', (c) => c.notNull())
      .addColumn('identity_name', 'text', (c) => c.notNull())
      .addColumn('credential_id', 'text')
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('findings_pk', ['scan_id', 'id'])
      .execute();
    await db.schema
      .createTable('plans')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('scan_id', 'text', (c) => c.notNull().references('scans.id'))
      .addColumn('inventory_size', 'integer', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('plan_items')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('identity_id', 'text', (c) => c.notNull())
      .addColumn('identity_name', 'text', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('credential_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('rule_ids', 'text', (c) => c.notNull())
      .addColumn('finding_ids', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('not_before', 'text', (c) => c.notNull())
      .addColumn('depends_on', 'text')
      .addColumn('sentence', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('evidence', 'text')
      .addColumn('decided_by', 'text')
      .addColumn('decided_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('plan_items_plan_seq', ['plan_id', 'seq'])
      .execute();
    await db.schema.createIndex('plan_items_identity').on('plan_items').columns(['identity_id', 'status']).execute();
    await db.schema
      .createTable('approvals')
      .addColumn('id', serial(db), autoKey)
      .addColumn('plan_id', 'text', (c) => c.notNull())
      .addColumn('item_id', 'text', (c) => c.notNull())
      .addColumn('decision', 'text', (c) => c.notNull())
      .addColumn('decided_by', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('snooze_until', 'text')
      .addColumn('identity_id', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('approvals_identity')
      .on('approvals')
      .columns(['identity_id', 'snooze_until'])
      .execute();
    await db.schema
      .createTable('journal')
      .addColumn('id', serial(db), autoKey)
      .addColumn('plan_id', 'text', (c) => c.notNull())
      .addColumn('item_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('phase', 'text', (c) => c.notNull())
      .addColumn('status', 'text')
      .addColumn('detail', 'text')
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('journal_item').on('journal').columns(['item_id', 'id']).execute();
    await db.schema
      .createTable('backups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('identity_id', 'text', (c) => c.notNull())
      .addColumn('identity_name', 'text', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('plan_id', 'text')
      .addColumn('item_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('backups_name').on('backups').columns(['identity_name', 'created_at']).execute();
    await db.schema
      .createTable('audit_events')
      .addColumn('id', serial(db), autoKey)
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('plan_id', 'text')
      .addColumn('item_id', 'text')
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('locks')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('acquired_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
  },
};

/** The review workflow: Slack messages, Jira tickets, owner notifications, review requests. */
const m0002: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('plan_items').addColumn('requested_at', 'text').execute();
    await db.schema
      .createTable('review_messages')
      .addColumn('item_id', 'text', (c) => c.primaryKey())
      .addColumn('plan_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('ts', 'text', (c) => c.notNull())
      .addColumn('rendered_status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('tickets')
      .addColumn('scope', 'text', (c) => c.primaryKey())
      .addColumn('plan_id', 'text', (c) => c.notNull())
      .addColumn('item_id', 'text')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('last_status', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('owner_notifications')
      .addColumn('item_id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('slack_user', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * Providers (DESIGN §5): every row that names an identity names its provider and account.
 * Rows written before there was more than one provider are AWS's.
 */
const m0003: Migration = {
  async up(db: AnyDb) {
    for (const table of ['identity_snapshots', 'findings', 'plan_items', 'approvals', 'backups']) {
      await db.schema
        .alterTable(table)
        .addColumn('provider', 'text', (c) => c.notNull().defaultTo('aws'))
        .execute();
    }
    await db.schema
      .alterTable('findings')
      .addColumn('account', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema
      .alterTable('approvals')
      .addColumn('account', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
  },
};

/**
 * The dashboard (DESIGN §9): its findings table sorts, filters and counts one scan's findings
 * on every page view. Covering indexes keep that to index reads, whatever the size of `data`;
 * the sort expressions are the ones store/dashboard.ts orders by (they must stay identical).
 */
const m0004: Migration = {
  async up(db: AnyDb) {
    // json, not jsonb: json accepts every string JSON.stringify writes (jsonb refuses \u0000).
    const days = isPostgres(db)
      ? sql`coalesce(((data::json)->>'daysSinceActivity')::numeric, 1000000)`
      : sql`coalesce(json_extract(data, '$.daysSinceActivity'), 1000000)`;
    const rank = sql`case severity when 'high' then 3 when 'medium' then 2 else 1 end`;
    const rest = sql`identity_name, id, provider, account, rule_id, severity`;
    await sql`create index findings_dashboard_rank on findings (scan_id, (${rank}), ${rest})`.execute(db);
    await sql`create index findings_dashboard_days on findings (scan_id, (${days}), ${rest})`.execute(db);
    await sql`create index findings_dashboard_facets on findings (scan_id, provider, account, rule_id, severity, identity_name, id)`.execute(
      db,
    );
  },
};

/**
 * Organization runs shared with workers (DESIGN §8): a run's settings, and one outcome per
 * (run, account). The primary key is what makes a retried job never count twice.
 */
const m0005: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('org_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('org_results')
      .addColumn('run_id', 'text', (c) => c.notNull().references('org_runs.id'))
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('worker', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('org_results_pk', ['run_id', 'account'])
      .execute();
  },
};

export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_review': m0002,
  '0003_providers': m0003,
  '0004_dashboard_indexes': m0004,
  '0005_org_runs': m0005,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};
