/** The findings table of the latest scan: filter, search, sort, page, and export the current view. */
import {
  FINDING_SORTS,
  FINDING_STATES,
  type FindingQuery,
  type FindingsPage as Page,
  type ScanInfo,
} from '../../store/dashboard.js';
import type { WebUser } from '../web-types.js';
import {
  EmptyState,
  Pager,
  SeverityBadge,
  StatusBadge,
  When,
  identityHref,
  planHref,
  withQuery,
} from './components.js';
import { Layout } from './layout.js';

export interface FindingsFacets {
  providers: string[];
  accounts: string[];
  rules: string[];
}

export interface FindingsProps {
  user: WebUser;
  now: Date;
  scan: ScanInfo | null;
  query: FindingQuery;
  page: Page | null;
  facets: FindingsFacets;
}

const SORT_LABELS: Record<(typeof FINDING_SORTS)[number], string> = {
  severity: 'Severity',
  days: 'Days inactive',
  identity: 'Identity',
  account: 'Account',
  rule: 'Rule',
  provider: 'Provider',
};

/** The query as URL parameters (the defaults left out). */
export function findingParams(query: FindingQuery): Record<string, string | undefined> {
  return {
    provider: query.provider,
    account: query.account,
    rule: query.rule,
    severity: query.severity,
    state: query.state,
    q: query.q,
    sort: query.sort === 'severity' ? undefined : query.sort,
    dir: query.dir === 'desc' ? undefined : query.dir,
  };
}

function Select({
  name,
  label,
  value,
  options,
}: {
  name: string;
  label: string;
  value: string | undefined;
  options: readonly string[];
}) {
  return (
    <label class="field">
      <span>{label}</span>
      <select name={name}>
        <option value="">Any</option>
        {options.map((o) => (
          <option value={o} selected={o === value}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

function SortHeader({ query, sort, children }: { query: FindingQuery; sort: FindingQuery['sort']; children: string }) {
  const active = query.sort === sort;
  const dir = active && query.dir === 'desc' ? 'asc' : 'desc';
  const href = withQuery('/findings', { ...findingParams(query), sort, dir });
  return (
    <th scope="col" aria-sort={active ? (query.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
      <a href={href}>
        {children}
        {active ? (query.dir === 'asc' ? ' ↑' : ' ↓') : ''}
      </a>
    </th>
  );
}

export function FindingsPage({ user, now, scan, query, page, facets }: FindingsProps) {
  const params = findingParams(query);
  const filtered = Object.entries(params).some(([k, v]) => v !== undefined && k !== 'sort' && k !== 'dir');
  return (
    <Layout title="Findings" user={user} current="/findings">
      <h1>Findings</h1>
      {scan === null || page === null ? (
        <EmptyState title="No findings yet">
          <p>
            No scan has been stored. Run <code>dormant plan</code> to scan and store the findings.
          </p>
        </EmptyState>
      ) : (
        <>
          <p class="lead">
            From the latest scan, <When at={scan.createdAt} now={now} />.
          </p>
          <form method="get" action="/findings" class="filters" role="search" aria-label="Filter findings">
            <label class="field wide">
              <span>Search</span>
              <input type="search" name="q" value={query.q ?? ''} placeholder="name, id, key, message" />
            </label>
            <Select name="provider" label="Provider" value={query.provider} options={facets.providers} />
            <Select name="account" label="Account" value={query.account} options={facets.accounts} />
            <Select name="rule" label="Rule" value={query.rule} options={facets.rules} />
            <Select name="severity" label="Severity" value={query.severity} options={['high', 'medium', 'low']} />
            <Select name="state" label="State" value={query.state} options={FINDING_STATES} />
            <label class="field">
              <span>Sort by</span>
              <select name="sort">
                {FINDING_SORTS.map((s) => (
                  <option value={s} selected={s === query.sort}>
                    {SORT_LABELS[s]}
                  </option>
                ))}
              </select>
            </label>
            <label class="field">
              <span>Order</span>
              <select name="dir">
                <option value="desc" selected={query.dir === 'desc'}>
                  Descending
                </option>
                <option value="asc" selected={query.dir === 'asc'}>
                  Ascending
                </option>
              </select>
            </label>
            <div class="actions">
              <button type="submit">Filter</button>
              {filtered ? <a href="/findings">Clear filters</a> : null}
            </div>
          </form>
          <p class="export">
            Export this view: <a href={withQuery('/findings.csv', params)}>CSV</a> ·{' '}
            <a href={withQuery('/findings.json', params)}>JSON</a>
          </p>
          {page.total === 0 ? (
            <EmptyState title={filtered ? 'No findings match these filters' : 'No findings in the latest scan'}>
              {filtered ? (
                <p>
                  <a href="/findings">Clear the filters</a> to see every finding.
                </p>
              ) : (
                <p>Every identity scanned was in use or exempt.</p>
              )}
            </EmptyState>
          ) : (
            <>
              <p role="status" class="muted">
                {page.total.toLocaleString('en-US')} finding{page.total === 1 ? '' : 's'}
                {filtered ? ' match' : ''}.
              </p>
              <div class="table-wrap">
                <table class="findings">
                  <caption class="sr-only">Findings, page {page.page}</caption>
                  <thead>
                    <tr>
                      <SortHeader query={query} sort="severity">
                        Severity
                      </SortHeader>
                      <SortHeader query={query} sort="identity">
                        Identity
                      </SortHeader>
                      <SortHeader query={query} sort="account">
                        Account
                      </SortHeader>
                      <SortHeader query={query} sort="rule">
                        Rule
                      </SortHeader>
                      <th scope="col">Finding</th>
                      <SortHeader query={query} sort="days">
                        Last activity
                      </SortHeader>
                      <th scope="col">State</th>
                    </tr>
                  </thead>
                  <tbody>
                    {page.rows.map((f) => (
                      <tr>
                        <td data-label="Severity">
                          <SeverityBadge severity={f.severity} />
                        </td>
                        <td data-label="Identity">
                          <a href={identityHref(f.provider, f.account, f.identityId)}>{f.identityName}</a>
                          <span class="muted small"> {f.provider}</span>
                        </td>
                        <td data-label="Account">{f.account}</td>
                        <td data-label="Rule">
                          <abbr title={f.rule}>{f.ruleId}</abbr>
                        </td>
                        <td data-label="Finding">
                          {f.message}
                          {f.credentialId ? <span class="muted small"> ({f.credentialId})</span> : null}
                        </td>
                        <td data-label="Last activity">
                          <When at={f.lastActivityAt} now={now} />
                          {f.daysSinceActivity !== null ? (
                            <span class="muted small"> ({f.daysSinceActivity} days)</span>
                          ) : null}
                        </td>
                        <td data-label="State">
                          {f.item ? (
                            <a href={`${planHref(f.item.planId)}#item-${f.item.seq}`}>
                              <StatusBadge status={f.state} />
                            </a>
                          ) : (
                            <StatusBadge status={f.state} />
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager
                page={page.page}
                pages={page.pages}
                total={page.total}
                noun="findings"
                href={(p) => withQuery('/findings', { ...params, page: p === 1 ? undefined : p })}
              />
            </>
          )}
        </>
      )}
    </Layout>
  );
}
