/**
 * Restore a Workspace user from its backup: undelete it (by id, into its org unit) while Google
 * still keeps it (20 days), re-add the aliases and group memberships that did not come back, and
 * unsuspend it; each change a journaled step that a rerun finishes. A user deleted longer ago
 * cannot come back, and the report says so plainly.
 */
import { z } from 'zod';
import { CloudError, UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { RestoreOptions, StepRunner } from '../provider.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure, googleMessage, googleStatus } from './google-errors.js';
import {
  readAliases,
  readGroups,
  readWorkspaceBackup,
  readWorkspaceUser,
  type WorkspaceBackupData,
} from './workspace-backup.js';
import { parseWorkspace } from './workspace-identity.js';

/** How long Google keeps a deleted user before it is gone for good. */
export const UNDELETE_DAYS = 20;

const deletedPageSchema = z.looseObject({
  users: z.array(z.looseObject({ id: z.string().min(1), deletionTime: z.string().nullish() })).nullish(),
  nextPageToken: z.string().nullish(),
});

/** The deleted user with this id, if Google still keeps it. */
async function findDeleted(ctx: GoogleContext, id: string): Promise<{ deletionTime: string | null } | null> {
  const directory = ctx.apis.directory('read');
  let pageToken: string | undefined;
  do {
    const res = await directory.users.list({
      customer: ctx.google.customer,
      showDeleted: 'true',
      maxResults: 500,
      ...(pageToken ? { pageToken } : {}),
    });
    const page = parseWorkspace(deletedPageSchema, res.data, 'a page of deleted users', 'restore again');
    const found = page.users?.find((u) => u.id === id);
    if (found) return { deletionTime: found.deletionTime ?? null };
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return null;
}

export async function restoreWorkspaceUser(
  ctx: GoogleContext,
  envelope: BackupEnvelope<unknown>,
  options: RestoreOptions,
  steps: StepRunner,
): Promise<RestoreReport> {
  const backup = readWorkspaceBackup(envelope);
  const data: WorkspaceBackupData = backup.data;
  const id = backup.identityId;
  const name = backup.identityName;
  const report: RestoreReport = { restored: [], cannotRestore: [], warnings: [] };
  const fail = (err: unknown) =>
    googleFailure(err, {
      what: `restoring Workspace user ${name}`,
      fix: 'restore again',
      subject: ctx.google.subject,
      serviceAccount: ctx.who?.serviceAccount ?? null,
      clientId: ctx.who?.clientId ?? null,
    });
  if (options.temporaryPassword) {
    report.warnings.push(
      `${name} keeps its own password when unsuspended or undeleted: the temporary password is not used`,
    );
  }
  try {
    let live = await readWorkspaceUser(ctx, id);
    // With `my_customer` nothing checked the customer before: a user of another one is not ours to change.
    if (live?.customerId && live.customerId !== backup.account) {
      throw new UsageError(
        `the backup of ${name} belongs to Google Workspace customer ${backup.account}, but google.subject administers ${live.customerId}; restore it with that customer's config`,
      );
    }
    if (!live) {
      const deleted = await findDeleted(ctx, id);
      if (!deleted) {
        report.cannotRestore.push(
          `Google Workspace user ${name} (${id}) cannot come back: Google keeps a deleted user ${UNDELETE_DAYS} days, then removes it for good with its mail, Drive files and calendars. Recreate it by hand from the backup (it gets a new id and a new password; its data stays lost unless it was transferred before the deletion).`,
        );
        return report;
      }
      const ou = await undelete(ctx, id, name, data.orgUnitPath, steps);
      report.restored.push(
        `user ${name} undeleted into ${ou} (same id; its mail, Drive files and calendars come back with it)`,
      );
      live = await readWorkspaceUser(ctx, id);
      if (!live) throw new CloudError(`Google undeleted ${name} (${id}) but does not return it yet; restore again`);
    }
    await reconcile(ctx, data, id, steps, report);
    // Undo dormant's own suspend only (its record of what it did, when the engine gives it).
    const dormantSuspended =
      options.changes !== undefined
        ? options.changes.some((c) => c.action === 'disable-user' || c.action === 'delete-user')
        : !data.suspended;
    if (live.suspended === true && !dormantSuspended) {
      report.warnings.push(`${name} is suspended, but not by dormant: it stays suspended`);
    } else if (live.suspended === true) {
      await steps.step('unsuspend-user', async () => {
        await ctx.apis.directory('write').users.patch({ userKey: id, requestBody: { suspended: false } });
      });
      report.restored.push(`${name} unsuspended: it can sign in again with its own password and 2-Step Verification`);
    }
    return report;
  } catch (err) {
    throw fail(err);
  }
}

/** Undelete into the backed-up org unit; a refused org unit stops the restore (never another unit). */
async function undelete(
  ctx: GoogleContext,
  id: string,
  name: string,
  orgUnitPath: string,
  steps: StepRunner,
): Promise<string> {
  const directory = ctx.apis.directory('write');
  const ou = orgUnitPath;
  await steps.step('undelete-user', async () => {
    try {
      await directory.users.undelete({ userKey: id, requestBody: { orgUnitPath } });
    } catch (err) {
      const status = googleStatus(err);
      // Undeleted by an earlier, interrupted run: the user is live again.
      if (status === 404 && (await readWorkspaceUser(ctx, id))) return;
      if (status === 409) {
        throw new CloudError(
          `cannot undelete ${name} (${id}): another user or group now has the address ${name} (${googleMessage(err)}); rename or remove it, then restore again`,
          'Conflict',
        );
      }
      if (status === 400 && orgUnitPath !== '/') {
        // Never into another org unit on our own: `/` may carry other (often broader) policies.
        throw new CloudError(
          `cannot undelete ${name} (${id}) into its org unit ${orgUnitPath}: Google refused it (${googleMessage(err)}); create the org unit again (or move it back), then restore again before the 20 days are over`,
          'OrgUnitRefused',
        );
      }
      throw err;
    }
  });
  return ou;
}

/**
 * Re-adds the aliases and group memberships the backup holds and the live user lacks. Only ever
 * adds; "already exists" counts as done, and one failure does not stop the rest.
 */
async function reconcile(
  ctx: GoogleContext,
  data: WorkspaceBackupData,
  id: string,
  steps: StepRunner,
  report: RestoreReport,
): Promise<void> {
  const write = ctx.apis.directory('write');
  const [aliases, groups] = await Promise.all([readAliases(ctx, id), readGroups(ctx, id)]);
  const attempt = async (step: string, label: string, fn: () => Promise<void>) => {
    try {
      await steps.step(step, fn);
      report.restored.push(label);
    } catch (err) {
      const reason =
        err instanceof CloudError
          ? err.message
          : googleStatus(err) === 404
            ? 'it no longer exists'
            : googleFailure(err, {
                what: label,
                fix: 'restore again',
                subject: ctx.google.subject,
                serviceAccount: ctx.who?.serviceAccount ?? null,
                clientId: ctx.who?.clientId ?? null,
              }).message;
      report.cannotRestore.push(`${label}: ${reason}`);
    }
  };

  const have = new Set(aliases.map((a) => a.toLowerCase()));
  for (const alias of data.aliases) {
    if (have.has(alias.toLowerCase())) continue;
    await attempt(`add-alias:${alias}`, `alias ${alias}`, async () => {
      try {
        await write.users.aliases.insert({ userKey: id, requestBody: { alias } });
      } catch (err) {
        if (googleStatus(err) !== 409) throw err;
        // Ours already (an earlier run), or taken by someone else since the deletion.
        const now = await readAliases(ctx, id);
        if (now.some((a) => a.toLowerCase() === alias.toLowerCase())) return;
        throw new CloudError('another user or group now has this address', 'Conflict');
      }
    });
  }

  const member = new Set(groups.map((g) => g.id));
  for (const g of data.groups) {
    if (member.has(g.id)) continue;
    const label = `${g.role === 'MEMBER' ? 'member' : g.role.toLowerCase()} of group ${g.email ?? g.name ?? g.id}`;
    await attempt(`add-group:${g.id}`, label, async () => {
      try {
        await write.members.insert({ groupKey: g.id, requestBody: { id, role: g.role } });
      } catch (err) {
        if (googleStatus(err) === 409) return;
        throw err;
      }
    });
  }
}
