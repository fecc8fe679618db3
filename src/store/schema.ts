/**
 * Table types for the store. Timestamps are ISO 8601 UTC text and structured data is JSON
 * text, so one schema serves SQLite and PostgreSQL alike.
 */
import type { Generated } from 'kysely';

export interface ScansTable {
  id: string;
  created_at: string;
  source: string;
  accounts: string;
  inactive_days: number;
  summary: string;
  warnings: string;
}

export interface IdentitySnapshotsTable {
  scan_id: string;
  provider: Generated<string>;
  identity_id: string;
  name: string;
  account: string;
  state: string;
  data: string;
}

export interface FindingsTable {
  scan_id: string;
  provider: Generated<string>;
  account: Generated<string>;
  id: string;
  rule_id: string;
  identity_id: string;
  identity_name: string;
  credential_id: string | null;
  severity: string;
  message: string;
  data: string;
}

export interface PlansTable {
  id: string;
  created_at: string;
  scan_id: string;
  inventory_size: number;
  created_by: string;
  settings: string;
}

export type ItemStatus = 'pending' | 'approved' | 'denied' | 'done' | 'skipped' | 'failed';

export interface PlanItemsTable {
  id: string;
  plan_id: string;
  seq: number;
  provider: Generated<string>;
  identity_id: string;
  identity_name: string;
  account: string;
  credential_id: string | null;
  action: string;
  rule_ids: string;
  finding_ids: string;
  status: ItemStatus;
  not_before: string;
  depends_on: string | null;
  sentence: string;
  reason: string | null;
  evidence: string | null;
  decided_by: string | null;
  decided_at: string | null;
  updated_at: string;
  /** When a review was requested (Slack/Jira); unanswered requests expire. */
  requested_at: string | null;
}

export interface ReviewMessagesTable {
  item_id: string;
  plan_id: string;
  channel: string;
  ts: string;
  /** The item status the message last showed, to update it when a decision is made elsewhere. */
  rendered_status: string;
  created_at: string;
  updated_at: string;
}

export interface TicketsTable {
  /** `plan:<id>` or `item:<id>`. */
  scope: string;
  plan_id: string;
  item_id: string | null;
  key: string;
  url: string;
  last_status: string | null;
  created_at: string;
}

export interface OwnerNotificationsTable {
  item_id: string;
  email: string;
  slack_user: string | null;
  status: string;
  at: string;
}

export interface ApprovalsTable {
  id: Generated<number>;
  plan_id: string;
  item_id: string;
  decision: 'approve' | 'deny';
  decided_by: string;
  reason: string | null;
  channel: string;
  snooze_until: string | null;
  provider: Generated<string>;
  account: Generated<string>;
  identity_id: string;
  at: string;
}

export interface JournalTable {
  id: Generated<number>;
  plan_id: string;
  item_id: string;
  run_id: string;
  step: string;
  phase: 'intent' | 'outcome';
  status: string | null;
  detail: string | null;
  at: string;
}

export interface BackupsTable {
  id: string;
  provider: Generated<string>;
  identity_id: string;
  identity_name: string;
  account: string;
  plan_id: string | null;
  item_id: string | null;
  created_at: string;
  data: string;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor: string;
  kind: string;
  plan_id: string | null;
  item_id: string | null;
  detail: string;
}

export interface LocksTable {
  name: string;
  owner: string;
  host: string;
  pid: number;
  acquired_at: string;
  expires_at: string;
}

export interface Database {
  scans: ScansTable;
  identity_snapshots: IdentitySnapshotsTable;
  findings: FindingsTable;
  plans: PlansTable;
  plan_items: PlanItemsTable;
  approvals: ApprovalsTable;
  journal: JournalTable;
  backups: BackupsTable;
  audit_events: AuditEventsTable;
  locks: LocksTable;
  review_messages: ReviewMessagesTable;
  tickets: TicketsTable;
  owner_notifications: OwnerNotificationsTable;
  org_runs: OrgRunsTable;
  org_results: OrgResultsTable;
}

/** An Organization run shared with workers: what every worker must scan with. */
export interface OrgRunsTable {
  id: string;
  created_at: string;
  provider: string;
  /** JSON: OrgRunSettings (store/org-runs.ts). */
  settings: string;
}

/** One account's outcome in a run: a one-account scan document, or the account's failure. */
export interface OrgResultsTable {
  run_id: string;
  account: string;
  /** JSON: AccountOutcome (engine/org-scan.ts). */
  outcome: string;
  worker: string;
  finished_at: string;
}
