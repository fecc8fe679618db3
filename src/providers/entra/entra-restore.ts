/**
 * Restore an Entra user from its backup: re-enable it if it exists, or restore it from
 * deletedItems and re-add what did not come back (groups, roles, app roles, licences, manager);
 * a user purged from deletedItems cannot come back, and the report says so.
 */
import { z } from 'zod';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { StepRunner } from '../provider.js';
import type { EntraContext } from './entra-collect.js';
import { graphFailure } from './entra-errors.js';
import { GraphRequestError, parseBody } from './entra-graph.js';
import {
  isDirectoryRole,
  isGroup,
  readAppRoleAssignments,
  readEntraBackup,
  readManager,
  readMemberOf,
  readUserProperties,
  type EntraBackupData,
} from './entra-backup.js';

/** How long Entra keeps a deleted user in deletedItems before purging it. */
export const SOFT_DELETE_DAYS = 30;

const deletedItemSchema = z.object({ id: z.string().min(1), deletedDateTime: z.string().nullable().optional() });

/** Graph's answer when a reference being added is already there: the step is done. */
function alreadyThere(err: unknown): boolean {
  return (
    err instanceof GraphRequestError &&
    (err.status === 409 || (err.status === 400 && /already exist/i.test(err.graphMessage)))
  );
}

async function exists(ctx: EntraContext, path: string): Promise<unknown | null> {
  try {
    return await ctx.transport.send('GET', path);
  } catch (err) {
    if (err instanceof GraphRequestError && err.status === 404) return null;
    throw err;
  }
}

export async function restoreEntraUser(
  ctx: EntraContext,
  envelope: BackupEnvelope<unknown>,
  steps: StepRunner,
): Promise<RestoreReport> {
  const backup = readEntraBackup(envelope);
  const data: EntraBackupData = backup.data;
  const id = backup.identityId;
  const name = backup.identityName;
  const enc = encodeURIComponent(id);
  const report: RestoreReport = { restored: [], cannotRestore: [], warnings: [] };
  try {
    const live = await exists(ctx, `/users/${enc}?$select=id,accountEnabled`);
    if (live === null) {
      const deleted = await exists(ctx, `/directory/deletedItems/${enc}`);
      if (deleted === null) {
        report.cannotRestore.push(
          `Entra user ${name} (${id}) is no longer in deleted items: Entra purges a deleted user after ${SOFT_DELETE_DAYS} days, and a purged user cannot be restored. Recreate it from the backup by hand (it gets a new object id; its sign-in history stays lost).`,
        );
        return report;
      }
      parseBody(deletedItemSchema, deleted, `deleted item ${id}`);
      await steps.step('restore-user', async () => {
        try {
          await ctx.transport.send('POST', `/directory/deletedItems/${enc}/restore`, {});
        } catch (err) {
          // Restored by an earlier, interrupted run: the user is live again.
          if (err instanceof GraphRequestError && err.status === 404 && (await exists(ctx, `/users/${enc}?$select=id`)))
            return;
          throw err;
        }
      });
      report.restored.push(`user ${name} restored from deleted items (same object id)`);
    }
    await reconcile(ctx, backup.data, id, steps, report);
    const wasEnabled = data.user.accountEnabled !== false;
    const now = parseBody(
      z.object({ accountEnabled: z.boolean().nullable() }),
      await ctx.transport.send('GET', `/users/${enc}?$select=id,accountEnabled`),
      `user ${id}`,
    );
    if (wasEnabled && now.accountEnabled === false) {
      await steps.step('enable-account', () => ctx.transport.send('PATCH', `/users/${enc}`, { accountEnabled: true }));
      report.restored.push(
        `sign-in re-enabled for ${name} (sessions revoked by the disable stay revoked: the user signs in again)`,
      );
    }
    return report;
  } catch (err) {
    throw graphFailure(err, 'restore again');
  }
}

/**
 * Re-adds what the backup holds and the live user lacks. Only ever adds; each addition is its
 * own journaled step, and "already exists" counts as done, so a rerun after a crash finishes the job.
 */
async function reconcile(
  ctx: EntraContext,
  data: EntraBackupData,
  id: string,
  steps: StepRunner,
  report: RestoreReport,
): Promise<void> {
  const enc = encodeURIComponent(id);
  const [memberOf, appRoles, manager, user] = await Promise.all([
    readMemberOf(ctx, id),
    readAppRoleAssignments(ctx, id),
    readManager(ctx, id),
    readUserProperties(ctx, id),
  ]);
  const graphBase = `${ctx.origin}/v1.0`;
  const ref = { '@odata.id': `${graphBase}/directoryObjects/${id}` };

  const attempt = async (step: string, label: string, fn: () => Promise<unknown>) => {
    try {
      await steps.step(step, async () => {
        try {
          await fn();
        } catch (err) {
          if (alreadyThere(err)) return;
          throw err;
        }
      });
      report.restored.push(label);
    } catch (err) {
      // One missing group or role must not stop the rest from coming back.
      const reason =
        err instanceof GraphRequestError && err.status === 404
          ? 'it no longer exists'
          : graphFailure(err, 'restore again').message;
      report.cannotRestore.push(`${label}: ${reason}`);
    }
  };

  const groupIds = new Set(memberOf.filter(isGroup).map((g) => g.id));
  for (const g of data.groups) {
    if (groupIds.has(g.id)) continue;
    await attempt(`add-group:${g.id}`, `member of group ${g.displayName ?? g.id}`, () =>
      ctx.transport.send('POST', `/groups/${encodeURIComponent(g.id)}/members/$ref`, ref),
    );
  }
  const roleIds = new Set(memberOf.filter(isDirectoryRole).map((r) => r.id));
  for (const r of data.directoryRoles) {
    if (roleIds.has(r.id)) continue;
    await attempt(`add-role:${r.id}`, `directory role ${r.displayName ?? r.id}`, () =>
      ctx.transport.send('POST', `/directoryRoles/${encodeURIComponent(r.id)}/members/$ref`, ref),
    );
  }
  const assigned = new Set(appRoles.map((a) => `${a.resourceId}/${a.appRoleId}`));
  for (const a of data.appRoleAssignments) {
    if (assigned.has(`${a.resourceId}/${a.appRoleId}`)) continue;
    await attempt(
      `add-app-role:${a.resourceId}:${a.appRoleId}`,
      `app role ${a.appRoleId} of ${a.resourceDisplayName ?? a.resourceId}`,
      () =>
        ctx.transport.send('POST', `/users/${enc}/appRoleAssignments`, {
          principalId: id,
          resourceId: a.resourceId,
          appRoleId: a.appRoleId,
        }),
    );
  }
  const skus = new Set(user.assignedLicenses.map((l) => l.skuId));
  const missing = data.assignedLicenses.filter((l) => !skus.has(l.skuId));
  if (missing.length > 0) {
    await attempt(
      'assign-licenses',
      `licence${missing.length > 1 ? 's' : ''} ${missing.map((l) => l.skuId).join(', ')}`,
      () => ctx.transport.send('POST', `/users/${enc}/assignLicense`, { addLicenses: missing, removeLicenses: [] }),
    );
  }
  if (data.manager && manager?.id !== data.manager.id) {
    const m = data.manager;
    await attempt('set-manager', `manager ${m.userPrincipalName ?? m.id}`, () =>
      ctx.transport.send('PUT', `/users/${enc}/manager/$ref`, { '@odata.id': `${graphBase}/users/${m.id}` }),
    );
  }
}
