/**
 * The Google RemediationProvider: one entry point for the engine, handing Workspace users to
 * WorkspaceRemediation and service accounts (and their keys) to CloudRemediation. A plan
 * reference carries no kind; a service account is told apart by its email's domain
 * (`…gserviceaccount.com`), which no Workspace user can have. Backups carry their kind.
 */
import { UsageError } from '../../errors.js';
import type { BackupEnvelope, RestoreReport } from '../../model/backup.js';
import type { Evidence } from '../../model/evidence.js';
import type { ActionName } from '../../model/finding.js';
import type { Identity } from '../../model/identity.js';
import type { ActionTarget, IdentityRef, RemediationProvider, RestoreOptions, StepRunner } from '../provider.js';
import { CloudRemediation } from './cloud-remediation.js';
import type { GoogleContext } from './google-context.js';
import { WorkspaceRemediation } from './workspace-remediation.js';

export function isServiceAccountEmail(name: string): boolean {
  return /@[^@]*\.?gserviceaccount\.com$/i.test(name);
}

export class GoogleRemediation implements RemediationProvider {
  readonly provider = 'google' as const;
  private readonly workspace: WorkspaceRemediation;
  private readonly cloud: CloudRemediation;

  constructor(ctx: GoogleContext, caller: string | null) {
    this.workspace = new WorkspaceRemediation(ctx);
    this.cloud = new CloudRemediation(ctx, { caller });
  }

  private part(name: string): WorkspaceRemediation | CloudRemediation {
    return isServiceAccountEmail(name) ? this.cloud : this.workspace;
  }

  private byKind(kind: string): WorkspaceRemediation | CloudRemediation {
    if (kind === 'user') return this.workspace;
    if (kind === 'service-account') return this.cloud;
    throw new UsageError(`a Google backup of kind '${kind}' is not one dormant makes (user or service-account)`);
  }

  reread(target: IdentityRef): Promise<Identity | null> {
    return this.part(target.name).reread(target);
  }

  isDisabled(live: Identity): boolean {
    return (live.kind === 'service-account' ? this.cloud : this.workspace).isDisabled(live);
  }

  backup(target: IdentityRef): Promise<BackupEnvelope> {
    return this.part(target.name).backup(target);
  }

  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope {
    return this.byKind(envelope.kind).readBackup(envelope);
  }

  perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    return this.part(target.identity.name).perform(action, target, steps);
  }

  restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
    return this.byKind(backup.kind).restore(backup, options, steps);
  }

  evidence(target: IdentityRef): Promise<Evidence> {
    return this.part(target.name).evidence(target);
  }
}
