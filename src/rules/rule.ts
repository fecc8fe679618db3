/**
 * The contract every rule implements: metadata beside a pure `evaluate()`.
 * Rules never do I/O; providers collect, rules only read. The engine reads the metadata
 * (provider, kinds, scope, action, supersedes) and never switches on a rule id.
 */
import type { Credential, Identity, IdentityKind, ProviderName } from '../model/identity.js';
import type { ActionName, Severity } from '../model/finding.js';

export interface RuleMeta {
  /** Stable id, e.g. DORMANT-AWS-002. Never renamed. */
  id: string;
  /** Short name used in config (`rules.<name>`) and output; the same name may exist for several providers. */
  name: string;
  title: string;
  /** The provider whose identities the rule reads. */
  provider: ProviderName;
  /** The kinds of identity it applies to. */
  identityKinds: readonly IdentityKind[];
  /**
   * `identity`: a verdict on the whole identity (it becomes `inactive`; the plan disables it,
   * then deletes it after `deleteAfterDays`). `credential`: a verdict on one credential.
   */
  scope: 'identity' | 'credential';
  severity: Severity;
  compliance: readonly string[];
  defaultAction: ActionName;
  /**
   * For credential rules whose action disables the credential: delete it after
   * `remediation.deleteAfterDays` with this action (Google keys). Absent: the disable is the end.
   */
  thenAction?: ActionName;
  /**
   * When the rule's activity data arrives late (Policy Analyzer: up to two days), the delete that
   * follows the disable waits at least this many days, whatever `deleteAfterDays` says, so that
   * the live re-check before the delete sees a use from just before the disable.
   */
  minDeleteAfterDays?: number;
  /** How a plan sentence says why: "inactive 143 days", "never used", "unused 143 days". */
  verdict: 'inactive' | 'never-used' | 'unused' | 'unrotated';
  /** Rules this one replaces on the same identity when both hit (the more specific verdict wins). */
  supersedes?: readonly string[];
  rationale: string;
  /** Whether the rule uses the inactivity window (otherwise it has its own `days`). */
  usesWindow: boolean;
  /** Default for `rules.<name>.days` when the rule does not use the window. */
  defaultDays?: number;
}

export interface RuleContext {
  now: Date;
  /** The window in days for this rule (the global one or the rule's override). */
  days: number;
}

export interface RuleHit {
  credential: Credential | null;
  message: string;
  lastActivityAt: string | null;
  daysSinceActivity: number | null;
}

export interface Rule extends RuleMeta {
  evaluate(identity: Identity, ctx: RuleContext): RuleHit[];
}
