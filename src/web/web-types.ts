/**
 * The dashboard's shared types: who is signed in (set by the platform middleware) and what the
 * pages need from the rest of dormant.
 */
import type { RestoreReport } from '../model/backup.js';
import type { PlanItem } from '../model/plan.js';
import type { Store } from '../store/store.js';

export interface WebUser {
  email: string;
  groups: string[];
  /** An approver (may approve, deny, snooze, restore); viewers only read. */
  canDecide: boolean;
  /** Who decisions are recorded as: 'web:EMAIL'. */
  actor: string;
  /** This session's CSRF token: every form carries it as the hidden input `_csrf`. */
  csrf: string;
}

export type WebEnv = { Variables: { user: WebUser } };

export interface PageDeps {
  store: Store;
  now: () => Date;
  /** Present in serve (providers open); absent in `dormant ui` without cloud sessions → the page says to run `dormant restore`. */
  restore?: (backupId: string, by: string) => Promise<RestoreReport>;
  /** Called after every decision (serve: ReviewService.afterDecision(itemId, before) updates Slack/Jira). */
  afterDecision?: (itemId: string, before: PlanItem | null) => Promise<void>;
}
