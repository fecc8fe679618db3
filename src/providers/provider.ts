/**
 * The contracts every provider implements (one folder per provider, like Kysely's dialects).
 * A provider talks to one cloud, or one kind of file, and nothing else. The engine, the
 * store and the workflow see only these types; `registry.ts` turns configuration into them.
 */
import type { BackupEnvelope, RestoreReport } from '../model/backup.js';
import type { Evidence } from '../model/evidence.js';
import type { ActionName } from '../model/finding.js';
import type { Config } from '../config/config.js';
import type { Credential, Identity, IdentityKind, Inventory, ProviderName, ScanFailure } from '../model/identity.js';

export interface EnrichRequest {
  /** Identities with findings: fetch their tags (for exemptions and owners). */
  tags: Identity[];
  /** Identities with credential findings whose credentials are known only by `handle`: resolve their ids. */
  unresolved: Identity[];
}

/** What `scan` needs from a provider. */
export interface ScanProvider {
  /** Short name for messages: `aws`, `file`, `entra`. */
  readonly name: string;
  /** Build the whole inventory. Throws rather than return a partial one silently. */
  collect(): Promise<Inventory>;
  /**
   * Fetch what only identities with findings need, so the cost grows with the findings and
   * not with the account. Mutates the identities in place; returns warnings.
   */
  enrich(request: EnrichRequest): Promise<string[]>;
}

/** @deprecated name kept for existing imports: a scan provider. */
export type Provider = ScanProvider;

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

/** Which identity, as the plan recorded it. `id` is the provider's stable id; `name` may have changed since. */
export interface IdentityRef {
  provider: ProviderName;
  account: string;
  id: string;
  name: string;
}

export interface ActionTarget {
  identity: IdentityRef;
  /** The credential for credential-level actions (deactivate-key). */
  credentialId: string | null;
}

export interface RestoreOptions {
  /** Recreate a password with this temporary value; a reset is required at next sign-in. */
  temporaryPassword?: string;
  /**
   * What dormant did to the identity since it was last restored (done plan items), oldest first.
   * A provider undoes these and leaves any other difference from the backup alone (someone else's
   * change), saying so. Absent: the caller does not know (old callers); undo what the backup shows.
   * `steps`: the journaled steps of that item that finished (e.g. which quarantine policy was attached).
   */
  changes?: { action: ActionName; credentialId: string | null; steps?: string[] }[];
}

