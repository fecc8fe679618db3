/**
 * The review loop run by `dormant serve`: scan → plan → evidence → Jira ticket → Slack
 * review; apply what was approved (and deletions now due); expire requests nobody answered;
 * reflect every decision in Slack and Jira. Cycles run one at a time, so a shutdown can wait
 * for the current one to finish its step.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { apply } from '../engine/apply.js';
import { decide } from '../engine/decide.js';
import { partialScanError, scan } from '../engine/scan.js';
import { storePlan } from '../engine/storePlan.js';
import { DormantError } from '../errors.js';
import type { Evidence } from '../model/evidence.js';
import type { PlanItem } from '../model/plan.js';
import { refOf } from '../engine/recheck.js';
import type { ActionDescriber, RemediationProvider, ScanProvider } from '../providers/provider.js';
import type { ProviderName } from '../model/identity.js';
import { getItem, plansWithApprovedItems } from '../store/plans.js';
import {
  type ReviewView,
  expiredRequests,
  markRequested,
  reviewViews,
  saveEvidence,
  unrequestedItems,
} from '../store/review.js';
import type { Store } from '../store/store.js';

export type Outcome = 'done' | 'skipped' | 'failed' | 'approved' | 'denied';

/** Slack (or any chat) review channel. */
export interface ReviewNotifier {
  requestReview(planId: string, views: ReviewView[], ticketUrl: string | null): Promise<unknown>;
  refreshMessages(): Promise<unknown>;
  notifyOwners?(views: ReviewView[], disableDate: string): Promise<unknown>;
}

/** Jira (or any tracker) record of the review. */
export interface TicketTracker {
  ensureTicket(planId: string, views: ReviewView[]): Promise<{ key: string; url: string }[]>;
  recordOutcome(item: PlanItem, outcome: Outcome, detail: string | null): Promise<unknown>;
}

export type EvidenceSource = (item: PlanItem) => Promise<Evidence>;

export interface ServiceDeps {
  store: Store;
  config: Config;
  /** Every provider the service scans. */
  scanners: ScanProvider[];
  /** Their remediation side, for apply and evidence. */
  remediation: RemediationProvider[];
  /** Plan sentences per provider (default: the registry's). */
  describers?: Partial<Record<ProviderName, ActionDescriber>>;
  slack: ReviewNotifier | null;
  jira: TicketTracker | null;
  /** Evidence per item; null for none. `providerEvidence(remediation)` asks each item's provider. */
  evidence: EvidenceSource | null;
  log: Logger;
  now?: () => Date;
}

export const SERVICE_ACTOR = 'dormant-service';

/** What one review step did: the plan it stored (null: nothing new, none stored) and its items. */
export interface ReviewResult {
  planId: string | null;
  items: number;
}

/** What one apply step did, over every plan with approved items. */
export interface ApplyResult {
  applied: number;
  skipped: number;
  failed: number;
  /** One line per failed item and per plan a guard or a lock refused (logged and audited). */
  problems: string[];
}

/** One whole cycle: review, then apply (`cycle()`). */
export type CycleResult = ReviewResult & ApplyResult;

/** Evidence from the provider each item belongs to (DESIGN §1: evidence through the provider contract). */
export function providerEvidence(remediation: RemediationProvider[]): EvidenceSource {
  return async (item) => {
    const provider = remediation.find((p) => p.provider === item.provider);
    return provider ? provider.evidence(refOf(item)) : [];
  };
}

