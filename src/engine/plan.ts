/**
 * The planner: turns a scan's findings into plan items, reading each rule's metadata
 * (scope, default action, verdict): identity verdicts are staged (disable now, delete after
 * `deleteAfterDays`), credential verdicts get their rule's action. Open items of earlier plans
 * are not duplicated, snoozed and protected identities are left out, and every sentence is in
 * the provider's words (its ActionDescriber).
 */
import type { Config } from '../config/config.js';
import type { ActionName, Finding, ScanResult, ScannedIdentity } from '../model/finding.js';
import type { Identity, IdentityKind, ProviderName } from '../model/identity.js';
import type { Plan, PlanItem } from '../model/plan.js';
import { DAY_MS } from '../model/time.js';
import { GuardError } from '../errors.js';
import type { ActionDescriber } from '../providers/provider.js';
import { RULES, type Rule } from '../rules/index.js';

export interface PlanInput {
  result: ScanResult;
  config: Config;
  /** The plan's id (the store makes it). */
  planId: string;
  scanId: string;
  createdBy: string;
  now: Date;
  /** Plan sentences per provider. */
  describers: Partial<Record<ProviderName, ActionDescriber>>;
  /** Items still open in earlier plans (pending, approved or failed). */
  openItems: PlanItem[];
  /** Identities snoozed by a deny, until when. */
  snoozed: Map<string, string>;
  /** Identities dormant has disabled (and nobody restored since): the disable item and when it was done. */
  disabled?: Map<string, { itemId: string; doneAt: string }>;
}

export interface PlanOutput {
  plan: Plan;
  /** Why some findings got no item (protected, snoozed, already planned, no credential id). */
  notes: string[];
}

const RULE_BY_ID = new Map<string, Rule>(RULES.map((r) => [r.id, r]));

/**
 * Days a delete waits after its disable: `deleteAfterDays`, raised to the rules' own minimum
 * when their data arrives late (null: never delete). Shared with apply, which counts from the disable.
 */
export function deleteDelayDays(configured: number | null, ruleIds: readonly string[]): number | null {
  if (configured === null) return null;
  return Math.max(configured, ...ruleIds.map((id) => RULE_BY_ID.get(id)?.minDeleteAfterDays ?? 0));
}

/** A words-only describer for a provider that has none registered (never used for acting). */
const PLAIN: ActionDescriber = {
  describe: (r) => `${r.action} ${r.credential?.id ? `${r.credential.id} of ` : ''}${r.identity.name} (${r.reason})`,
  irreversible: () => false,
  isCredentialId: () => true,
};

/** How a plan item says why, from its rule's verdict (shared with the OCSF and ASFF remediation text). */
export function reasonFor(rule: Rule | undefined, f: Finding): string {
  const days = f.daysSinceActivity !== null && f.daysSinceActivity !== undefined ? `${f.daysSinceActivity} days` : null;
  switch (rule?.verdict) {
    case 'never-used':
      return 'never used';
    case 'inactive':
      return days ? `inactive ${days}` : 'never used';
    case 'unrotated':
      return 'not rotated';
    default:
      return days ? `unused ${days}` : 'never used';
  }
}

function countBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

