/**
 * One identity: its credentials and last activity (from the newest scan that kept it), its
 * findings, its plan items with their evidence, every decision on them from any channel, what
 * apply did (journal outcomes) and its backups.
 */
import type { Credential } from '../../model/identity.js';
import type { IdentityStory } from '../../store/dashboard-plans.js';
import type { WebUser } from '../web-types.js';
import { DecisionLine, EvidenceView, SeverityBadge, StatusBadge, When, planHref } from './components.js';
import { Layout } from './layout.js';

export interface IdentityProps {
  user: WebUser;
  now: Date;
  who: { provider: string; account: string; identityId: string };
  story: IdentityStory;
}

function lastUse(c: Credential, now: Date) {
  switch (c.lastUse) {
    case 'used':
      return <When at={c.lastUsedAt} now={now} />;
    case 'never':
      return <span>never used</span>;
    case 'before-tracking':
      return <span>not since tracking began{c.trackingSince ? ` (${c.trackingSince.slice(0, 10)})` : ''}</span>;
    default:
      return <span class="muted">unknown</span>;
  }
}

function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  const o = detail as Record<string, unknown>;
  if (typeof o.reason === 'string') return o.reason;
  if (typeof o.message === 'string') return o.message;
  if (typeof o.backupId === 'string') return `backup ${o.backupId}`;
  return '';
}

export function IdentityPage({ user, now, who, story }: IdentityProps) {
  const s = story.snapshot;
  const name = s?.name ?? story.items[0]?.item.identityName ?? story.backups[0]?.identityName ?? who.identityId;
  const itemSeq = new Map(story.items.map((i) => [i.item.id, i.item]));
  return (
    <Layout title={name} user={user} current="/findings">
      <p class="crumbs">
        <a href="/findings">Findings</a> › {who.provider} › {who.account}
      </p>
      <h1>{name}</h1>
      <dl class="facts">
        <dt>Provider</dt>
        <dd>{who.provider}</dd>
        <dt>Account</dt>
        <dd>{who.account}</dd>
        <dt>Id</dt>
        <dd>
          <code>{who.identityId}</code>
        </dd>
        {s ? (
          <>
            <dt>Kind</dt>
            <dd>{s.kind}</dd>
            {s.displayName ? (
              <>
                <dt>Display name</dt>
                <dd>{s.displayName}</dd>
              </>
            ) : null}
            <dt>State</dt>
            <dd>
              <StatusBadge status={s.state} />
              {s.enabled === false ? ' (disabled at its provider)' : ''}
              {s.exemptReason ? ` exempt: ${s.exemptReason}` : ''}
            </dd>
            {s.protectedReason ? (
              <>
                <dt>Protected</dt>
                <dd>{s.protectedReason}: dormant never acts on it</dd>
              </>
            ) : null}
            <dt>Created</dt>
            <dd>
              <When at={s.createdAt} now={now} />
            </dd>
            <dt>Last activity</dt>
            <dd>
              <When at={s.lastActivityAt} now={now} />
            </dd>
            {s.lastSignInAt !== undefined ? (
              <>
                <dt>Last sign-in</dt>
                <dd>
                  <When at={s.lastSignInAt} now={now} />
                </dd>
              </>
            ) : null}
            <dt>As of scan</dt>
            <dd>{story.scan ? <When at={story.scan.createdAt} now={now} /> : null}</dd>
          </>
        ) : (
          <>
            <dt>Scanned</dt>
            <dd class="muted">No snapshot stored (only identities with findings are kept).</dd>
          </>
        )}
      </dl>

      {s ? (
        <section aria-labelledby="creds">
          <h2 id="creds">Credentials</h2>
          {s.credentials.length === 0 ? (
            <p class="muted">No credentials.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Kind</th>
                    <th scope="col">Id</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                  </tr>
                </thead>
                <tbody>
                  {s.credentials.map((c) => (
                    <tr>
                      <td data-label="Kind">{c.kind}</td>
                      <td data-label="Id">
                        <code>{c.id ?? c.handle ?? '—'}</code>
                      </td>
                      <td data-label="Status">
                        {c.status}
                        {c.enabled ? '' : ' (not usable)'}
                      </td>
                      <td data-label="Created">
                        <When at={c.createdAt} now={now} />
                      </td>
                      <td data-label="Last used">
                        {lastUse(c, now)}
                        {c.lastUsedService ? <span class="muted small"> {c.lastUsedService}</span> : null}
                        {c.lastUsedRegion ? <span class="muted small"> {c.lastUsedRegion}</span> : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      ) : null}

      <section aria-labelledby="finds">
        <h2 id="finds">Findings</h2>
        {story.findings.length === 0 ? (
          <p class="muted">No findings in the latest scan that kept it.</p>
        ) : (
          <ul class="plain">
            {story.findings.map((f) => (
              <li>
                <SeverityBadge severity={f.severity} /> <abbr title={f.rule}>{f.ruleId}</abbr> {f.message}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="items">
        <h2 id="items">Plan items</h2>
        {story.items.length === 0 ? (
          <p class="muted">Never planned.</p>
        ) : (
          story.items.map(({ item, evidence }) => (
            <article class="item" id={`item-${item.id}`}>
              <h3>
                <a href={`${planHref(item.planId)}#item-${item.seq}`}>
                  Plan {item.planId}, item {item.seq}
                </a>{' '}
                <StatusBadge status={item.status} />
              </h3>
              <p>{item.sentence}</p>
              {item.reason ? <p class="muted">Reason: {item.reason}</p> : null}
              <EvidenceView evidence={evidence} now={now} open />
            </article>
          ))
        )}
      </section>

      <section aria-labelledby="decisions">
        <h2 id="decisions">Decisions</h2>
        {story.decisions.length === 0 ? (
          <p class="muted">No decisions yet.</p>
        ) : (
          <ul class="plain">
            {story.decisions.map((d) => (
              <li>
                Item {itemSeq.get(d.itemId)?.seq ?? '?'}: <DecisionLine decision={d} now={now} />
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="journal">
        <h2 id="journal">What apply did</h2>
        {story.outcomes.length === 0 ? (
          <p class="muted">Nothing applied yet.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Item</th>
                  <th scope="col">Step</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {story.outcomes.map((o) => (
                  <tr>
                    <td data-label="When">
                      <When at={o.at} now={now} />
                    </td>
                    <td data-label="Item">{itemSeq.get(o.itemId)?.seq ?? ''}</td>
                    <td data-label="Step">{o.step}</td>
                    <td data-label="Outcome">
                      <StatusBadge status={o.status ?? 'unknown'} /> {detailText(o.detail)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="backups">
        <h2 id="backups">Backups</h2>
        {story.backups.length === 0 ? (
          <p class="muted">No backups: dormant backs an identity up right before its first change.</p>
        ) : (
          <ul class="plain">
            {story.backups.map((b) => (
              <li>
                <code>{b.id}</code> taken <When at={b.createdAt} now={now} />
                {user.canDecide ? (
                  <>
                    {' · '}
                    <a href={`/backups/${encodeURIComponent(b.id)}/restore`}>Restore…</a>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </Layout>
  );
}
