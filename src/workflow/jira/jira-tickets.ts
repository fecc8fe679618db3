/**
 * Jira review tickets: one per plan (or per item), created with the evidence in ADF, commented
 * on as items are decided and applied, and moved through the configured transitions.
 *
 * Idempotent: the store is asked first; then, to survive a crash between creating an issue and
 * saving it, Jira is searched for the scope's label (every created issue carries it) before
 * anything is created. The API token is never put in a message, a log line or the store.
 */
import { HttpException, Version3Client, type Version3Models } from 'jira.js';
import type { Config } from '../../config/config.js';
import { CloudError, UsageError } from '../../errors.js';
import type { ItemStatus, PlanItem } from '../../model/plan.js';
import { getPlan } from '../../store/plans.js';
import { type ReviewView, type Ticket, getTicket, saveTicket } from '../../store/review.js';
import type { Store } from '../../store/store.js';
import { readSecret } from '../secrets.js';
import { type JiraOutcome, outcomeComment, planDescription } from './jira-adf.js';

export type JiraSettings = Config['jira'];

/** The configured transitions: which one an outcome moves the ticket through. */
export type TransitionKey = 'approved' | 'done' | 'denied';

export interface TicketRef {
  key: string;
  url: string;
}

export interface OutcomeRecord {
  /** The ticket commented on, or null when no ticket covers the item. */
  key: string | null;
  commentId: string | null;
  /** The configured transition applied (its name in Jira), if any. */
  transitioned: string | null;
  /** Non-fatal problems: no ticket, a transition not available on the issue. */
  warnings: string[];
}

/** Item statuses after which nothing more happens to the item. */
const FINISHED: ReadonlySet<ItemStatus> = new Set(['done', 'skipped', 'failed', 'denied']);

/** How far along a ticket is: it only ever moves forward. */
const RANK: Record<string, number> = { approved: 1, done: 2, denied: 2 };

const MAX_SUMMARY = 255;

export function planScope(planId: string): string {
  return `plan:${planId}`;
}

export function itemScope(itemId: string): string {
  return `item:${itemId}`;
}

/** The label that finds a scope's issue again: `dormant-plan-pl-…` / `dormant-item-pl-…-3`. */
export function scopeLabel(scope: string): string {
  return `dormant-${scope.replace(/:/g, '-')}`.replace(/\s+/g, '_').slice(0, 255);
}

function jqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

export class JiraTickets {
  // ES private: the client holds the token, and neither shows in JSON.stringify or util.inspect.
  readonly #client: Version3Client;
  readonly #secret: string | null;
  private readonly baseUrl: string;

  constructor(
    private readonly store: Store,
    private readonly settings: JiraSettings,
    client: Version3Client,
    /** The API token, only to scrub it from any message (never stored or printed). */
    secret: string | null = null,
  ) {
    this.#client = client;
    if (!settings.baseUrl)
      throw new UsageError('jira.baseUrl is not set; set it to your site, e.g. https://example.atlassian.net');
    if (!settings.project)
      throw new UsageError('jira.project is not set; set it to the key of the project for review tickets');
    this.baseUrl = settings.baseUrl.replace(/\/+$/, '');
    this.#secret = secret;
  }

  /** Build from the config: the API token is read from its environment variable or file. */
  static fromConfig(store: Store, config: Config): JiraTickets {
    const j = config.jira;
    if (!j.baseUrl)
      throw new UsageError('jira.baseUrl is not set; set it to your site, e.g. https://example.atlassian.net');
    if (!j.email)
      throw new UsageError('jira.email is not set; set it to the Atlassian account the API token belongs to');
    if (!j.project)
      throw new UsageError('jira.project is not set; set it to the key of the project for review tickets');
    const apiToken = readSecret(j.apiToken, 'Jira API token', 'jira.apiToken');
    const client = new Version3Client({
      host: j.baseUrl.replace(/\/+$/, ''),
      authentication: { basic: { email: j.email, apiToken } },
      baseRequestConfig: { timeout: 30_000 },
    });
    return new JiraTickets(store, j, client, apiToken);
  }

  /** The browse link of an issue. */
  urlFor(key: string): string {
    return `${this.baseUrl}/browse/${key}`;
  }

  /**
   * The review ticket(s) for these items: one for the plan, or one per item (in `views`
   * order). Existing tickets are reused; none is ever created twice for a scope.
   */
  async ensureTicket(planId: string, views: ReviewView[]): Promise<TicketRef[]> {
    if (views.length === 0) return [];
    if (this.settings.ticketPer === 'plan') {
      return [await this.ensureScope(planScope(planId), planId, null, views)];
    }
    const out: TicketRef[] = [];
    for (const view of views) out.push(await this.ensureScope(itemScope(view.item.id), planId, view.item.id, [view]));
    return out;
  }

