/**
 * Backups, and restore behind a confirmation page: the confirmation says what a restore does
 * and what cannot come back; the result lists what was restored and what was not.
 */
import type { RestoreReport } from '../../model/backup.js';
import type { BackupRow } from '../../store/dashboard-audit.js';
import type { Paged } from '../../store/dashboard.js';
import type { WebUser } from '../web-types.js';
import { Csrf, EmptyState, Pager, When, identityHref, planHref, withQuery } from './components.js';
import { Layout } from './layout.js';

const restoreHref = (id: string) => `/backups/${encodeURIComponent(id)}/restore`;

function Restores({ row, now }: { row: BackupRow; now: Date }) {
  if (row.restores.length === 0) return <span class="muted">never restored</span>;
  const last = row.restores[0]!;
  return (
    <span>
      restored by {last.by}, <When at={last.at} now={now} />
      {row.restores.length > 1 ? ` (${row.restores.length} times)` : ''}
    </span>
  );
}

export function BackupsPage({ user, now, backups }: { user: WebUser; now: Date; backups: Paged<BackupRow> }) {
  return (
    <Layout title="Backups" user={user} current="/backups">
      <h1>Backups</h1>
      {backups.total === 0 ? (
        <EmptyState title="No backups yet">
          <p>
            dormant takes a full backup of an identity right before its first change; they appear here once an approved
            plan has been applied.
          </p>
        </EmptyState>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Identity</th>
                  <th scope="col">Account</th>
                  <th scope="col">Taken</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Restores</th>
                  {user.canDecide ? <th scope="col">Restore</th> : null}
                </tr>
              </thead>
              <tbody>
                {backups.rows.map((b) => (
                  <tr>
                    <td data-label="Identity">
                      <a href={identityHref(b.provider, b.account, b.identityId)}>{b.identityName}</a>
                      <span class="muted small">
                        {' '}
                        {b.provider} {b.kind ?? ''}
                      </span>
                    </td>
                    <td data-label="Account">{b.account}</td>
                    <td data-label="Taken">
                      <When at={b.createdAt} now={now} />
                    </td>
                    <td data-label="Plan">{b.planId ? <a href={planHref(b.planId)}>{b.planId}</a> : '—'}</td>
                    <td data-label="Restores">
                      <Restores row={b} now={now} />
                    </td>
                    {user.canDecide ? (
                      <td data-label="Restore">
                        <a href={restoreHref(b.id)}>Restore {b.identityName}…</a>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager
            page={backups.page}
            pages={backups.pages}
            total={backups.total}
            noun="backups"
            href={(n) => withQuery('/backups', { page: n === 1 ? undefined : n })}
          />
        </>
      )}
    </Layout>
  );
}

export interface RestoreConfirmProps {
  user: WebUser;
  now: Date;
  backup: BackupRow;
  /** False in `dormant ui` without cloud sessions: the page says how to restore from a terminal. */
  available: boolean;
}

export function RestoreConfirmPage({ user, now, backup, available }: RestoreConfirmProps) {
  return (
    <Layout title={`Restore ${backup.identityName}`} user={user} current="/backups">
      <p class="crumbs">
        <a href="/backups">Backups</a> › {backup.id}
      </p>
      <h1>Restore {backup.identityName}?</h1>
      <dl class="facts">
        <dt>Identity</dt>
        <dd>
          <a href={identityHref(backup.provider, backup.account, backup.identityId)}>{backup.identityName}</a> (
          {backup.provider} {backup.kind ?? ''})
        </dd>
        <dt>Account</dt>
        <dd>{backup.account}</dd>
        <dt>Backup</dt>
        <dd>
          <code>{backup.id}</code>, taken <When at={backup.createdAt} now={now} />
        </dd>
        <dt>Restores</dt>
        <dd>
          {backup.restores.length === 0
            ? 'never restored'
            : `restored ${backup.restores.length} time(s), last by ${backup.restores[0]!.by}`}
        </dd>
      </dl>
      <div class="callout">
        <p>
          Restoring rebuilds the identity at {backup.provider} from this backup and undoes what dormant did to it since
          its last restore. Plan items still open for it are closed: it is only retired again after a new plan and a new
          review.
        </p>
        <p>
          <strong>Some things cannot come back</strong>: the secrets of deleted keys, and whatever the provider no
          longer keeps. The result lists them plainly.
        </p>
      </div>
      {!user.canDecide ? (
        <p class="notice warn">You are signed in as a viewer: only approvers can restore.</p>
      ) : available ? (
        <form method="post" action={restoreHref(backup.id)} class="confirm">
          <Csrf user={user} />
          <button type="submit" class="danger">
            Restore {backup.identityName}
          </button>{' '}
          <a href="/backups">Cancel</a>
        </form>
      ) : (
        <p class="notice warn">
          This dashboard has no cloud session to restore with. In a terminal with credentials for {backup.provider}, run{' '}
          <code>dormant restore {backup.id}</code>.
        </p>
      )}
    </Layout>
  );
}

export function RestoreResultPage({
  user,
  backup,
  report,
}: {
  user: WebUser;
  backup: BackupRow;
  report: RestoreReport;
}) {
  return (
    <Layout title={`Restored ${backup.identityName}`} user={user} current="/backups">
      <h1>Restored {backup.identityName}</h1>
      <p class="notice ok" role="status">
        {backup.identityName} was restored from backup <code>{backup.id}</code>.
      </p>
      <h2>Restored</h2>
      {report.restored.length === 0 ? (
        <p class="muted">Nothing needed restoring.</p>
      ) : (
        <ul>
          {report.restored.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      )}
      {report.cannotRestore.length > 0 ? (
        <>
          <h2>Cannot come back</h2>
          <ul class="warn-list">
            {report.cannotRestore.map((r) => (
              <li>{r}</li>
            ))}
          </ul>
        </>
      ) : null}
      {report.warnings.length > 0 ? (
        <>
          <h2>Warnings</h2>
          <ul>
            {report.warnings.map((w) => (
              <li>{w}</li>
            ))}
          </ul>
        </>
      ) : null}
      <p>
        <a href={identityHref(backup.provider, backup.account, backup.identityId)}>See {backup.identityName}</a> ·{' '}
        <a href="/backups">Back to backups</a>
      </p>
    </Layout>
  );
}
