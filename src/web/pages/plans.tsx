/** The plans list: newest first, with each plan's items counted by status. */
import type { Paged } from '../../store/dashboard.js';
import type { PlanSummary } from '../../store/dashboard-plans.js';
import type { WebUser } from '../web-types.js';
import { EmptyState, Pager, StatusBadge, When, planHref, withQuery } from './components.js';
import { Layout } from './layout.js';

const STATUS_ORDER = ['pending', 'approved', 'denied', 'done', 'skipped', 'failed'] as const;

export function PlansPage({ user, now, plans }: { user: WebUser; now: Date; plans: Paged<PlanSummary> }) {
  return (
    <Layout title="Plans" user={user} current="/plans">
      <h1>Plans</h1>
      {plans.total === 0 ? (
        <EmptyState title="No plans yet">
          <p>
            <code>dormant plan</code> scans and stores a plan of what to retire; <code>dormant serve</code> makes one
            every review cycle. Plans appear here for review.
          </p>
        </EmptyState>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Plan</th>
                  <th scope="col">Made</th>
                  <th scope="col">By</th>
                  <th scope="col">Items</th>
                </tr>
              </thead>
              <tbody>
                {plans.rows.map((p) => (
                  <tr>
                    <td data-label="Plan">
                      <a href={planHref(p.id)}>{p.id}</a>
                    </td>
                    <td data-label="Made">
                      <When at={p.createdAt} now={now} />
                    </td>
                    <td data-label="By">{p.createdBy}</td>
                    <td data-label="Items">
                      {p.items === 0 ? <span class="muted">none</span> : null}
                      {STATUS_ORDER.filter((s) => (p.counts[s] ?? 0) > 0).map((s) => (
                        <a class="count" href={planHref(p.id, { status: s })}>
                          {p.counts[s]} <StatusBadge status={s} />
                        </a>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            page={plans.page}
            pages={plans.pages}
            total={plans.total}
            noun="plans"
            href={(n) => withQuery('/plans', { page: n === 1 ? undefined : n })}
          />
        </>
      )}
    </Layout>
  );
}