/** What a provider must offer for plan/apply/restore and the review's evidence (DESIGN §4). */
export interface RemediationProvider {
  readonly provider: ProviderName;
  /**
   * Re-read one identity live (not from a report), found by its stable id, with its tags and
   * with `protectedReason` set when it must never be acted on (a noun phrase the guard prints
   * as "item 3 (alice) is <reason>": "the identity dormant runs as", "the root user",
   * "a holder of the directory role Global Administrator"). Null when it no longer exists.
   */
  reread(target: IdentityRef): Promise<Identity | null>;
  /**
   * Optional, for the guards: the identity with only its protected/exempt marks (and tags), read
   * in fewer calls than `reread` (AWS: one GetUser). Credentials may be missing. Absent: the
   * guards use `reread`.
   */
  readMarks?(target: IdentityRef): Promise<Identity | null>;
  /**
   * True when the live identity is still in the state a disable left it in (for the delete's
   * re-check). `doneSteps`: the steps this item's earlier runs finished, for a provider whose
   * delete itself undoes part of the disable (an AWS role's quarantine goes right before DeleteRole).
   */
  isDisabled(live: Identity, doneSteps?: ReadonlySet<string>): boolean;
  /**
   * A full snapshot of the identity, taken before the first change. `live` is what this item's
   * re-check just read through `reread`: a provider may take the parts it already holds from it
   * rather than read them again.
   */
  backup(target: IdentityRef, live?: Identity | null): Promise<BackupEnvelope>;
  /** Validate a stored backup with this provider's schema; throws a one-line error when it does not fit. */
  readBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope;
  /** Perform one action as idempotent steps. A delete of something already gone counts as done. */
  perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void>;
  /** Rebuild an identity from a backup; say plainly what cannot come back. */
  restore(backup: BackupEnvelope, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport>;
  /** What the identity did last, for reviewers. Never throws: a source that fails is `unavailable`. */
  evidence(target: IdentityRef): Promise<Evidence>;
}

/** What the planner asks a provider to put in words. */
export interface DescribeRequest {
  action: ActionName;
  identity: { name: string; kind: IdentityKind };
  /** The credential a credential-level action is about. */
  credential: Pick<Credential, 'kind' | 'id'> | null;
  /** Why, already in words: "inactive 143 days", "never used", "unused 143 days". */
  reason: string;
  /** For delete: the days it waits in the disabled state (0: same run). */
  deleteAfterDays: number | null;
  /** For notify on an identity the provider marked notify-only: why nothing else is done. */
  notifyOnlyReason?: string | null;
}

/**
 * Plan sentences, in each provider's words ("Deactivate access key AKIA… of alice (unused 143 days)").
 * An action that cannot be undone says so here, so every review shows it.
 */
export interface ActionDescriber {
  describe(request: DescribeRequest): string;
  /** True when the action's effect cannot be undone by `restore`. */
  irreversible(action: ActionName, kind: IdentityKind): boolean;
  /** True when `id` names a real credential that can be acted on (not a report handle such as `access_key_1`). */
  isCredentialId(id: string): boolean;
}

/** What a command asks of the registry when it opens a provider. */
export interface ProviderOpenOptions {
  config: Config;
  progress?: ProgressSink;
  /** Scan flags that choose a provider's source (AWS: --source auto|report|api, --from-report FILE). */
  source?: string;
  fromReport?: string;
  /** `--org`: every account of the Organization (AWS), as `aws.organization.enabled` does. */
  org?: boolean;
}

/** One account of an organization as a run covers it. */
export interface OrganizationAccount {
  id: string;
  name: string;
}

/**
 * A provider whose accounts are scanned one by one (DESIGN §8: AWS Organizations), so that
 * the engine can spread them over one process's concurrency or over workers. Every account is
 * opened on its own: its scan and its remediation use that account's credentials.
 */
export interface OrganizationSession {
  readonly provider: ProviderName;
  /** The accounts to scan, and those listed but not scannable (suspended, closing) with why. */
  accounts(): Promise<{ accounts: OrganizationAccount[]; skipped: ScanFailure[] }>;
  /** One account: the management account with the caller's credentials, a member through its role. */
  openAccount(account: OrganizationAccount): Promise<ProviderSession>;
  /** Calls made by the listing and every account opened, for --verbose and the benchmark. */
  calls(): string | null;
  close(): void;
}

/** One opened provider: its clients are built once and shared by scan, remediation and evidence. */
export interface ProviderSession {
  readonly name: ProviderName;
  readonly scanner: ScanProvider;
  readonly remediation: RemediationProvider;
  /** Cloud calls made so far, for --verbose; null when there is nothing to count. */
  calls(): string | null;
  close(): void;
}

/** The permissions a provider needs, printed by `dormant permissions --provider NAME`. */
export interface PermissionsDocument {
  /** Printed as JSON: an IAM policy, a list of Graph application permissions, roles and scopes. */
  document: unknown;
}

/**
 * A provider as the registry lists it. Everything here is cheap: SDKs are loaded only in `open()`.
 */
export interface ProviderEntry {
  readonly name: ProviderName;
  /** On when the config enables it (AWS is on unless `--provider` says otherwise). */
  enabled(config: Config): boolean;
  /** Plan sentences in this provider's words. */
  describer(config: Config): ActionDescriber;
  /** `export` is a scan whose findings go to AWS Security Hub: providers other than AWS answer as for `scan`. */
  permissions(mode: 'scan' | 'remediate' | 'export', config: Config): PermissionsDocument;
  open(options: ProviderOpenOptions): Promise<ProviderSession>;
  /**
   * For a provider with many accounts to scan one by one: its organization when the options or
   * config ask for it (`--org`), else null (then `open()` scans as usual).
   */
  organization?(options: ProviderOpenOptions): Promise<OrganizationSession | null>;
}
