/**
 * The Entra RemediationProvider: re-reads a user by object id with its live marks, backs it up,
 * disables it (block sign-in, then revoke sessions), soft-deletes it, restores it, and gathers
 * its sign-in evidence (DESIGN §2c, §4).
 */
import { CloudError, UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Identity } from '../../model/identity.js';
import type { ActionTarget, IdentityRef, RemediationProvider, RestoreOptions, StepRunner } from '../provider.js';
import { readEntraBackup, takeEntraBackup } from './entra-backup.js';
import { UserMarks, type EntraContext } from './entra-collect.js';
import { graphFailure, isSignInActivityRefused } from './entra-errors.js';
import { entraSignInEvidence } from './entra-evidence.js';
import { GraphRequestError, parseBody } from './entra-graph.js';
import {
  graphUserSchema,
  graphUserWithoutSignInSchema,
  identityMapper,
  USER_SELECT,
  USER_SELECT_WITHOUT_SIGN_IN,
  type GraphUser,
} from './entra-identity.js';
import { restoreEntraUser } from './entra-restore.js';

export class EntraRemediation implements RemediationProvider {
  readonly provider = 'entra' as const;
  /** Per-user marks for re-reads; the tenant-wide part is kept at most 60 s. */
  private readonly marks: UserMarks;

  constructor(
    private readonly ctx: EntraContext,
    private readonly clock: () => Date = () => new Date(),
  ) {
    // The real clock: the directory clock of tests and the demo may jump by days.
    this.marks = new UserMarks(ctx);
  }

  private checkTenant(target: IdentityRef): void {
    if (target.account !== this.ctx.entra.tenantId) {
      throw new UsageError(
        `${target.name} belongs to Entra tenant ${target.account}, but entra.tenantId is ${this.ctx.entra.tenantId}; run with that tenant's config`,
      );
    }
  }

  private async readUser(id: string): Promise<GraphUser | null> {
    const path = (select: readonly string[]) => `/users/${encodeURIComponent(id)}?$select=${select.join(',')}`;
    try {
      try {
        return parseBody(graphUserSchema, await this.ctx.transport.send('GET', path(USER_SELECT)), `user ${id}`);
      } catch (err) {
        if (!isSignInActivityRefused(err)) throw err;
        return parseBody(
          graphUserWithoutSignInSchema,
          await this.ctx.transport.send('GET', path(USER_SELECT_WITHOUT_SIGN_IN)),
          `user ${id}`,
        );
      }
    } catch (err) {
      // Gone, or soft-deleted (Graph answers 404 for both).
      if (err instanceof GraphRequestError && err.status === 404) return null;
      throw err;
    }
  }

  /** Found by object id, so a user renamed since the plan is still the same user. */
  async reread(target: IdentityRef): Promise<Identity | null> {
    this.checkTenant(target);
    try {
      const user = await this.readUser(target.id);
      if (!user) return null;
      const marks = await this.marks.of(user.id);
      return identityMapper({ tenantId: this.ctx.entra.tenantId, exemptUsers: this.ctx.entra.exemptUsers, marks })(
        user,
      );
    } catch (err) {
      throw graphFailure(err, 'apply again');
    }
  }

  isDisabled(live: Identity): boolean {
    return live.enabled === false;
  }

  async backup(target: IdentityRef): Promise<BackupEnvelope> {
    this.checkTenant(target);
    try {
      return await takeEntraBackup(this.ctx, target, this.clock());
    } catch (err) {
      if (err instanceof GraphRequestError && err.status === 404) {
        throw new CloudError(
          `Entra user ${target.name} (${target.id}) no longer exists; nothing to back up`,
          'NotFound',
        );
      }
      throw graphFailure(err, 'apply again');
    }
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope {
    return readEntraBackup(envelope);
  }

  async perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    this.checkTenant(target.identity);
    const path = `/users/${encodeURIComponent(target.identity.id)}`;
    const send = async (method: 'PATCH' | 'POST' | 'DELETE', p: string, body?: unknown) => {
      try {
        await this.ctx.transport.send(method, p, body);
      } catch (err) {
        throw graphFailure(err, 'apply again');
      }
    };
    switch (action) {
      case 'disable-user':
        // Two steps, so that a crash between them resumes with the revoke: blocking sign-in
        // alone leaves refresh tokens working for up to an hour.
        await steps.step('disable-account', () => send('PATCH', path, { accountEnabled: false }));
        await steps.step('revoke-sessions', () => send('POST', `${path}/revokeSignInSessions`, {}));
        return;
      case 'delete-user':
        await steps.step('delete-user', async () => {
          try {
            await this.ctx.transport.send('DELETE', path);
          } catch (err) {
            // Already in deletedItems (an earlier, interrupted run): done.
            if (err instanceof GraphRequestError && err.status === 404) return;
            throw graphFailure(err, 'apply again');
          }
        });
        return;
      case 'notify':
        return;
      default:
        throw new UsageError(`${action} is not an action on Entra users (disable-user, delete-user or notify)`);
    }
  }

  async restore(backup: BackupEnvelope, _options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    // Before any call: a backup of another tenant must not be replayed into this one.
    if (backup.account !== this.ctx.entra.tenantId) {
      throw new UsageError(
        `the backup of ${backup.identityName} belongs to Entra tenant ${backup.account}, but entra.tenantId is ${this.ctx.entra.tenantId}; restore it with that tenant's config`,
      );
    }
    return restoreEntraUser(this.ctx, backup, steps);
  }

  async evidence(target: IdentityRef): Promise<Evidence> {
    return [await entraSignInEvidence(this.ctx, target, this.clock())];
  }
}
