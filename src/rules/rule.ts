/**
 * The contract every rule implements: metadata beside a pure `evaluate()`.
 * Rules never do I/O; providers collect, rules only read.
 */
import type { Credential, Identity } from '../model/identity.js';
import type { ActionName, Severity } from '../model/finding.js';

export interface RuleMeta {
  /** Stable id, e.g. DORMANT-AWS-002. Never renamed. */
  id: string;
  /** Short name used in config (`rules.<name>`) and output. */
  name: string;
  title: string;
  severity: Severity;
  compliance: readonly string[];
  defaultAction: ActionName;
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
