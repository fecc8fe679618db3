/** Plans, their items and approvals: what dormant proposes to change and who decided. No I/O. */
import type { ActionName } from './finding.js';
import type { IdentityKind, ProviderName } from './identity.js';

export type ItemStatus = 'pending' | 'approved' | 'denied' | 'done' | 'skipped' | 'failed';

export interface PlanItem {
  id: string;
  planId: string;
  /** Position in the plan; `approve PLAN 3` means item 3. */
  seq: number;
  provider: ProviderName;
  identityId: string;
  identityName: string;
  account: string;
  credentialId: string | null;
  action: ActionName;
  ruleIds: string[];
  findingIds: string[];
  status: ItemStatus;
  /** The item may not run before this time (delete-user waits `deleteAfterDays`). */
  notBefore: string;
  /** An item that must be done first (delete-user depends on disable-user). */
  dependsOn: string | null;
  /** The plan as a sentence: "Deactivate access key AKIA… of alice (unused 143 days)". */
  sentence: string;
  /** Why it was skipped, failed or denied. */
  reason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
}

export interface Plan {
  id: string;
  createdAt: string;
  scanId: string;
  /** Identities in the inventory the plan came from (for maxActionsPercent). */
  inventorySize: number;
  /** The same, per `provider|account`: maxActionsPercent holds in each account too. Absent in plans made before. */
  inventoryByAccount?: Record<string, number>;
  /**
   * The same, per `provider|account|kind`, and the kind of each identity the items name:
   * maxActionsPercent holds per kind too, so a account's many roles make no room for retiring
   * its few users. Absent in plans made before.
   */
  inventoryByKind?: Record<string, number>;
  kindOf?: Record<string, IdentityKind>;
  createdBy: string;
  items: PlanItem[];
}
