/**
 * Plain, provider-neutral types for what a provider collects: identities and their
 * credentials. No I/O and no cloud's vocabulary; providers build these, rules and reports read them.
 */

/** Every provider the registry knows (providers/registry.ts). */
export type ProviderName = 'aws' | 'entra' | 'google';

/** How much we know about a last use (of a credential, or of an identity's sign-in). */
export type LastUse =
  /** Used at `lastUsedAt`. */
  | 'used'
  /** The cloud says it was never used. */
  | 'never'
  /**
   * Not used since the cloud began tracking: the last use, if any, is before `trackingSince`.
   * Never read as "never used".
   */
  | 'before-tracking'
  /** The source has no data (unsupported, missing permission or licence). Never read as "never used". */
  | 'unknown';

/** What a credential is, in plain words; each provider uses the kinds it has. */
export type CredentialKind = 'password' | 'access-key' | 'key';

export interface Credential {
  kind: CredentialKind;
  /** The credential's id at its provider; null for a password, or when the source names it only by `handle`. */
  id: string | null;
  /** How the source names a credential whose id it does not give (e.g. a report column group). */
  handle?: string;
  /** The provider's own status word, shown as-is (never compared by the engine). */
  status: string;
  /** Whether the credential can be used now. */
  enabled: boolean;
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

/** What an identity is: a person's account, an invited guest, a workload's role or service account. */
export type IdentityKind = 'user' | 'guest' | 'role' | 'service-account';

/** Where a sign-in record stands for identities that sign in themselves (not through a credential). */
export interface SignIn {
  lastUse: LastUse;
  /** The latest sign-in of any kind, when `lastUse` is `used`. */
  at: string | null;
  /** With `before-tracking`: when the provider began recording sign-ins. */
  trackingSince?: string;
}

export interface Identity {
  provider: ProviderName;
  /** The account, tenant, customer or project the identity lives in. */
  account: string;
  kind: IdentityKind;
  /** The provider's stable id (AWS: the ARN; Entra: the object id). */
  id: string;
  /** The name people use (AWS: user name; Entra: userPrincipalName). */
  name: string;
  /** Where it sits in its provider's hierarchy (AWS path, org unit); '/' when there is none. */
  path: string;
  displayName?: string | null;
  mail?: string | null;
  createdAt: string | null;
  /** False when the identity is already disabled at its provider (sign-in blocked, suspended). */
  enabled?: boolean;
  credentials: Credential[];
  /**
   * The identity's last sign-in, even when the credential used for it has since been removed
   * (a removed password's last use is still activity).
   */
  lastSignInAt?: string | null;
  /** For providers that track sign-ins per identity: how much is known about them. */
  signIn?: SignIn;
  /** For invited guests: whether the invitation was redeemed, and when its state last changed. */
  invitation?: { state: 'pending' | 'accepted'; changedAt: string | null };
  mfaActive?: boolean;
  /** Tags or labels, when they were fetched (only for identities with findings). */
  tags?: Record<string, string>;
  /** True when this is the principal dormant runs as. */
  isCaller?: boolean;
  /**
   * Set by the provider for identities that must never be acted on (the caller, a root, a
   * privileged administrator): they can have findings, never an action. The engine does not
   * need to know why.
   */
  protectedReason?: string | null;
  /** Set by the provider when its own exemption settings match (e.g. membership of an exempt group). */
  exemptReason?: string | null;
  /**
   * Set by the provider when acting on the identity would not stick (e.g. synced from a
   * directory that overwrites it): findings get the action `notify` with this reason.
   */
  notifyOnlyReason?: string | null;
}

export interface Caller {
  /** The provider's id of the principal dormant runs as (AWS: the ARN). */
  arn: string;
  account: string;
}

export type SourceName = 'credential-report' | 'api' | 'file' | 'graph' | 'memory';

/** An account (project, tenant) a scan could not read: the scan is partial, and says so. */
export interface ScanFailure {
  provider: ProviderName;
  account: string;
  reason: string;
}

export interface Inventory {
  /** Which provider produced it. */
  provider: ProviderName;
  source: SourceName;
  accounts: string[];
  /** When the underlying data was produced (the credential report's GeneratedTime). */
  dataAsOf: string | null;
  caller: Caller | null;
  identities: Identity[];
  warnings: string[];
  /** Accounts that could not be read (the rest of the inventory is still whole for the others). */
  failures?: ScanFailure[];
}
