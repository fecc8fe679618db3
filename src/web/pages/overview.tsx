/** The overview: the latest scan's findings counted four ways, plan items by status, findings across scans. */
import type { OverviewCounts, ScanInfo, TrendPoint } from '../../store/dashboard.js';
import type { WebUser } from '../web-types.js';
import { FindingsChart } from './chart.js';
import { Counts, EmptyState, When, withQuery } from './components.js';
import { Layout } from './layout.js';

export interface OverviewProps {
  user: WebUser;
  now: Date;
  scan: ScanInfo | null;
  counts: OverviewCounts;
  trend: TrendPoint[];
}

const findings = (key: string, value: string) => withQuery('/findings', { [key]: value });

export function OverviewPage({ user, now, scan, counts, trend }: OverviewProps) {
  const pending = counts.items.find((c) => c.key === 'pending')?.count ?? 0;
  return (
    <Layout title="Overview" user={user} current="/">
      <h1>Overview</h1>
      {scan === null ? (
        <EmptyState title="No scans yet">
          <p>
            Nothing has been scanned into this store. Run <code>dormant plan</code> (or let <code>dormant serve</code>{' '}
            run its first cycle) and the findings appear here. <code>dormant demo --ui</code> shows the dashboard with
            sample data.
          </p>
        </EmptyState>
      ) : (
        <>
          <p class="lead">
            Latest scan <When at={scan.createdAt} now={now} /> ({scan.source}):{' '}
            <strong>{scan.summary.findings.toLocaleString('en-US')}</strong> finding
            {scan.summary.findings === 1 ? '' : 's'} on {scan.summary.identities.toLocaleString('en-US')} identit
            {scan.summary.identities === 1 ? 'y' : 'ies'} in {scan.accounts.length} account
            {scan.accounts.length === 1 ? '' : 's'}; {scan.summary.exempt} exempt.
          </p>
          {pending > 0 ? (
            <p class="callout">
              <a href="/plans">
                {pending} plan item{pending === 1 ? '' : 's'} waiting for a decision
              </a>
            </p>
          ) : null}
          <div class="grid">
            <Counts title="By severity" counts={counts.bySeverity} href={(k) => findings('severity', k)} />
            <Counts title="By provider" counts={counts.byProvider} href={(k) => findings('provider', k)} />
            <Counts title="By rule" counts={counts.byRule} href={(k) => findings('rule', k)} />
            <Counts title="Plan items by status" counts={counts.items} href={(k) => findings('state', k)} />
          </div>
          <Counts title="By account" counts={counts.byAccount.slice(0, 20)} href={(k) => findings('account', k)} />
          {counts.byAccount.length > 20 ? (
            <p class="muted">
              {counts.byAccount.length - 20} more accounts: <a href="/findings">filter the findings</a> by account.
            </p>
          ) : null}
          <section aria-labelledby="trend">
            <h2 id="trend">Findings across scans</h2>
            <FindingsChart points={trend} />
          </section>
        </>
      )}
    </Layout>
  );
}
