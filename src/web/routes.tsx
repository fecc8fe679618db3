/**
 * The dashboard's pages and their handlers, registered on the platform's app (web-app.ts),
 * which has already checked the session, the CSRF token of every POST and who may decide.
 * Query strings and form bodies are validated here with zod; decisions go through the
 * engine's decide() like every other channel, recorded as `web:EMAIL` on channel 'web'.
 */
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { parseConfig } from '../config/config.js';
import { decide } from '../engine/decide.js';
import { DormantError } from '../errors.js';
import type { PlanItem } from '../model/plan.js';
import type { ActionDescriber } from '../providers/provider.js';
import { describersFor } from '../providers/registry.js';
import {
  FINDING_SORTS,
  FINDING_STATES,
  type FindingQuery,
  findingsExport,
  findingsPage,
  findingsTrend,
  latestScan,
  overviewCounts,
  scanCounts,
} from '../store/dashboard.js';
import { HISTORY_KINDS, auditFacets, auditPage, backupRow, backupsPage } from '../store/dashboard-audit.js';
import {
  type PlanItemView,
  identityStory,
  itemsOfPlan,
  latestDecisions,
  planPage,
  plansPage,
} from '../store/dashboard-plans.js';
import { APP_CSS } from './assets/app-css.js';
import { APP_JS } from './assets/app-js.js';
import { BackupsPage, RestoreConfirmPage, RestoreResultPage } from './pages/backups.js';
import { decidedText } from './pages/components.js';
import { findingsCsv, findingsJson } from './pages/findings-export.js';
import { FindingsPage } from './pages/findings.js';
import { AuditPage, HistoryPage } from './pages/history.js';
import { IdentityPage } from './pages/identity.js';
import { errorPage } from './pages/layout.js';
import { OverviewPage } from './pages/overview.js';
import { type DecisionNotice, PlanPage } from './pages/plan.js';
import { PlansPage } from './pages/plans.js';
import type { PageDeps, WebEnv } from './web-types.js';

/** Rows a table page shows at once: big enough to work through, small enough to stay light. */
export const PAGE_SIZE = 100;
/** Plan items carry evidence and controls (about 3 KB each): 50 a page keeps a plan page near 160 KB. */
export const PLAN_PAGE_SIZE = 50;
export const DEFAULT_SNOOZE_DAYS = 30;

type Ctx = Context<WebEnv>;

/** An empty form field or query parameter counts as absent. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());

const pageParam = optional(
  z.coerce.number({ error: 'page must be a whole number from 1' }).int('page must be a whole number from 1').min(1),
);

const findingsQuerySchema = z.object({
  provider: optional(z.string().max(100)),
  account: optional(z.string().max(200)),
  rule: optional(z.string().max(100)),
  severity: optional(z.enum(['high', 'medium', 'low'], { error: 'severity must be high, medium or low' })),
  state: optional(z.enum(FINDING_STATES, { error: `state must be one of ${FINDING_STATES.join(', ')}` })),
  q: optional(z.string().max(200, 'search at most 200 characters')),
  sort: optional(z.enum(FINDING_SORTS, { error: `sort must be one of ${FINDING_SORTS.join(', ')}` })),
  dir: optional(z.enum(['asc', 'desc'], { error: 'dir must be asc or desc' })),
  page: pageParam,
});

const ITEM_STATUSES = ['pending', 'approved', 'denied', 'done', 'skipped', 'failed'] as const;

const planQuerySchema = z.object({
  status: optional(z.enum(ITEM_STATUSES, { error: `status must be one of ${ITEM_STATUSES.join(', ')}` })),
  page: pageParam,
});

const auditQuerySchema = z.object({
  kind: optional(z.string().max(100)),
  actor: optional(z.string().max(300)),
  page: pageParam,
});

const decideSchema = z.object({
  item: z
    .union([z.string(), z.array(z.string())], { error: 'items must be plan item ids' })
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  decision: z.enum(['approve', 'deny', 'snooze'], { error: 'choose Approve, Deny or Snooze' }),
  reason: z
    .string({ error: 'give one reason' })
    .max(500, 'the reason is longer than 500 characters; shorten it')
    .optional()
    .transform((v) => (v && v.trim() !== '' ? v.trim() : null)),
  snoozeDays: optional(
    z.coerce
      .number({ error: 'snooze days must be a whole number from 1 to 3650' })
      .int('snooze days must be a whole number from 1 to 3650')
      .min(1, 'snooze days must be a whole number from 1 to 3650')
      .max(3650, 'snooze days must be a whole number from 1 to 3650'),
  ),
});

/** The first problem zod found, as one sentence. */
function firstIssue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'the request is not valid';
}

