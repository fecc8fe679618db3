/**
 * What the interchange formats (OCSF, ASFF) add to a finding beyond the JSON document: its
 * rule, its identity and credential, the recommended action in its provider's words, and
 * dormant as the product that reported it. Pure lookups; no I/O.
 */
import { reasonFor } from '../engine/plan.js';
import { parseConfig, type Config } from '../config/config.js';
import type { Finding, ScanResult, ScannedIdentity } from '../model/finding.js';
import type { Credential, ProviderName } from '../model/identity.js';
import { describersFor } from '../providers/registry.js';
import type { ActionDescriber } from '../providers/provider.js';
import { RULES, type Rule } from '../rules/index.js';

/** dormant as the product that reports findings; the version is package.json's (interchange.test.ts checks it). */
export const PRODUCT = { name: 'dormant', vendor: 'dormant', version: '0.1.0' } as const;

export interface FindingContext {
  finding: Finding;
  rule: Rule | undefined;
  identity: ScannedIdentity | undefined;
  /** The credential the finding is about, when it names one the identity still lists. */
  credential: Credential | undefined;
  /** The recommended action as a plan sentence: "Deactivate access key AKIA… of alice (unused 143 days)". */
  recommendation: string;
}

const RULE_BY_ID = new Map<string, Rule>(RULES.map((r) => [r.id, r]));

export interface ContextOptions {
  /** For the plan sentences (which steps disable-user takes, deleteAfterDays). Default: the default config. */
  config?: Config;
}

/** Looks up each finding's rule, identity and credential, and words its recommended action. */
export function findingContexts(result: ScanResult, options: ContextOptions = {}): FindingContext[] {
  const config = options.config ?? parseConfig({});
  const describers: Partial<Record<ProviderName, ActionDescriber>> = describersFor(config);
  const identities = new Map<string, ScannedIdentity>();
  for (const i of result.identities) identities.set(`${i.provider}\n${i.account}\n${i.id}`, i);
  return result.findings.map((finding) => {
    const rule = RULE_BY_ID.get(finding.ruleId);
    const identity = identities.get(`${finding.provider}\n${finding.account}\n${finding.identityId}`);
    const credential =
      finding.credentialId === null
        ? undefined
        : identity?.credentials.find(
            (c) => c.id === finding.credentialId || (c.id === null && c.handle === finding.credentialId),
          );
    const words = describers[finding.provider];
    const reason = reasonFor(rule, finding);
    const recommendation = words
      ? words.describe({
          action: finding.recommendedAction,
          identity: { name: finding.identityName, kind: identity?.kind ?? 'user' },
          credential: credential ? { kind: credential.kind, id: credential.id ?? finding.credentialId } : null,
          reason,
          deleteAfterDays: config.remediation.deleteAfterDays,
          notifyOnlyReason: identity?.notifyOnlyReason ?? null,
        })
      : `${finding.recommendedAction} ${finding.identityName} (${reason})`;
    return { finding, rule, identity, credential, recommendation };
  });
}

/** Milliseconds since the epoch (OCSF's timestamp_t), or undefined for a missing or unparsable time. */
export function epochMs(iso: string | null | undefined): number | undefined {
  if (iso === null || iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Cuts text to `max` characters, ending with an ellipsis when it was longer. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
