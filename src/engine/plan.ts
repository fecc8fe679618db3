/**
 * The planner: turns a scan's findings into plan items with the default actions of
 * DESIGN §2, staged (disable now, delete after `deleteAfterDays`), without duplicating
 * items still open from earlier plans and without touching snoozed identities.
 */
import type { Config } from '../config/config.js';
import type { Finding, ScanResult } from '../model/finding.js';
import type { Plan, PlanItem } from '../model/plan.js';
import { DAY_MS } from '../model/time.js';
import { GuardError } from '../errors.js';
import { newId } from '../store/store.js';

export interface PlanInput {
  result: ScanResult;
  config: Config;
  scanId: string;
  createdBy: string;
  now: Date;
  /** Items still open in earlier plans (pending, approved or failed). */
  openItems: PlanItem[];
  /** Identities snoozed by a deny, until when. */
  snoozed: Map<string, string>;
  /** Identities dormant has disabled (and nobody restored since): the disable item and when it was done. */
  disabled?: Map<string, { itemId: string; doneAt: string }>;
}

export interface PlanOutput {
  plan: Plan;
  /** Why some findings got no item (caller, snoozed, already planned, no key id). */
  notes: string[];
}

const USER_RULES = new Set(['DORMANT-AWS-001', 'DORMANT-AWS-003']);
const KEY_ID = /^(AKIA|ASIA|AIDA|AKID)[A-Z0-9]{12,}$/;

function days(f: Finding | undefined): string {
  return f?.daysSinceActivity !== null && f?.daysSinceActivity !== undefined
    ? `${f.daysSinceActivity} days`
    : 'never used';
}

export function disableWhat(config: Config): string {
  const parts = config.remediation.disableUser.map((s) =>
    s === 'deactivate-keys'
      ? 'deactivate its access keys'
      : s === 'remove-password'
        ? 'remove its console password'
        : 'attach the quarantine policy',
  );
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? 'nothing');
}

export function buildPlan(input: PlanInput): PlanOutput {
  const { result, config, now } = input;
  if (result.identities.length === 0) {
    throw new GuardError(
      'refusing to plan from an empty inventory: a scan that sees no users is more likely broken than right; check the source and credentials',
    );
  }
  const planId = newId('pl');
  const createdAt = now.toISOString();
  const items: PlanItem[] = [];
  const notes: string[] = [];
  const open = new Set(input.openItems.map((i) => `${i.identityId}|${i.action}|${i.credentialId ?? ''}`));
  const openWhere = new Map(input.openItems.map((i) => [`${i.identityId}|${i.action}|${i.credentialId ?? ''}`, i]));
  const byIdentity = new Map<string, Finding[]>();
  for (const f of result.findings) byIdentity.set(f.identityId, [...(byIdentity.get(f.identityId) ?? []), f]);

  const add = (
    f: Finding,
    action: PlanItem['action'],
    credentialId: string | null,
    ruleFindings: Finding[],
    sentence: string,
    notBefore: Date,
    dependsOn: string | null,
  ): PlanItem | null => {
    const key = `${f.identityId}|${action}|${credentialId ?? ''}`;
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
    return item;
  };

  for (const [identityId, findings] of byIdentity) {
    const identity = result.identities.find((i) => i.id === identityId);
    const name = findings[0]!.identityName;
    if (identity?.isCaller) {
      notes.push(`${name}: dormant runs as this identity; it is reported but never acted on`);
      continue;
    }
    const snoozedUntil = input.snoozed.get(identityId);
    if (snoozedUntil) {
      notes.push(`${name}: snoozed until ${snoozedUntil}`);
      continue;
    }
    const userLevel = findings.find((f) => USER_RULES.has(f.ruleId));
    if (userLevel) {
      // The user-level action subsumes the credential-level ones of the same user.
      const covered = findings.filter((f) => f.ruleId !== 'DORMANT-AWS-005');
      const reason = userLevel.ruleId === 'DORMANT-AWS-003' ? 'never used' : `inactive ${days(userLevel)}`;
      const after = config.remediation.deleteAfterDays;
      const alreadyDisabled = input.disabled?.get(identityId);
      let disableId: string | null;
      let deleteFrom = now;
      if (alreadyDisabled) {
        // Disabling is not activity: the user still looks inactive. Don't ask to disable it again.
        notes.push(`${name}: already disabled by dormant (item ${alreadyDisabled.itemId})`);
        disableId = alreadyDisabled.itemId;
        deleteFrom = new Date(alreadyDisabled.doneAt);
      } else {
        const disable = add(
          userLevel,
          'disable-user',
          null,
          covered,
          `Disable user ${name}: ${disableWhat(config)} (${reason})`,
          now,
          null,
        );
        // Deduplicated against an open item: the delete must still wait for that one.
        disableId = disable?.id ?? openWhere.get(`${identityId}|disable-user|`)?.id ?? null;
      }
      if (after !== null) {
        add(
          userLevel,
          'delete-user',
          null,
          covered,
          `Delete user ${name} completely after a backup${after > 0 ? `, ${after} days after it is disabled` : ''} (${reason})`,
          new Date(Math.max(now.getTime(), deleteFrom.getTime() + after * DAY_MS)),
          disableId,
        );
      }
      continue;
    }
    for (const f of findings) {
      if (f.ruleId === 'DORMANT-AWS-002') {
        if (!f.credentialId || !KEY_ID.test(f.credentialId)) {
          notes.push(
            `${name}: the unused key is known only as ${f.credentialId ?? 'an unnamed slot'}; scan the live account to plan an action on it`,
          );
          continue;
        }
        add(
          f,
          'deactivate-key',
          f.credentialId,
          [f],
          `Deactivate access key ${f.credentialId} of ${name} (unused ${days(f)})`,
          now,
          null,
        );
      } else if (f.ruleId === 'DORMANT-AWS-004') {
        add(f, 'remove-password', null, [f], `Remove the console password of ${name} (unused ${days(f)})`, now, null);
      } else if (f.ruleId === 'DORMANT-AWS-005') {
        // A key being deactivated (in this plan or an open one) needs no rotation reminder.
        const deactivating = open.has(`${identityId}|deactivate-key|${f.credentialId ?? ''}`);
        if (!deactivating) {
          add(
            f,
            'notify',
            f.credentialId,
            [f],
            `Notify: access key ${f.credentialId ?? ''} of ${name} is not rotated`,
            now,
            null,
          );
        }
      }
    }
  }
  return {
    plan: {
      id: planId,
      createdAt,
      scanId: input.scanId,
      inventorySize: result.identities.length,
      createdBy: input.createdBy,
      items,
    },
    notes,
  };
}
