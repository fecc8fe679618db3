/**
 * Plain types for what a provider collects: identities and their credentials.
 * No I/O here; providers build these, rules and reports read them.
 */

/** How much we know about a credential's last use. */
export type LastUse =
  /** Used at `lastUsedAt`. */
  | 'used'
  /** The cloud says it was never used. */
  | 'never'
  /**
   * Not used since the cloud began tracking (AWS `no_information`): the last use,
   * if any, is before `trackingSince`. Never read as "never used".
   */
  | 'before-tracking'
  /** The source has no data (`not_supported`, missing permission). Never read as "never used". */
  | 'unknown';

export type CredentialKind = 'password' | 'access-key';

export interface Credential {
  kind: CredentialKind;
  /** Access key id; null for a password, or for a key slot not yet mapped to an id. */
  id: string | null;
  /** Credential report slot (`access_key_1`, `access_key_2`) when the source is a report. */
  slot?: string;
  /** `enabled` for a password; `Active` / `Inactive` for an access key. */
  status: 'enabled' | 'Active' | 'Inactive';
  /** When the credential was created (a password: last set or changed). Null when unknown. */
  createdAt: string | null;
  lastUsedAt: string | null;
  lastUse: LastUse;
  /** With `before-tracking`: the date tracking began. */
  trackingSince?: string;
  lastUsedService?: string | null;
  lastUsedRegion?: string | null;
}

export type IdentityState = 'active' | 'inactive' | 'exempt';

export interface Identity {
  provider: 'aws';
  account: string;
  kind: 'user';
  /** ARN for AWS. */
  id: string;
  name: string;
  path: string;
  createdAt: string | null;
  credentials: Credential[];
  mfaActive?: boolean;
  /**
   * The last console sign-in, even when the password has since been removed (a removed
   * password's last use is still activity).
   */
  passwordLastUsedAt?: string | null;
  /** Tags, when they were fetched (only for identities with findings). */
  tags?: Record<string, string>;
  /** True when this is the principal dormant runs as. It can have findings, never an action. */
  isCaller?: boolean;
}

export interface Caller {
  arn: string;
  account: string;
}

export type SourceName = 'credential-report' | 'api' | 'file';

export interface Inventory {
  source: SourceName;
  accounts: string[];
  /** When the underlying data was produced (the credential report's GeneratedTime). */
  dataAsOf: string | null;
  caller: Caller | null;
  identities: Identity[];
  warnings: string[];
}
