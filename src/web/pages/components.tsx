/**
 * Small pieces every page uses: times, status and severity badges, pagers, empty states,
 * evidence, decisions, and links to identities. Plain server-rendered HTML, no script needed.
 */
import type { Child } from 'hono/jsx';
import type { Evidence } from '../../model/evidence.js';
import type { DecisionRecord } from '../../store/dashboard-plans.js';
import type { WebUser } from '../web-types.js';

/** `/identities/PROVIDER/ACCOUNT/ID`, each part URL-encoded (ARNs hold `:` and `/`). */
export function identityHref(provider: string, account: string, id: string): string {
  return `/identities/${encodeURIComponent(provider)}/${encodeURIComponent(account)}/${encodeURIComponent(id)}`;
}

export function planHref(planId: string, extra?: Record<string, string | number | undefined>): string {
  return withQuery(`/plans/${encodeURIComponent(planId)}`, extra ?? {});
}

/** `path?k=v…`, leaving out empty values. */
export function withQuery(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** `2026-11-22 12:00 UTC`. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `3 days ago`, `in 2 hours`, `just now`. */
export function relativeTime(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, name] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      const text = `${n} ${name}${n === 1 ? '' : 's'}`;
      return ms < 0 ? `${text} ago` : `in ${text}`;
    }
  }
  return 'just now';
}

export function When({ at, now }: { at: string | null | undefined; now?: Date }) {
  if (!at) return <span class="muted">never</span>;
  return (
    <time datetime={at} title={now ? relativeTime(at, now) : undefined}>
      {formatTime(at)}
    </time>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status.replace(/[^a-z-]/g, '')}`}>{status}</span>;
}

export function SeverityBadge({ severity }: { severity: string }) {
  return <span class={`badge sev-${severity.replace(/[^a-z-]/g, '')}`}>{severity}</span>;
}

export function EmptyState({ title, children }: { title: string; children?: Child }) {
  return (
    <div class="empty" role="status">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

export function Pager({
  page,
  pages,
  total,
  noun,
  href,
}: {
  page: number;
  pages: number;
  total: number;
  noun: string;
  href: (page: number) => string;
}) {
  return (
    <nav class="pager" aria-label="Pages">
      {page > 1 ? (
        <a href={href(page - 1)} rel="prev">
          Previous
        </a>
      ) : (
        <span class="muted">Previous</span>
      )}
      <span>
        Page {page} of {pages} ({total.toLocaleString('en-US')} {total === 1 ? noun.replace(/s$/, '') : noun})
      </span>
      {page < pages ? (
        <a href={href(page + 1)} rel="next">
          Next
        </a>
      ) : (
        <span class="muted">Next</span>
      )}
    </nav>
  );
}

/** The session's CSRF token, in every form. */
export function Csrf({ user }: { user: WebUser }) {
  return <input type="hidden" name="_csrf" value={user.csrf} />;
}

/**
 * Evidence sections, each a disclosure: its one-line summary, then its newest `limit` items
 * (all when absent) and, past the limit, a link to where all of them are (`moreHref`).
 */
export function EvidenceView({
  evidence,
  now,
  limit,
  moreHref,
  open,
}: {
  evidence: Evidence | null;
  now: Date;
  limit?: number;
  moreHref?: string;
  /** Sections start expanded (the identity page, where the evidence is the point). */
  open?: boolean;
}) {
  if (!evidence || evidence.length === 0) return <p class="muted">Evidence not collected.</p>;
  return (
    <div class="evidence">
      {evidence.map((section) => {
        const shown = limit === undefined ? section.items : section.items.slice(0, limit);
        const more = section.items.length - shown.length;
        return (
          <details open={open === true}>
            <summary>
              <strong>{section.title}</strong>: {section.summary}
            </summary>
            <p class="muted small">
              Collected <When at={section.collectedAt} now={now} />
              {section.scope ? ` · ${section.scope}` : ''}
              {section.status === 'unavailable' && section.reason ? ` · unavailable: ${section.reason}` : ''}
            </p>
            {shown.length > 0 ? (
              <ul>
                {shown.map((e) => (
                  <li>
                    {e.at ? (
                      <>
                        <When at={e.at} now={now} />{' '}
                      </>
                    ) : null}
                    {e.summary}
                  </li>
                ))}
              </ul>
            ) : null}
            {more > 0 && moreHref ? (
              <p class="small">
                <a href={moreHref}>{more} more on the identity page</a>
              </p>
            ) : null}
          </details>
        );
      })}
    </div>
  );
}

const DECISION_WORD: Record<string, string> = { approve: 'Approved', deny: 'Denied' };

/** "Approved by web:ann@example.com via web, 2026-11-22 12:00 UTC: reason". */
export function DecisionLine({ decision, now }: { decision: DecisionRecord; now: Date }) {
  const word = decision.snoozeUntil ? 'Snoozed' : (DECISION_WORD[decision.decision] ?? decision.decision);
  return (
    <span class="decision">
      {word} by <strong>{decision.by}</strong> via {decision.channel}, <When at={decision.at} now={now} />
      {decision.snoozeUntil ? (
        <>
          {' '}
          until <When at={decision.snoozeUntil} now={now} />
        </>
      ) : null}
      {decision.reason ? `: ${decision.reason}` : ''}
    </span>
  );
}

/**
 * Why a stale page's decision changed nothing, naming who decided and when:
 * "already approved by slack:U123 via slack at 2026-11-22 12:00 UTC (looks unused)".
 */
export function decidedText(
  item: { status: string; decidedBy: string | null; decidedAt: string | null },
  decision: DecisionRecord | null,
): string {
  let by: string | null = null;
  if (decision) {
    const word = decision.snoozeUntil ? 'snoozed' : decision.decision === 'approve' ? 'approved' : 'denied';
    by = `${word} by ${decision.by} via ${decision.channel} at ${formatTime(decision.at)}${decision.reason ? ` (${decision.reason})` : ''}`;
  } else if (item.decidedBy) {
    by = `decided by ${item.decidedBy}${item.decidedAt ? ` at ${formatTime(item.decidedAt)}` : ''}`;
  }
  if (item.status === 'approved' || item.status === 'denied') return by ? `already ${by}` : `already ${item.status}`;
  return `already ${item.status}${by ? `; ${by}` : ''}`;
}

export function Counts({
  title,
  counts,
  href,
}: {
  title: string;
  counts: { key: string; count: number }[];
  href?: (key: string) => string;
}) {
  return (
    <section class="card" aria-labelledby={`c-${title.replace(/\W+/g, '-').toLowerCase()}`}>
      <h2 id={`c-${title.replace(/\W+/g, '-').toLowerCase()}`}>{title}</h2>
      {counts.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table class="counts">
          <tbody>
            {counts.map((c) => (
              <tr>
                <th scope="row">{href ? <a href={href(c.key)}>{c.key}</a> : c.key}</th>
                <td class="num">{c.count.toLocaleString('en-US')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
