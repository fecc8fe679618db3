/**
 * The contract every provider implements (one folder per provider, like Kysely's dialects).
 * A provider talks to one cloud, or one kind of file, and nothing else.
 */
import type { RestoreReport, UserBackup } from '../model/backup.js';
import type { ActionName } from '../model/finding.js';
import type { Caller, Identity, Inventory } from '../model/identity.js';

export interface EnrichRequest {
  /** Identities with findings: fetch their tags (for exemptions and owners). */
  tags: Identity[];
  /** Identities with access-key findings whose keys are known only by report slot: map slots to key ids. */
  keySlots: Identity[];
}

export interface Provider {
  /** Short name for messages: `aws`, `file`. */
  readonly name: string;
  /** Build the whole inventory. Throws rather than return a partial one silently. */
  collect(): Promise<Inventory>;
  /**
   * Fetch what only identities with findings need, so the cost grows with the findings and
   * not with the account. Mutates the identities in place; returns warnings.
   */
  enrich(request: EnrichRequest): Promise<string[]>;
}

/** Progress lines for a human watching; the CLI shows them on stderr only when it is a TTY. */
export type ProgressSink = (message: string) => void;

/**
 * Runs one named, idempotent step of an action. The engine journals an intent before and an
 * outcome after each step; a provider must only change the cloud inside `step()`.
 */
export interface StepRunner {
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
  warn(message: string): void;
}

export interface ActionTarget {
  userName: string;
  identityId: string;
  /** The access key for deactivate-key. */
  credentialId: string | null;
}

export interface ActionSettings {
  /** What disable-user does (DESIGN §3 `remediation.disableUser`). */
  disableUser: ('deactivate-keys' | 'remove-password' | 'quarantine')[];
  quarantinePolicyArn: string | null;
}

export interface RestoreOptions {
  /** Recreate the console password with this temporary value; a reset is required at next sign-in. */
  temporaryPassword?: string;
}

/** What a provider must offer for plan/apply/restore (DESIGN §4). */
export interface RemediationProvider {
  /** The principal dormant runs as (never acted on). */
  caller(): Promise<Caller>;
  /** Re-read one identity live (not from a report), with its tags; null when it no longer exists. */
  reread(userName: string): Promise<Identity | null>;
  /** A full snapshot of the identity, taken before the first change. */
  backup(userName: string): Promise<UserBackup>;
  /** Perform one action as idempotent steps. NoSuchEntity on a delete counts as done. */
  perform(action: ActionName, target: ActionTarget, settings: ActionSettings, steps: StepRunner): Promise<void>;
  /** Rebuild an identity from a backup. */
  restore(backup: UserBackup, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport>;
}