export function buildPlan(input: PlanInput): PlanOutput {
  const { result, config, now } = input;
  if (result.identities.length === 0) {
    throw new GuardError(
      'refusing to plan from an empty inventory: a scan that sees no users is more likely broken than right; check the source and credentials',
    );
  }
  const planId = input.planId;
  const createdAt = now.toISOString();
  const items: PlanItem[] = [];
  const notes: string[] = [];
  const keyOf = (identityId: string, action: ActionName, credentialId: string | null) =>
    `${identityId}|${action}|${credentialId ?? ''}`;
  const openWhere = new Map(input.openItems.map((i) => [keyOf(i.identityId, i.action, i.credentialId), i]));
  const open = new Set(openWhere.keys());
  const actingOn = new Set(
    input.openItems.filter((i) => i.action !== 'notify').map((i) => `${i.identityId}|${i.credentialId ?? ''}`),
  );
  const byIdentity = new Map<string, Finding[]>();
  for (const f of result.findings) byIdentity.set(f.identityId, [...(byIdentity.get(f.identityId) ?? []), f]);
  const identities = new Map<string, ScannedIdentity>(result.identities.map((i) => [i.id, i]));

  const add = (
    f: Finding,
    provider: ProviderName,
    action: ActionName,
    credentialId: string | null,
    ruleFindings: Finding[],
    sentence: string,
    notBefore: Date,
    dependsOn: string | null,
  ): PlanItem | null => {
    const key = keyOf(f.identityId, action, credentialId);
    if (open.has(key)) {
      const prior = openWhere.get(key)!;
      notes.push(`${f.identityName}: ${action} is already open in plan ${prior.planId} (item ${prior.seq})`);
      return null;
    }
    const seq = items.length + 1;
    const item: PlanItem = {
      id: `${planId}-${seq}`,
      planId,
      seq,
      provider,
      identityId: f.identityId,
      identityName: f.identityName,
      account: f.account,
      credentialId,
      action,
      ruleIds: [...new Set(ruleFindings.map((r) => r.ruleId))].sort(),
      findingIds: ruleFindings.map((r) => r.id),
      status: 'pending',
      notBefore: notBefore.toISOString(),
      dependsOn,
      sentence,
      reason: null,
      decidedBy: null,
      decidedAt: null,
    };
    items.push(item);
    open.add(key);
    if (action !== 'notify') actingOn.add(`${f.identityId}|${credentialId ?? ''}`);
    return item;
  };

  for (const [identityId, findings] of byIdentity) {
    const identity = identities.get(identityId);
    const first = findings[0]!;
    const name = first.identityName;
    const provider: ProviderName = identity?.provider ?? first.provider ?? 'aws';
    const kind = identity?.kind ?? 'user';
    const words = input.describers[provider] ?? PLAIN;
    const protectedReason = identity?.isCaller
      ? 'dormant runs as this identity'
      : identity?.protectedReason
        ? `protected (${identity.protectedReason})`
        : null;
    if (protectedReason) {
      notes.push(`${name}: ${protectedReason}; it is reported but never acted on`);
      continue;
    }
    const snoozedUntil = input.snoozed.get(identityId);
    if (snoozedUntil) {
      notes.push(`${name}: snoozed until ${snoozedUntil}`);
      continue;
    }
    const ruleOf = (f: Finding) => RULE_BY_ID.get(f.ruleId);
    const identityLevel = findings.find((f) => ruleOf(f)?.scope === 'identity');
    const notifyOnly = identity?.notifyOnlyReason ?? null;
    if (identityLevel) {
      const rule = ruleOf(identityLevel);
      const reason = reasonFor(rule, identityLevel);
      // The identity-level action subsumes its credential-level ones, except reminders.
      const covered = findings.filter((f) => ruleOf(f)?.defaultAction !== 'notify');
      if (notifyOnly || rule?.defaultAction === 'notify') {
        add(
          identityLevel,
          provider,
          'notify',
          null,
          covered,
          words.describe({
            action: 'notify',
            identity: { name, kind },
            credential: null,
            reason,
            deleteAfterDays: null,
            notifyOnlyReason: notifyOnly,
          }),
          now,
          null,
        );
        continue;
      }
      const after = deleteDelayDays(
        config.remediation.deleteAfterDays,
        covered.map((c) => c.ruleId),
      );
      const alreadyDisabled = input.disabled?.get(identityId);
      let disableId: string | null;
      let deleteFrom = now;
      if (alreadyDisabled) {
        // Disabling is not activity: the identity still looks inactive. Don't ask to disable it again.
        notes.push(`${name}: already disabled by dormant (item ${alreadyDisabled.itemId})`);
        disableId = alreadyDisabled.itemId;
        deleteFrom = new Date(alreadyDisabled.doneAt);
      } else {
        const sentence = words.describe({
          action: 'disable-user',
          identity: { name, kind },
          credential: null,
          reason,
          deleteAfterDays: after,
        });
        const disable = add(identityLevel, provider, 'disable-user', null, covered, sentence, now, null);
        // Deduplicated against an open item: the delete must still wait for that one.
        disableId = disable?.id ?? openWhere.get(keyOf(identityId, 'disable-user', null))?.id ?? null;
      }
      if (after !== null) {
        const sentence = words.describe({
          action: 'delete-user',
          identity: { name, kind },
          credential: null,
          reason,
          deleteAfterDays: after,
        });
        add(
          identityLevel,
          provider,
          'delete-user',
          null,
          covered,
          sentence,
          new Date(Math.max(now.getTime(), deleteFrom.getTime() + after * DAY_MS)),
          disableId,
        );
      }
      continue;
    }
    // Credential verdicts: acting ones first, so a reminder about a credential being acted on is dropped.
    for (const reminders of [false, true]) {
      for (const f of findings) {
        const rule = ruleOf(f);
        if (!rule || (rule.defaultAction === 'notify') !== reminders) continue;
        const action: ActionName = notifyOnly ? 'notify' : rule.defaultAction;
        if (action !== 'notify' && f.credentialId && (f.credentialHandle || !words.isCredentialId(f.credentialId))) {
          notes.push(
            `${name}: the credential of ${rule.id} is known only as ${f.credentialId}; scan the live account to plan an action on it`,
          );
          continue;
        }
        if (reminders && actingOn.has(`${identityId}|${f.credentialId ?? ''}`)) continue;
        const kindOf = identity?.credentials.find((c) => (c.id ?? c.handle) === f.credentialId)?.kind ?? 'key';
        const sentence = words.describe({
          action,
          identity: { name, kind },
          credential: f.credentialId ? { kind: kindOf, id: f.credentialId } : null,
          reason: reasonFor(rule, f),
          deleteAfterDays: null,
          notifyOnlyReason: notifyOnly,
        });
        const disable = add(f, provider, action, f.credentialId, [f], sentence, now, null);
        const after = deleteDelayDays(config.remediation.deleteAfterDays, [rule.id]);
        if (action !== 'notify' && rule.thenAction && after !== null) {
          const then = rule.thenAction;
          const disableId = disable?.id ?? openWhere.get(keyOf(identityId, action, f.credentialId))?.id ?? null;
          const thenSentence = words.describe({
            action: then,
            identity: { name, kind },
            credential: f.credentialId ? { kind: kindOf, id: f.credentialId } : null,
            reason: reasonFor(rule, f),
            deleteAfterDays: after,
          });
          add(
            f,
            provider,
            then,
            f.credentialId,
            [f],
            thenSentence,
            new Date(now.getTime() + after * DAY_MS),
            disableId,
          );
        }
      }
    }
  }
  const actionable = result.identities.filter((i) => i.state !== 'exempt');
  return {
    plan: {
      id: planId,
      createdAt,
      scanId: input.scanId,
      inventorySize: result.identities.length,
      // Per account and kind, only identities dormant could act on: exempt ones (service-linked
      // roles, tagged users…) must not make room for retiring more of the others.
      inventoryByAccount: countBy(actionable.map((i) => `${i.provider}|${i.account}`)),
      inventoryByKind: countBy(actionable.map((i) => `${i.provider}|${i.account}|${i.kind}`)),
      kindOf: kindsOf(result.identities, items),
      createdBy: input.createdBy,
      items,
    },
    notes,
  };
}

/** The kind of each identity the items act on, by identity id. */
function kindsOf(identities: Pick<Identity, 'id' | 'kind'>[], items: PlanItem[]): Record<string, IdentityKind> {
  const named = new Set(items.map((i) => i.identityId));
  const out: Record<string, IdentityKind> = {};
  for (const i of identities) if (named.has(i.id)) out[i.id] = i.kind;
  return out;
}
