/** The result of evaluating rules over an inventory. Plain data, no I/O. */
import type { Identity, IdentityState, ProviderName, ScanFailure, SourceName } from './identity.js';

export type Severity = 'low' | 'medium' | 'high';
export const SEVERITY_ORDER: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

export type ActionName =
  | 'disable-user'
  | 'delete-user'
  | 'deactivate-key'
  /** Deletes a credential the plan disabled earlier (`deleteAfterDays` after its deactivate-key). */
  | 'delete-key'
  | 'remove-password'
  | 'notify';

/** Actions that remove something dormant disabled first: they wait, and re-check that it is still disabled. */
export const DELETE_ACTIONS: readonly ActionName[] = ['delete-user', 'delete-key'];

export interface Finding {
  /** Stable hash of rule + identity + credential. */
  id: string;
  provider: ProviderName;
  ruleId: string;
  rule: string;
  severity: Severity;
  identityId: string;
  identityName: string;
  account: string;
  credentialId: string | null;
  /** Set when the source named the credential only by a handle (`credentialId` is then that handle, not an id). */
  credentialHandle?: string;
  /** The credential's report slot (`access_key_1`, `access_key_2`) when the source is a credential report. */
  credentialSlot?: string;
  /** With `credentialSlot`: the key's creation time (the report's last_rotated), what maps a slot to its key. */
  credentialCreatedAt?: string | null;
  message: string;
  lastActivityAt: string | null;
  daysSinceActivity: number | null;
  compliance: string[];
  recommendedAction: ActionName;
}

export interface ScannedIdentity extends Identity {
  lastActivityAt: string | null;
  state: IdentityState;
  exemptReason: string | null;
  /** Why a verdict could not be reached (unknown data), if any. */
  notes?: string[];
}

/** One provider's part of a scan. */
export interface ProviderScan {
  provider: ProviderName;
  source: SourceName;
  accounts: string[];
  dataAsOf: string | null;
}

export interface ScanResult {
  schemaVersion: 1;
  generatedAt: string;
  /** The source of the only provider scanned, or `mixed` when there were several (see `providers`). */
  source: SourceName | 'mixed';
  providers: ProviderScan[];
  dataAsOf: string | null;
  accounts: string[];
  settings: { inactiveDays: number };
  identities: ScannedIdentity[];
  findings: Finding[];
  warnings: string[];
  /** Accounts (projects, tenants) that could not be read; present only when there are some (DESIGN §3). */
  failures?: ScanFailure[];
  /** Accounts listed but not scanned, with why (an Organization's suspended or closing accounts); present only when there are some. */
  skipped?: ScanFailure[];
  summary: { identities: number; inactive: number; exempt: number; findings: number };
}
