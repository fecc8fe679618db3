/**
 * History (what happened to plan items and identities, as sentences) and the audit trail
 * (every event as recorded: who, what, when, on which plan and item), newest first.
 */
import type { AuditRow } from '../../store/dashboard-audit.js';
import type { Paged } from '../../store/dashboard.js';
import type { WebUser } from '../web-types.js';
import { EmptyState, Pager, StatusBadge, When, identityHref, planHref, withQuery } from './components.js';
import { Layout } from './layout.js';

type Detail = Record<string, unknown>;

function str(d: Detail, key: string): string | null {
  const v = d[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

function ItemRef({ row }: { row: AuditRow }) {
  if (!row.planId) return null;
  const seq = row.item?.seq;
  return (
    <a href={`${planHref(row.planId)}${seq !== undefined ? `#item-${seq}` : ''}`}>
      {seq !== undefined ? `item ${seq} of plan ${row.planId}` : `plan ${row.planId}`}
    </a>
  );
}

/** One history event in words. */
function HistoryLine({ row }: { row: AuditRow }) {
  const d = (row.detail && typeof row.detail === 'object' ? row.detail : {}) as Detail;
  const reason = str(d, 'reason');
  const channel = str(d, 'channel');
  const who = <strong>{row.actor}</strong>;
  switch (row.kind) {
    case 'plan.created':
      return (
        <>
          {who} made <ItemRef row={row} /> with {String(d.items ?? 0)} item(s)
        </>
      );
    case 'item.approved':
    case 'item.denied':
      return (
        <>
          {who} {row.kind === 'item.approved' ? 'approved' : str(d, 'snoozeUntil') ? 'snoozed' : 'denied'}{' '}
          <ItemRef row={row} />
          {channel ? ` via ${channel}` : ''}
          {reason ? `: ${reason}` : ''}
        </>
      );
    case 'item.done':
    case 'item.skipped':
    case 'item.failed':
      return (
        <>
          <ItemRef row={row} /> <StatusBadge status={row.kind.slice('item.'.length)} /> (run by {row.actor})
          {reason ? `: ${reason}` : ''}
        </>
      );
    case 'restore.done':
      return (
        <>
          {who} restored {str(d, 'user') ?? 'an identity'} from backup {str(d, 'backupId') ?? '?'}
        </>
      );
    case 'apply.refused':
      return (
        <>
          Apply of <ItemRef row={row} /> was refused{reason ? `: ${reason}` : ''}
        </>
      );
    default:
      return (
        <>
          {who} {row.kind}
        </>
      );
  }
}

export function HistoryPage({ user, now, events }: { user: WebUser; now: Date; events: Paged<AuditRow> }) {
  return (
    <Layout title="History" user={user} current="/history">
      <h1>History</h1>
      <p class="lead">What was planned, decided, done, skipped, failed and restored, newest first.</p>
      {events.total === 0 ? (
        <EmptyState title="Nothing has happened yet">
          <p>Plans, decisions from any channel (CLI, Slack, Jira, web) and what apply did appear here.</p>
        </EmptyState>
      ) : (
        <>
          <ol class="timeline">
            {events.rows.map((row) => (
              <li>
                <When at={row.at} now={now} /> <HistoryLine row={row} />
                {row.item ? (
                  <p class="small muted">
                    {row.item.sentence} ·{' '}
                    <a href={identityHref(row.item.provider, row.item.account, row.item.identityId)}>
                      {row.item.identityName}
                    </a>
                  </p>
                ) : null}
              </li>
            ))}
          </ol>
          <Pager
            page={events.page}
            pages={events.pages}
            total={events.total}
            noun="events"
            href={(n) => withQuery('/history', { page: n === 1 ? undefined : n })}
          />
        </>
      )}
    </Layout>
  );
}

/** An event's detail as `key: value` pairs (nested values as compact JSON). */
function detailPairs(detail: unknown): [string, string][] {
  if (detail === null || typeof detail !== 'object') return detail === null ? [] : [['', String(detail)]];
  return Object.entries(detail as Detail)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}

export interface AuditProps {
  user: WebUser;
  now: Date;
  events: Paged<AuditRow>;
  filter: { kind?: string | undefined; actor?: string | undefined };
  facets: { kinds: string[]; actors: string[] };
}

export function AuditPage({ user, now, events, filter, facets }: AuditProps) {
  const params = { kind: filter.kind, actor: filter.actor };
  return (
    <Layout title="Audit" user={user} current="/audit">
      <h1>Audit trail</h1>
      <form method="get" action="/audit" class="filters" aria-label="Filter the audit trail">
        <label class="field">
          <span>Event</span>
          <select name="kind">
            <option value="">Any</option>
            {facets.kinds.map((k) => (
              <option value={k} selected={k === filter.kind}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Actor</span>
          <select name="actor">
            <option value="">Anyone</option>
            {facets.actors.map((a) => (
              <option value={a} selected={a === filter.actor}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <div class="actions">
          <button type="submit">Filter</button>
          {filter.kind || filter.actor ? <a href="/audit">Clear filters</a> : null}
        </div>
      </form>
      {events.total === 0 ? (
        <EmptyState title={filter.kind || filter.actor ? 'No events match' : 'The audit trail is empty'}>
          <p>Every plan, decision, apply step and restore is recorded here, with who did it and when.</p>
        </EmptyState>
      ) : (
        <>
          <div class="table-wrap">
            <table class="audit">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Event</th>
                  <th scope="col">Plan / item</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {events.rows.map((row) => (
                  <tr>
                    <td data-label="When">
                      <When at={row.at} now={now} />
                    </td>
                    <td data-label="Actor">{row.actor}</td>
                    <td data-label="Event">
                      <code>{row.kind}</code>
                    </td>
                    <td data-label="Plan / item">
                      <ItemRef row={row} />
                    </td>
                    <td data-label="Detail">
                      <dl class="pairs">
                        {detailPairs(row.detail).map(([k, v]) => (
                          <>
                            <dt>{k}</dt>
                            <dd>{v}</dd>
                          </>
                        ))}
                      </dl>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            page={events.page}
            pages={events.pages}
            total={events.total}
            noun="events"
            href={(n) => withQuery('/audit', { ...params, page: n === 1 ? undefined : n })}
          />
        </>
      )}
    </Layout>
  );
}