export class ReviewService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();
  private lastCycleError: string | null = null;

  constructor(private readonly deps: ServiceDeps) {}

  get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  get health(): { lastCycleError: string | null } {
    return { lastCycleError: this.lastCycleError };
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Run cycles one at a time; a failing cycle is logged and does not stop the service. */
  run(name: string, fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.stopping) return;
      try {
        await fn();
        this.lastCycleError = null;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.lastCycleError = `${name}: ${message}`;
        this.deps.log.error(`${name} failed: ${message}`);
      }
    });
    this.queue = next;
    return next;
  }

  /** Wait for the running cycle to finish (the current apply item completes), then stop. */
  async shutdown(): Promise<void> {
    this.abort.abort();
    await this.queue.catch(() => undefined);
  }

  reviewTick(): Promise<void> {
    return this.run('review cycle', async () => {
      await this.expire();
      await this.review();
      await this.sync();
    });
  }

  applyTick(): Promise<void> {
    return this.run('apply cycle', async () => {
      await this.applyApproved();
      await this.sync();
    });
  }

  /**
   * Both scheduled steps once, in order, with errors thrown rather than logged: what a caller
   * that runs one cycle per invocation (the Lambda, src/lambda/handler.ts) needs.
   */
  async cycle(): Promise<CycleResult> {
    await this.expire();
    // A review that fails (a partial scan, throttling) must not hold back what people already
    // approved: apply re-checks every item live anyway. The review's error is thrown after.
    let reviewed: ReviewResult = { planId: null, items: 0 };
    let reviewError: unknown = null;
    try {
      reviewed = await this.review();
    } catch (err) {
      reviewError = err;
      this.deps.log.error(`review failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const applied = await this.applyApproved();
    await this.sync();
    if (reviewError) throw reviewError;
    return { ...reviewed, ...applied };
  }

  /** Scan, plan, collect evidence, then ask for review of every item not yet asked about. */
  async review(): Promise<ReviewResult> {
    const { store, config, log } = this.deps;
    const now = this.now();
    const result = await scan(this.deps.scanners, { config, now });
    for (const w of result.warnings) log.warn(w);
    // A partial inventory is never planned from as if it were whole (DESIGN §3).
    for (const f of result.failures ?? [])
      log.warn(`partial scan: ${f.provider} ${f.account} could not be read: ${f.reason}`);
    const partial = partialScanError(result, config.serve.allowPartial, 'set serve.allowPartial: true');
    if (partial) throw partial;
    const { plan, notes } = await storePlan(store, result, config, SERVICE_ACTOR, now, {
      keepEmpty: false,
      ...(this.deps.describers ? { describers: this.deps.describers } : {}),
    });
    for (const n of notes) log.info(n);
    const stored = plan.items.length > 0 ? '' : ' (nothing new: no plan stored)';
    log.info(`plan ${plan.id}: ${plan.items.length} new item(s) from ${result.summary.findings} finding(s)${stored}`);

    for (const item of plan.items) {
      if (this.deps.evidence && item.action !== 'notify')
        await saveEvidence(store.db, item.id, await this.deps.evidence(item));
    }
    const auto = plan.items.filter((i) => config.review.autoApprove.includes(i.action));
    if (auto.length > 0) {
      await decide(store, {
        planId: plan.id,
        items: auto.map((i) => i.id),
        all: false,
        decision: 'approve',
        by: `${SERVICE_ACTOR} (review.autoApprove)`,
        reason: `auto-approved by config for ${[...new Set(auto.map((i) => i.action))].join(', ')}`,
        channel: 'config',
        now,
      });
    }

    // Everything pending and never asked about, including items left by a crash or restart.
    const waiting = await unrequestedItems(store.db);
    const byPlan = new Map<string, PlanItem[]>();
    for (const item of waiting) byPlan.set(item.planId, [...(byPlan.get(item.planId) ?? []), item]);
    for (const [planId, items] of byPlan) {
      const views = await reviewViews(store.db, items, config.slack.ownerTag);
      const tickets = this.deps.jira ? await this.deps.jira.ensureTicket(planId, views) : [];
      if (this.deps.slack) {
        if (config.jira.ticketPer === 'item' && tickets.length === views.length && config.slack.batch === 'item') {
          for (let i = 0; i < views.length; i++)
            await this.deps.slack.requestReview(planId, [views[i]!], tickets[i]!.url);
        } else {
          await this.deps.slack.requestReview(planId, views, tickets[0]?.url ?? null);
        }
        if (config.slack.notifyOwners && this.deps.slack.notifyOwners) {
          const date = new Date(now.getTime() + config.review.expireAfterHours * 3_600_000).toISOString().slice(0, 10);
          await this.deps.slack.notifyOwners(views, date);
        }
      }
      await markRequested(
        store.db,
        items.map((i) => i.id),
        now.toISOString(),
      );
    }
    return { planId: plan.items.length > 0 ? plan.id : null, items: plan.items.length };
  }

  /** Requests nobody answered count as denied (no snooze), and are planned and asked again next cycle. */
  async expire(): Promise<void> {
    const { store, config } = this.deps;
    const now = this.now();
    const hours = config.review.expireAfterHours;
    const before = new Date(now.getTime() - hours * 3_600_000).toISOString();
    for (const item of await expiredRequests(store.db, before)) {
      const reason = `no answer within ${hours} hours; it will be asked again next cycle`;
      await decide(store, {
        planId: item.planId,
        items: [item.id],
        all: false,
        decision: 'deny',
        by: `${SERVICE_ACTOR} (expiry)`,
        reason,
        channel: 'expiry',
        now,
      });
      await this.record({ ...item, status: 'denied', reason }, 'denied', reason);
    }
  }

  /** Apply approved items and deletions now due, plan by plan. */
  async applyApproved(): Promise<ApplyResult> {
    const { store, config, log } = this.deps;
    const result: ApplyResult = { applied: 0, skipped: 0, failed: 0, problems: [] };
    for (const planId of await plansWithApprovedItems(store.db)) {
      if (this.stopping) return result;
      try {
        const report = await apply(store, this.deps.remediation, {
          planId,
          config,
          by: SERVICE_ACTOR,
          now: () => this.now(),
          signal: this.abort.signal,
          onEvent: (line) => log.info(`plan ${planId}: ${line}`),
        });
        for (const item of report.done) await this.record(item, 'done', null);
        for (const s of report.skipped) await this.record(s.item, 'skipped', s.reason);
        for (const f of report.failed) await this.record(f.item, 'failed', f.reason);
        result.applied += report.done.length;
        result.skipped += report.skipped.length;
        result.failed += report.failed.length;
        for (const f of report.failed)
          result.problems.push(`plan ${planId}: item ${f.item.seq} (${f.item.identityName}) failed: ${f.reason}`);
      } catch (err) {
        // A guard refusal or a lock held elsewhere stops this plan only; it is logged and audited.
        if (!(err instanceof DormantError)) throw err;
        log.error(`plan ${planId}: ${err.message}`);
        result.problems.push(err.message.includes(planId) ? err.message : `plan ${planId}: ${err.message}`);
        await store.audit(store.db, {
          actor: SERVICE_ACTOR,
          kind: 'apply.refused',
          planId,
          detail: { reason: err.message },
        });
      }
    }
    return result;
  }

  /**
   * Record an outcome in the tracker. A tracker failure must not undo or hide the change
   * already made in AWS: it is logged and audited, and the journal stays the source of truth.
   */
  private async record(item: PlanItem, outcome: Outcome, detail: string | null): Promise<void> {
    if (!this.deps.jira) return;
    try {
      const result = (await this.deps.jira.recordOutcome(item, outcome, detail)) as { warnings?: string[] } | undefined;
      for (const w of result?.warnings ?? []) this.deps.log.warn(`jira: ${w}`);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.deps.log.error(`jira: could not record ${outcome} of item ${item.seq} (${item.identityName}): ${reason}`);
      await this.deps.store.audit(this.deps.store.db, {
        actor: SERVICE_ACTOR,
        kind: 'jira.failed',
        planId: item.planId,
        itemId: item.id,
        detail: { outcome, reason },
      });
    }
  }

  /** Reflect decisions made anywhere (CLI, Jira, Slack) in the Slack messages. */
  async sync(): Promise<void> {
    await this.deps.slack?.refreshMessages();
  }

  /** After a Slack decision: record it in Jira and refresh messages. */
  async afterDecision(itemId: string, before: PlanItem | null): Promise<void> {
    const after = await getItem(this.deps.store.db, itemId);
    if (!after || !before || after.status === before.status) return;
    if (after.status === 'approved' || after.status === 'denied') {
      await this.record(after, after.status, after.reason);
    }
  }
}
