/**
 * The scan: collect an inventory, apply exemptions, evaluate every enabled rule, enrich
 * only the identities with findings, and build the output document (DESIGN §3). Read-only.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { Finding, ScanResult, ScannedIdentity } from '../model/finding.js';
import type { Identity } from '../model/identity.js';
import { isoSeconds } from '../model/time.js';
import type { Provider } from '../providers/provider.js';
import { identityActivity } from '../rules/activity.js';
import { RULES, type Rule, type RuleHit } from '../rules/index.js';
import { Exemptions } from './exemptions.js';

export interface ScanOptions {
  config: Config;
  /** Evaluate as of this instant (default: now). */
  now?: Date;
}

export function findingId(ruleId: string, identityId: string, credentialId: string | null): string {
  return createHash('sha256')
    .update(`${ruleId}\u0000${identityId}\u0000${credentialId ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}

/** The window a rule uses: its override, else the global window (or its own default). */
export function ruleDays(rule: Rule, config: Config): number {
  const override = config.rules[rule.name]?.days;
  if (override !== undefined) return override;
  return rule.usesWindow ? config.inactiveDays : (rule.defaultDays ?? config.inactiveDays);
}

export function enabledRules(config: Config): Rule[] {
  return RULES.filter((r) => config.rules[r.name]?.enabled !== false);
}

interface Evaluated {
  identity: Identity;
  hits: { rule: Rule; hit: RuleHit }[];
  exemptReason: string | null;
}

/** Pure evaluation of the rules over identities (no enrichment). */
export function evaluate(identities: Identity[], config: Config, now: Date): Evaluated[] {
  const rules = enabledRules(config);
  const exemptions = new Exemptions(config.exempt);
  return identities.map((identity) => {
    const exemptReason = exemptions.byConfig(identity);
    if (exemptReason) return { identity, hits: [], exemptReason };
    let hits = rules.flatMap((rule) =>
      rule.evaluate(identity, { now, days: ruleDays(rule, config) }).map((hit) => ({ rule, hit })),
    );
    // unused-user is the more specific verdict on the same user: report one, not both.
    if (hits.some((h) => h.rule.id === 'DORMANT-AWS-003')) hits = hits.filter((h) => h.rule.id !== 'DORMANT-AWS-001');
    return { identity, hits, exemptReason: null };
  });
}

const USER_LEVEL_RULES = new Set(['DORMANT-AWS-001', 'DORMANT-AWS-003']);

export async function scan(provider: Provider, options: ScanOptions): Promise<ScanResult> {
  const now = options.now ?? new Date();
  const { config } = options;
  const inventory = await provider.collect();
  const callerArn = inventory.caller?.arn;
  for (const identity of inventory.identities) {
    if (callerArn !== undefined && identity.id === callerArn) identity.isCaller = true;
  }

  let evaluated = evaluate(inventory.identities, config, now);
  const flagged = evaluated.filter((e) => e.hits.length > 0);
  const warnings = [...inventory.warnings];
  const keySlots = flagged
    .filter((e) => e.hits.some((h) => h.hit.credential?.kind === 'access-key' && h.hit.credential.id === null))
    .map((e) => e.identity);
  warnings.push(...(await provider.enrich({ tags: flagged.map((e) => e.identity), keySlots })));
  // Key ids are known now: evaluate those users again so messages and ids name the key.
  if (keySlots.length > 0) {
    const again = new Map(evaluate(keySlots, config, now).map((e) => [e.identity, e]));
    evaluated = evaluated.map((e) => again.get(e.identity) ?? e);
  }

  const exemptions = new Exemptions(config.exempt);
  const identities: ScannedIdentity[] = [];
  const findings: Finding[] = [];
  for (const e of evaluated) {
    const tagReason = e.hits.length > 0 ? exemptions.byTag(e.identity) : null;
    const exemptReason = e.exemptReason ?? tagReason;
    const hits = exemptReason ? [] : e.hits;
    const activity = identityActivity(e.identity);
    const state = exemptReason ? 'exempt' : hits.some((h) => USER_LEVEL_RULES.has(h.rule.id)) ? 'inactive' : 'active';
    identities.push({
      ...e.identity,
      lastActivityAt: activity.lastActivityAt,
      state,
      exemptReason,
      ...(activity.unknowns.length > 0 ? { notes: activity.unknowns } : {}),
    });
    for (const { rule, hit } of hits) {
      const credentialId = hit.credential ? (hit.credential.id ?? hit.credential.handle ?? null) : null;
      findings.push({
        id: findingId(rule.id, e.identity.id, credentialId),
        ruleId: rule.id,
        rule: rule.name,
        severity: rule.severity,
        identityId: e.identity.id,
        identityName: e.identity.name,
        account: e.identity.account,
        credentialId,
        message: hit.message,
        lastActivityAt: hit.lastActivityAt,
        daysSinceActivity: hit.daysSinceActivity,
        compliance: [...rule.compliance],
        recommendedAction: rule.defaultAction,
      });
    }
  }
  identities.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  findings.sort(
    (a, b) =>
      a.identityName.localeCompare(b.identityName) ||
      a.ruleId.localeCompare(b.ruleId) ||
      (a.credentialId ?? '').localeCompare(b.credentialId ?? ''),
  );
  return {
    schemaVersion: 1,
    generatedAt: isoSeconds(now),
    source: inventory.source,
    dataAsOf: inventory.dataAsOf,
    accounts: inventory.accounts,
    settings: { inactiveDays: config.inactiveDays },
    identities,
    findings,
    warnings,
    summary: {
      identities: identities.length,
      inactive: identities.filter((i) => i.state === 'inactive').length,
      exempt: identities.filter((i) => i.state === 'exempt').length,
      findings: findings.length,
    },
  };
}