function badRequest(c: Ctx, message: string) {
  return errorPage(c, 400, 'Bad request', `${message[0]!.toUpperCase()}${message.slice(1)}.`);
}

function notFound(c: Ctx, message: string) {
  return errorPage(c, 404, 'Not found', message);
}

function forbidden(c: Ctx) {
  return errorPage(
    c,
    403,
    'Not allowed',
    'You are signed in as a viewer: you can look, not decide. Ask to be added to web.approvers.',
  );
}

/** Whether an action cannot be undone by restore, in its provider's words (DESIGN §4). */
function irreversibleCheck(): (view: PlanItemView) => boolean {
  let describers: Partial<Record<string, ActionDescriber>> | null = null;
  return (view) => {
    describers ??= describersFor(parseConfig({}));
    return describers[view.item.provider]?.irreversible(view.item.action, view.kind ?? 'user') ?? false;
  };
}

function toFindingQuery(q: z.infer<typeof findingsQuerySchema>): FindingQuery {
  return {
    provider: q.provider,
    account: q.account,
    rule: q.rule,
    severity: q.severity,
    state: q.state,
    q: q.q,
    sort: q.sort ?? 'severity',
    dir: q.dir ?? (q.sort && q.sort !== 'severity' && q.sort !== 'days' ? 'asc' : 'desc'),
  };
}

