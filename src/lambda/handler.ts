/**
 * The scheduled Lambda (DESIGN §10): each EventBridge invocation runs one cycle of what
 * `dormant serve` runs on its schedules — `ReviewService.cycle()`: expire unanswered requests,
 * scan → plan → evidence → review requests, apply what was approved, sync — against a
 * PostgreSQL store, and returns a summary. A failure is thrown as one line, so Lambda marks
 * the invocation failed. `npm run package:lambda` bundles this file into dist-lambda/.
 */
import type { Logger } from 'pino';
import { createLogger } from '../cli/log.js';
import type { Config } from '../config/config.js';
import { DormantError, EXIT, UsageError } from '../errors.js';
import type { ProviderSession } from '../providers/provider.js';
import { openProviders, selectProviders } from '../providers/registry.js';
import { Store } from '../store/store.js';
import { type CycleResult, ReviewService, providerEvidence } from '../workflow/service.js';
import { lambdaConfig } from './lambda-config.js';

// The SDK's advisory about its future Node support is noise on every invocation (as in the CLI).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** What the invocation returns (and logs as one line). */
export interface CycleSummary {
  /** The plan this cycle stored; null when the scan found nothing new. */
  planId: string | null;
  /** Items in that plan. */
  items: number;
  /** Items applied, skipped (the live re-check said no) and failed, over every plan with approved items. */
  applied: number;
  skipped: number;
  failed: number;
  durationMs: number;
}

/** The fields of an EventBridge scheduled event that are logged; any other event runs a cycle too. */
export interface ScheduledEvent {
  'detail-type'?: string;
  source?: string;
  time?: string;
  resources?: string[];
}

/**
 * A failed invocation: the one-line message the CLI would print, named after the error
 * (`UsageError`, `CloudError`, `StoreError`, `GuardError`, `ApplyError`, `InternalError`), with
 * the CLI's exit code. No stack: Lambda logs the error as it is, and the line is the message.
 */
export class CycleError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    name: string,
  ) {
    super(message);
    this.name = name;
    this.stack = `${name}: ${message}`;
  }
}

/** The error line names this many problems; the log and the store's audit events have them all. */
const MAX_PROBLEMS_SHOWN = 5;

export async function handler(event?: unknown): Promise<CycleSummary> {
  const started = performance.now();
  const log = createLogger({});
  const trigger = describeEvent(event);
  log.info(`review cycle started${trigger}`);
  let result: CycleResult;
  try {
    result = await runCycle(lambdaConfig(process.env), log);
  } catch (err) {
    throw asCycleError(err, log);
  }
  const { problems, ...counts } = result;
  const summary: CycleSummary = { ...counts, durationMs: Math.round(performance.now() - started) };
  log.info(`review cycle done: ${JSON.stringify(summary)}`);
  if (problems.length > 0) {
    // Like `dormant apply`: a failed item is exit 3, a guard or lock refusal exit 4. The work
    // already done stays done; the message says what to look at.
    const code = result.failed > 0 ? EXIT.cloud : EXIT.guard;
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).join('; ');
    const more = problems.length > MAX_PROBLEMS_SHOWN ? `; and ${problems.length - MAX_PROBLEMS_SHOWN} more` : '';
    throw new CycleError(
      `review cycle: ${problems.length} problem(s) applying approved items: ${shown}${more} (see dormant history)`,
      code,
      'ApplyError',
    );
  }
  return summary;
}

/** The same service `dormant serve` builds, over the same registry, for one cycle. */
async function runCycle(config: Config, log: Logger): Promise<CycleResult> {
  if (config.slack.enabled && (!config.slack.channel || config.slack.approvers.length === 0)) {
    throw new UsageError('slack.enabled needs slack.channel and at least one slack.approvers entry');
  }
  if (config.jira.enabled && (!config.jira.baseUrl || !config.jira.email || !config.jira.project)) {
    throw new UsageError('jira.enabled needs jira.baseUrl, jira.email and jira.project');
  }
  const store = await Store.open(config.store.url);
  let sessions: ProviderSession[] = [];
  try {
    sessions = await openProviders(selectProviders(config), { config });
    const remediation = sessions.map((s) => s.remediation);
    // Loaded only when enabled: a cycle without Slack or Jira does not pay for their clients.
    const slack = config.slack.enabled
      ? (await import('../workflow/slack/slack-review.js')).SlackReview.fromConfig(store, config, {
          log: (line: string) => log.info(line),
        })
      : null;
    const jira = config.jira.enabled
      ? (await import('../workflow/jira/jira-tickets.js')).JiraTickets.fromConfig(store, config)
      : null;
    const service = new ReviewService({
      store,
      config,
      scanners: sessions.map((s) => s.scanner),
      remediation,
      slack,
      jira,
      evidence: providerEvidence(remediation),
      log,
    });
    return await service.cycle();
  } finally {
    for (const s of sessions) s.close();
    await store.close().catch(() => undefined);
  }
}

function describeEvent(event: unknown): string {
  if (typeof event !== 'object' || event === null) return '';
  const e = event as ScheduledEvent;
  if (e['detail-type'] !== 'Scheduled Event') return '';
  const rule = Array.isArray(e.resources) && typeof e.resources[0] === 'string' ? ` by ${e.resources[0]}` : '';
  return ` (scheduled${rule}${typeof e.time === 'string' ? ` for ${e.time}` : ''})`;
}

/** The CLI's error contract (README "Exit codes") as a thrown error; a bug keeps its stack in the log. */
function asCycleError(err: unknown, log: Logger): CycleError {
  if (err instanceof DormantError) return new CycleError(err.message, err.exitCode, err.name);
  const e = err as Error | undefined;
  log.error(`internal error: ${e?.stack ?? String(err)}`);
  const line = (e?.message ?? String(err)).split('\n')[0];
  return new CycleError(`internal error: ${line} (please report it with the stack logged above)`, 70, 'InternalError');
}