  /**
   * Record what happened to an item on the ticket that covers it: a comment, then the
   * configured transition when it applies. A transition Jira does not offer is a warning.
   */
  async recordOutcome(item: PlanItem, outcome: JiraOutcome, detail: string | null): Promise<OutcomeRecord> {
    const ticket = await this.ticketFor(item);
    if (!ticket) {
      return {
        key: null,
        commentId: null,
        transitioned: null,
        warnings: [
          `no Jira ticket covers item #${item.seq} of plan ${item.planId}; outcome '${outcome}' not recorded in Jira`,
        ],
      };
    }
    const comment = await this.call('adding a comment', () =>
      this.#client.issueComments.addComment({
        issueIdOrKey: ticket.key,
        comment: outcomeComment(item, outcome, detail) as Version3Models.Document,
      }),
    );
    const record: OutcomeRecord = { key: ticket.key, commentId: comment.id ?? null, transitioned: null, warnings: [] };
    const target = await this.targetFor(ticket, item, outcome);
    if (target === null) return record;
    const name = this.settings.transitions[target];
    if (!name) return record;
    const { transitions = [] } = await this.call('reading transitions', () =>
      this.#client.issues.getTransitions({ issueIdOrKey: ticket.key }),
    );
    const wanted = name.toLowerCase();
    const match =
      transitions.find((t) => t.name?.toLowerCase() === wanted) ??
      transitions.find((t) => t.to?.name?.toLowerCase() === wanted);
    if (!match?.id) {
      const offered = transitions.map((t) => `'${t.name ?? t.id ?? '?'}'`).join(', ') || 'none';
      record.warnings.push(
        `Jira transition '${name}' is not available on ${ticket.key} (offered: ${offered}); check jira.transitions.${target} or the project's workflow`,
      );
      return record;
    }
    await this.call(`moving ${ticket.key} through '${name}'`, () =>
      this.#client.issues.doTransition({ issueIdOrKey: ticket.key, transition: { id: match.id } }),
    );
    await saveTicket(this.store.db, { ...ticket, lastStatus: target });
    record.transitioned = match.name ?? name;
    return record;
  }

  // ---------------------------------------------------------------- tickets

  private async ensureScope(
    scope: string,
    planId: string,
    itemId: string | null,
    views: ReviewView[],
  ): Promise<TicketRef> {
    const saved = await getTicket(this.store.db, scope);
    if (saved) return { key: saved.key, url: saved.url };
    const label = scopeLabel(scope);
    const key = (await this.findByLabel(label)) ?? (await this.create(planId, itemId, views, label));
    const url = this.urlFor(key);
    await saveTicket(this.store.db, { scope, planId, itemId, key, url, lastStatus: null });
    return { key, url };
  }

  private async findByLabel(label: string): Promise<string | null> {
    const jql = `project = ${jqlString(this.settings.project!)} AND labels = ${jqlString(label)} ORDER BY created ASC`;
    const result = await this.call('searching for an existing ticket', () =>
      this.#client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql, maxResults: 1, fields: ['labels'] }),
    );
    return result.issues?.[0]?.key ?? null;
  }

  private async create(planId: string, itemId: string | null, views: ReviewView[], label: string): Promise<string> {
    const first = views[0]!;
    const identities = new Set(views.map((v) => v.item.identityId)).size;
    const summary =
      itemId === null
        ? `dormant: review ${identities} inactive IAM ${identities === 1 ? 'identity' : 'identities'} (plan ${planId})`
        : `dormant: review inactive IAM identity ${first.item.identityName}: ${first.item.action} (plan ${planId}, item #${first.item.seq})`;
    const created = await this.call(`creating an issue in project ${this.settings.project}`, () =>
      this.#client.issues.createIssue({
        fields: {
          project: { key: this.settings.project! },
          issuetype: { name: this.settings.issueType },
          summary: clip(summary, MAX_SUMMARY),
          description: planDescription(planId, views) as Version3Models.Document,
          labels: ['dormant', label],
        },
      }),
    );
    return created.key;
  }

  /** The ticket covering an item: its own, else its plan's (the setting may have changed). */
  private async ticketFor(item: PlanItem): Promise<Ticket | null> {
    const scopes =
      this.settings.ticketPer === 'item'
        ? [itemScope(item.id), planScope(item.planId)]
        : [planScope(item.planId), itemScope(item.id)];
    for (const scope of scopes) {
      const t = await getTicket(this.store.db, scope);
      if (t) return t;
    }
    return null;
  }

  /**
   * Which configured transition an outcome calls for, if any. A ticket only moves forward.
   * Item tickets follow their item; a plan ticket is approved with its first approval, and
   * done only when every item is finished (denied when every item was denied).
   */
  private async targetFor(ticket: Ticket, item: PlanItem, outcome: JiraOutcome): Promise<TransitionKey | null> {
    let target: TransitionKey | null;
    if (outcome === 'approved') target = 'approved';
    else if (ticket.itemId !== null) target = outcome === 'denied' ? 'denied' : 'done';
    else {
      const plan = await getPlan(this.store.db, ticket.planId);
      const statuses = (plan?.items ?? [item]).map((i) => (i.id === item.id ? outcome : i.status));
      if (!statuses.includes(outcome)) statuses.push(outcome);
      if (!statuses.every((s) => FINISHED.has(s))) return null;
      target = statuses.every((s) => s === 'denied') ? 'denied' : 'done';
    }
    const current = ticket.lastStatus ? (RANK[ticket.lastStatus] ?? 0) : 0;
    return RANK[target]! > current ? target : null;
  }

  // ---------------------------------------------------------------- errors

  /** Run one Jira call; any failure becomes a one-line CloudError naming Jira and the fix. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.describe(err, what);
    }
  }

  private describe(err: unknown, what: string): CloudError {
    const s = this.settings;
    const tokenWhere = s.apiToken.file ? `the file ${s.apiToken.file}` : `$${s.apiToken.env}`;
    const http = httpFailure(err);
    let message: string;
    let code = 'JiraError';
    if (http?.status === 401) {
      code = 'JiraAuth';
      message =
        `Jira rejected the credentials of ${s.email ?? 'the configured account'} at ${this.baseUrl} (HTTP 401) while ${what}; ` +
        `check jira.email and the API token in ${tokenWhere} (create one at https://id.atlassian.com/manage-profile/security/api-tokens)`;
    } else if (http?.status === 403) {
      code = 'JiraAuth';
      message =
        `Jira denied ${s.email ?? 'the configured account'} permission at ${this.baseUrl} (HTTP 403) while ${what}; ` +
        `give it Browse, Create issues, Add comments and Transition issues in project ${s.project}, or check jira.email and the API token in ${tokenWhere}`;
    } else if (http) {
      const detail = http.detail ? `: ${clip(http.detail, 300)}` : '';
      message =
        `Jira answered HTTP ${http.status} at ${this.baseUrl} while ${what}${detail}; ` +
        `check jira.project, jira.issueType and jira.transitions`;
    } else {
      const errCode = (err as { code?: unknown } | null)?.code;
      const why = typeof errCode === 'string' && errCode ? errCode : 'no answer';
      message = `cannot reach Jira at ${this.baseUrl} (${why}) while ${what}; check jira.baseUrl and the network`;
    }
    return new CloudError(this.scrub(oneLine(message)), code);
  }

  private scrub(message: string): string {
    let out = message.replace(/Basic\s+[A-Za-z0-9+/=]{8,}/g, 'Basic ***');
    if (this.#secret) out = out.split(this.#secret).join('***');
    return out;
  }
}

/** The HTTP status and Jira's error text of a failed call, or null when there was no answer. */
function httpFailure(err: unknown): { status: number; detail: string } | null {
  if (!(err instanceof HttpException)) return null;
  const response = err.response;
  if (typeof response !== 'object' || response === null || !('data' in response)) return null;
  const status = typeof response.status === 'number' ? response.status : err.status;
  return { status, detail: jiraErrorText(response.data) };
}

/** `{ errorMessages: [...], errors: { field: msg } }` as one line. */
function jiraErrorText(data: unknown): string {
  if (typeof data === 'string') return oneLine(data.replace(/<[^>]*>/g, ' '));
  if (typeof data !== 'object' || data === null) return '';
  const body = data as { errorMessages?: unknown; errors?: unknown; message?: unknown };
  const parts: string[] = [];
  if (Array.isArray(body.errorMessages))
    parts.push(...body.errorMessages.filter((m): m is string => typeof m === 'string'));
  if (typeof body.errors === 'object' && body.errors !== null) {
    for (const [field, msg] of Object.entries(body.errors)) parts.push(`${field}: ${String(msg)}`);
  }
  if (parts.length === 0 && typeof body.message === 'string') parts.push(body.message);
  return oneLine(parts.join('; '));
}
