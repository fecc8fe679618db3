/**
 * One plan: each item's sentence, evidence, status, and who decided it and when (from any
 * channel); approvers approve, deny or snooze each item or the selected ones, with a reason.
 * Every control is a real form control, so the page works by keyboard and without script:
 * per-item controls belong to a per-item form through the `form` attribute.
 */
import type { PlanItem } from '../../model/plan.js';
import type { PlanItemView, PlanPage as Page } from '../../store/dashboard-plans.js';
import type { WebUser } from '../web-types.js';
import { Csrf, DecisionLine, EvidenceView, Pager, StatusBadge, When, identityHref, planHref } from './components.js';
import { Layout } from './layout.js';

export type WebDecision = 'approve' | 'deny' | 'snooze';

/** What a decision did, shown above the plan after a POST. */
export interface DecisionNotice {
  decision: WebDecision;
  changed: PlanItem[];
  /** Items a stale page asked about that were decided elsewhere first: who decided, and when. */
  stale: { item: PlanItem; text: string }[];
  warnings: string[];
}

export interface PlanProps {
  user: WebUser;
  now: Date;
  page: Page;
  status: string | undefined;
  notice?: DecisionNotice | null;
  /** Whether an item's action cannot be undone by restore (asked of its provider). */
  irreversible: (view: PlanItemView) => boolean;
  defaultSnoozeDays: number;
}

/** Evidence items a plan shows per section; the identity page shows them all (keeps 100 items a page light). */
const EVIDENCE_ON_PLAN = 3;

const STATUSES = ['pending', 'approved', 'denied', 'done', 'skipped', 'failed'] as const;
const PAST: Record<WebDecision, string> = { approve: 'Approved', deny: 'Denied', snooze: 'Snoozed' };

/** Which decisions an item can still take (decide(): pending items; approved or failed ones can still be denied). */
export function allowedDecisions(item: PlanItem): WebDecision[] {
  if (item.status === 'pending') return ['approve', 'deny', 'snooze'];
  if (item.status === 'approved' || item.status === 'failed') return ['deny', 'snooze'];
  return [];
}

const label = (i: PlanItem) => `${i.seq} (${i.identityName})`;

function Notice({ notice }: { notice: DecisionNotice }) {
  return (
    <div class="notices">
      {notice.changed.length > 0 ? (
        <p class="notice ok" role="status">
          {PAST[notice.decision]} {notice.changed.length} item{notice.changed.length === 1 ? '' : 's'}:{' '}
          {notice.changed.map(label).join(', ')}.
        </p>
      ) : null}
      {notice.stale.map((s) => (
        <p class="notice warn" role="alert">
          Item {label(s.item)} was not changed: {s.text}.
        </p>
      ))}
      {notice.warnings.map((w) => (
        <p class="notice warn" role="alert">
          {w}
        </p>
      ))}
    </div>
  );
}

function RowControls({
  view,
  decisions,
  defaultSnoozeDays,
}: {
  view: PlanItemView;
  decisions: WebDecision[];
  defaultSnoozeDays: number;
}) {
  const { item } = view;
  const form = `row-${item.seq}`;
  return (
    <div class="row-controls">
      <label class="field">
        <span>Reason for item {item.seq}</span>
        <input type="text" name="reason" form={form} maxlength={500} autocomplete="off" />
      </label>
      {decisions.includes('snooze') ? (
        <label class="field narrow">
          <span>Snooze days for item {item.seq}</span>
          <input type="number" name="snoozeDays" form={form} min={1} max={3650} value={defaultSnoozeDays} />
        </label>
      ) : null}
      <div class="buttons">
        {decisions.includes('approve') ? (
          <button type="submit" form={form} name="decision" value="approve" class="approve">
            Approve
          </button>
        ) : null}
        <button type="submit" form={form} name="decision" value="deny" class="deny">
          Deny
        </button>
        <button type="submit" form={form} name="decision" value="snooze">
          Snooze
        </button>
      </div>
    </div>
  );
}

