/**
 * Backups as versioned envelopes (DESIGN §1): the engine and the store move them around,
 * and only the provider named in the envelope reads `data`, validating it with its own
 * schema on the way back in. Secrets are never in a backup.
 */
import type { IdentityKind, ProviderName } from './identity.js';

export interface BackupEnvelope<T = unknown> {
  provider: ProviderName;
  kind: IdentityKind;
  /** The version of `data`'s shape, owned by the provider. */
  version: number;
  takenAt: string;
  account: string;
  identityId: string;
  identityName: string;
  data: T;
}

export interface RestoreReport {
  /** What was brought back, as sentences. */
  restored: string[];
  /** What cannot come back, said plainly (deleted key secrets, MFA seeds, a purged user, ...). */
  cannotRestore: string[];
  warnings: string[];
}
