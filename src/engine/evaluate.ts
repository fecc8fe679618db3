/**
 * Pure evaluation of the rules over identities: which rules apply (by provider and kind),
 * exemptions, and supersession (the more specific verdict on an identity wins). No I/O.
 */
import type { Config } from '../config/config.js';
import type { Identity } from '../model/identity.js';
import { RULES, type Rule, type RuleHit } from '../rules/index.js';
import { Exemptions } from './exemptions.js';

export interface Evaluated {
  identity: Identity;
  hits: { rule: Rule; hit: RuleHit }[];
  exemptReason: string | null;
}

/** `rules.<name>` or `rules.<id>` in the config; the id wins when both are set. */
function ruleSettings(rule: Rule, config: Config): { enabled?: boolean; days?: number } | undefined {
  const rules = config.rules as Record<string, { enabled?: boolean; days?: number } | undefined>;
  return rules[rule.id] ?? rules[rule.name];
}

/** The window a rule uses: its override, else the global window (or its own default). */
export function ruleDays(rule: Rule, config: Config): number {
  const override = ruleSettings(rule, config)?.days;
  if (override !== undefined) return override;
  return rule.usesWindow ? config.inactiveDays : (rule.defaultDays ?? config.inactiveDays);
}

export function enabledRules(config: Config): Rule[] {
  return RULES.filter((r) => ruleSettings(r, config)?.enabled !== false);
}

/** The rules that read this identity: its provider's, for its kind. */
export function rulesFor(identity: Identity, rules: readonly Rule[]): Rule[] {
  return rules.filter((r) => r.provider === identity.provider && r.identityKinds.includes(identity.kind));
}

/** Drop hits of rules superseded by another rule that hit the same identity. */
export function applySupersession<T extends { rule: Rule }>(hits: T[]): T[] {
  const superseded = new Set(hits.flatMap((h) => h.rule.supersedes ?? []));
  return superseded.size === 0 ? hits : hits.filter((h) => !superseded.has(h.rule.id));
}

export function evaluate(identities: Identity[], config: Config, now: Date): Evaluated[] {
  const rules = enabledRules(config);
  const exemptions = new Exemptions(config.exempt);
  return identities.map((identity) => {
    const exemptReason = identity.exemptReason ?? exemptions.byConfig(identity);
    if (exemptReason) return { identity, hits: [], exemptReason };
    const hits = rulesFor(identity, rules).flatMap((rule) =>
      rule.evaluate(identity, { now, days: ruleDays(rule, config) }).map((hit) => ({ rule, hit })),
    );
    return { identity, hits: applySupersession(hits), exemptReason: null };
  });
}