function ItemRow({ view, props }: { view: PlanItemView; props: PlanProps }) {
  const { item, decision } = view;
  const decisions = props.user.canDecide ? allowedDecisions(item) : [];
  const waits = Date.parse(item.notBefore) > props.now.getTime();
  return (
    <tr id={`item-${item.seq}`}>
      <td data-label="Select" class="select">
        {decisions.length > 0 ? (
          <>
            <input type="checkbox" name="item" value={item.id} form="bulk" id={`sel-${item.seq}`} class="pick" />
            <label for={`sel-${item.seq}`} class="sr-only">
              Select item {item.seq} ({item.identityName})
            </label>
          </>
        ) : null}
      </td>
      <td data-label="Item" class="num">
        {item.seq}
      </td>
      <td data-label="Action">
        <p class="sentence">{item.sentence}</p>
        {props.irreversible(view) ? (
          <p class="irreversible">
            <strong>Irreversible:</strong> restore cannot undo this action.
          </p>
        ) : null}
        {waits ? (
          <p class="muted small">
            Not before <When at={item.notBefore} now={props.now} />
          </p>
        ) : null}
        <p class="small">
          <a href={identityHref(item.provider, item.account, item.identityId)}>{item.identityName}</a>
          <span class="muted">
            {' '}
            {item.provider} · {item.account}
          </span>
        </p>
        <EvidenceView
          evidence={view.evidence}
          now={props.now}
          limit={EVIDENCE_ON_PLAN}
          moreHref={`${identityHref(item.provider, item.account, item.identityId)}#item-${item.id}`}
        />
      </td>
      <td data-label="Status">
        <StatusBadge status={item.status} />
        {decision ? (
          <p class="small">
            <DecisionLine decision={decision} now={props.now} />
          </p>
        ) : item.decidedBy ? (
          <p class="small">
            Decided by <strong>{item.decidedBy}</strong>, <When at={item.decidedAt} now={props.now} />
          </p>
        ) : null}
        {item.reason && item.reason !== decision?.reason ? <p class="small muted">{item.reason}</p> : null}
      </td>
      {props.user.canDecide ? (
        <td data-label="Decide">
          {decisions.length > 0 ? (
            <RowControls view={view} decisions={decisions} defaultSnoozeDays={props.defaultSnoozeDays} />
          ) : (
            <span class="muted small">No decision to make</span>
          )}
        </td>
      ) : null}
    </tr>
  );
}

export function PlanPage(props: PlanProps) {
  const { user, now, page, status, notice } = props;
  const plan = page.plan;
  const all = Object.values(page.counts).reduce((n, c) => n + (c ?? 0), 0);
  const rows = page.items.rows;
  const decidable = rows.filter((v) => allowedDecisions(v.item).length > 0);
  const actionUrl = `${planHref(plan.id)}/decide`;
  return (
    <Layout title={`Plan ${plan.id}`} user={user} current="/plans">
      <p class="crumbs">
        <a href="/plans">Plans</a> › {plan.id}
      </p>
      <h1>Plan {plan.id}</h1>
      <p class="lead">
        Made <When at={plan.createdAt} now={now} /> by {plan.createdBy}; {all} item{all === 1 ? '' : 's'}.
      </p>
      {notice ? <Notice notice={notice} /> : null}
      <nav class="tabs" aria-label="Items by status">
        <a href={planHref(plan.id)} aria-current={status === undefined ? 'page' : undefined}>
          All ({all})
        </a>
        {STATUSES.filter((s) => (page.counts[s] ?? 0) > 0).map((s) => (
          <a href={planHref(plan.id, { status: s })} aria-current={status === s ? 'page' : undefined}>
            {s} ({page.counts[s]})
          </a>
        ))}
      </nav>
      {!user.canDecide ? (
        <p class="muted">You are signed in as a viewer: you can look at this plan, not decide on it.</p>
      ) : null}
      {user.canDecide && decidable.length > 0 ? (
        <form id="bulk" method="post" action={actionUrl} class="bulk">
          <Csrf user={user} />
          <fieldset>
            <legend>Decide on the selected items</legend>
            <label class="select-all" hidden>
              <input type="checkbox" id="select-all" /> Select every item on this page
            </label>
            <label class="field">
              <span>Reason</span>
              <input type="text" name="reason" maxlength={500} autocomplete="off" />
            </label>
            <label class="field narrow">
              <span>Snooze days</span>
              <input type="number" name="snoozeDays" min={1} max={3650} value={props.defaultSnoozeDays} />
            </label>
            <div class="buttons">
              <button type="submit" name="decision" value="approve" class="approve">
                Approve selected
              </button>
              <button type="submit" name="decision" value="deny" class="deny">
                Deny selected
              </button>
              <button type="submit" name="decision" value="snooze">
                Snooze selected
              </button>
            </div>
          </fieldset>
        </form>
      ) : null}
      {rows.length === 0 ? (
        <p class="empty">No items{status ? ` with status ${status}` : ''} in this plan.</p>
      ) : (
        <div class="table-wrap">
          <table class="items">
            <caption class="sr-only">Items of plan {plan.id}</caption>
            <thead>
              <tr>
                <th scope="col">
                  <span class="sr-only">Select</span>
                </th>
                <th scope="col">#</th>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                {user.canDecide ? <th scope="col">Decide</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((view) => (
                <ItemRow view={view} props={props} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {user.canDecide
        ? decidable.map((v) => (
            <form id={`row-${v.item.seq}`} method="post" action={actionUrl} class="row-form">
              <Csrf user={user} />
              <input type="hidden" name="item" value={v.item.id} />
            </form>
          ))
        : null}
      <Pager
        page={page.items.page}
        pages={page.items.pages}
        total={page.items.total}
        noun="items"
        href={(n) => planHref(plan.id, { status, page: n === 1 ? undefined : n })}
      />
    </Layout>
  );
}