export function registerPages(app: Hono<WebEnv>, deps: PageDeps): void {
  const { store } = deps;
  const db = store.db;
  const irreversible = irreversibleCheck();

  app.get('/assets/app.css', (c) =>
    c.body(APP_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }),
  );
  app.get('/assets/app.js', (c) =>
    c.body(APP_JS, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    }),
  );

  app.get('/', async (c) => {
    const scan = await latestScan(db);
    const [counts, trend] = await Promise.all([overviewCounts(db, scan?.id ?? null), findingsTrend(db)]);
    return c.html(<OverviewPage user={c.get('user')} now={deps.now()} scan={scan} counts={counts} trend={trend} />);
  });

  const findingsQuery = (c: Ctx) => findingsQuerySchema.safeParse(c.req.query());

  app.get('/findings', async (c) => {
    const parsed = findingsQuery(c);
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    const query = toFindingQuery(parsed.data);
    const scan = await latestScan(db);
    const [counts, page] = scan
      ? await Promise.all([scanCounts(db, scan.id), findingsPage(db, scan.id, query, parsed.data.page ?? 1, PAGE_SIZE)])
      : [{ byProvider: [], byAccount: [], byRule: [] }, null];
    const keys = (list: { key: string }[]) => list.map((x) => x.key).sort();
    return c.html(
      <FindingsPage
        user={c.get('user')}
        now={deps.now()}
        scan={scan}
        query={query}
        page={page}
        facets={{ providers: keys(counts.byProvider), accounts: keys(counts.byAccount), rules: keys(counts.byRule) }}
      />,
    );
  });

  const exportFindings = (format: 'csv' | 'json') => async (c: Ctx) => {
    const parsed = findingsQuery(c);
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    const scan = await latestScan(db);
    if (!scan) return notFound(c, 'No scan is stored yet, so there is nothing to export: run dormant plan first.');
    const rows = await findingsExport(db, scan.id, toFindingQuery(parsed.data));
    const name = `dormant-findings-${scan.createdAt.slice(0, 10)}.${format}`;
    const headers = {
      'content-disposition': `attachment; filename="${name}"`,
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    };
    return c.body(format === 'csv' ? findingsCsv(rows) : findingsJson(scan, rows), 200, headers);
  };
  app.get('/findings.csv', exportFindings('csv'));
  app.get('/findings.json', exportFindings('json'));

  app.get('/identities/:provider/:account/:id', async (c) => {
    const who = { provider: c.req.param('provider'), account: c.req.param('account'), identityId: c.req.param('id') };
    const story = await identityStory(db, who);
    if (!story) {
      return notFound(
        c,
        `dormant knows no ${who.provider} identity ${who.identityId} in ${who.account}: only identities with findings, plan items or backups are stored.`,
      );
    }
    return c.html(<IdentityPage user={c.get('user')} now={deps.now()} who={who} story={story} />);
  });

  app.get('/plans', async (c) => {
    const parsed = z.object({ page: pageParam }).safeParse(c.req.query());
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    const plans = await plansPage(db, parsed.data.page ?? 1, 50);
    return c.html(<PlansPage user={c.get('user')} now={deps.now()} plans={plans} />);
  });

  const renderPlan = async (
    c: Ctx,
    planId: string,
    query: z.infer<typeof planQuerySchema>,
    notice: DecisionNotice | null,
    status: ContentfulStatusCode = 200,
  ) => {
    const page = await planPage(db, planId, { status: query.status, page: query.page ?? 1, pageSize: PLAN_PAGE_SIZE });
    if (!page) return notFound(c, `There is no plan ${planId}: the Plans page lists every plan.`);
    return c.html(
      <PlanPage
        user={c.get('user')}
        now={deps.now()}
        page={page}
        status={query.status}
        notice={notice}
        irreversible={irreversible}
        defaultSnoozeDays={DEFAULT_SNOOZE_DAYS}
      />,
      status,
    );
  };

  app.get('/plans/:id', async (c) => {
    const parsed = planQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    return renderPlan(c, c.req.param('id'), parsed.data, null);
  });

  app.post('/plans/:id/decide', async (c) => {
    const user = c.get('user');
    // The platform refuses viewers' POSTs already; checked again here, where the decision is made.
    if (!user.canDecide) return forbidden(c);
    const planId = c.req.param('id');
    const parsed = decideSchema.safeParse(await c.req.parseBody({ all: true }));
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    const form = parsed.data;
    if ((await planPage(db, planId, { page: 1, pageSize: 1 })) === null) {
      return notFound(c, `There is no plan ${planId}: the Plans page lists every plan.`);
    }
    if (form.item.length === 0) return badRequest(c, 'select at least one item to decide on');
    const before = await itemsOfPlan(db, planId, form.item);
    const known = new Set(before.map((i) => i.id));
    const unknown = form.item.find((id) => !known.has(id));
    if (unknown !== undefined) return notFound(c, `Plan ${planId} has no item ${unknown}: reload the plan.`);
    const snooze = form.decision === 'snooze';
    // Items someone already decided (a deny may still overturn an approval): who, before it changes.
    const decidedBefore = await latestDecisions(
      db,
      before.filter((i) => i.status !== 'pending').map((i) => i.id),
    );
    const result = await decide(store, {
      planId,
      items: [...known],
      all: false,
      decision: form.decision === 'approve' ? 'approve' : 'deny',
      by: user.actor,
      reason: form.reason,
      channel: 'web',
      ...(snooze ? { snoozeDays: form.snoozeDays ?? DEFAULT_SNOOZE_DAYS } : {}),
      now: deps.now(),
    });
    const warnings: string[] = [];
    const beforeById = new Map(before.map((i) => [i.id, i]));
    for (const item of result.changed) {
      const was = beforeById.get(item.id);
      if (!was || was.status === 'pending') continue;
      // A stale page never overturns someone else's decision silently.
      warnings.push(
        `Item ${item.seq} (${item.identityName}) was ${decidedText(was, decidedBefore.get(item.id) ?? null).replace(/^already /, '')}; you changed it to ${snooze ? 'snoozed' : 'denied'}.`,
      );
    }
    for (const item of result.changed) {
      try {
        await deps.afterDecision?.(item.id, beforeById.get(item.id) ?? null);
      } catch {
        // The decision is committed; Slack and Jira catch up on the service's next cycle.
        warnings.push(`Item ${item.seq}: the decision is recorded, but Slack or Jira could not be updated just now.`);
      }
    }
    const decided = await latestDecisions(
      db,
      result.unchanged.map((u) => u.item.id),
    );
    const stale = result.unchanged.map(({ item }) => ({
      item,
      text: decidedText(item, decided.get(item.id) ?? null),
    }));
    const notice: DecisionNotice = {
      decision: form.decision,
      changed: result.changed.sort((a: PlanItem, b: PlanItem) => a.seq - b.seq),
      stale,
      warnings,
    };
    // Nothing changed because someone decided first: 409, and the page says who.
    const status = result.changed.length === 0 && stale.length > 0 ? 409 : 200;
    return renderPlan(c, planId, {}, notice, status);
  });

  app.get('/history', async (c) => {
    const parsed = z.object({ page: pageParam }).safeParse(c.req.query());
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    const events = await auditPage(db, { kinds: HISTORY_KINDS }, parsed.data.page ?? 1, PAGE_SIZE);
    return c.html(<HistoryPage user={c.get('user')} now={deps.now()} events={events} />);
  });

  app.get('/audit', async (c) => {
    const parsed = auditQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    const filter = { kind: parsed.data.kind, actor: parsed.data.actor };
    const [events, facets] = await Promise.all([
      auditPage(
        db,
        { kinds: filter.kind ? [filter.kind] : undefined, actor: filter.actor },
        parsed.data.page ?? 1,
        PAGE_SIZE,
      ),
      auditFacets(db),
    ]);
    return c.html(<AuditPage user={c.get('user')} now={deps.now()} events={events} filter={filter} facets={facets} />);
  });

  app.get('/backups', async (c) => {
    const parsed = z.object({ page: pageParam }).safeParse(c.req.query());
    if (!parsed.success) return badRequest(c, firstIssue(parsed.error));
    const backups = await backupsPage(db, parsed.data.page ?? 1, PAGE_SIZE);
    return c.html(<BackupsPage user={c.get('user')} now={deps.now()} backups={backups} />);
  });

  const noBackup = (c: Ctx, id: string) =>
    notFound(c, `There is no backup ${id}: the Backups page lists every backup.`);

  app.get('/backups/:id/restore', async (c) => {
    const backup = await backupRow(db, c.req.param('id'));
    if (!backup) return noBackup(c, c.req.param('id'));
    return c.html(
      <RestoreConfirmPage
        user={c.get('user')}
        now={deps.now()}
        backup={backup}
        available={deps.restore !== undefined}
      />,
    );
  });

  app.post('/backups/:id/restore', async (c) => {
    const user = c.get('user');
    if (!user.canDecide) return forbidden(c);
    const backup = await backupRow(db, c.req.param('id'));
    if (!backup) return noBackup(c, c.req.param('id'));
    if (!deps.restore) {
      return errorPage(
        c,
        503,
        'Restore is not available here',
        `This dashboard has no cloud session to restore with: in a terminal with credentials for ${backup.provider}, run dormant restore ${backup.id}.`,
      );
    }
    try {
      const report = await deps.restore(backup.id, user.actor);
      return c.html(<RestoreResultPage user={user} backup={backup} report={report} />);
    } catch (err) {
      // dormant's own errors are one line saying what to do; anything else is a bug for the platform's error page.
      if (!(err instanceof DormantError)) throw err;
      return errorPage(c, 409, `Could not restore ${backup.identityName}`, err.message);
    }
  });
}
