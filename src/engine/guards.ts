/**
 * Pre-flight guards (DESIGN §4.7): each refuses the whole run with exit 4 before any change.
 * Limits count across the run and per account; protected identities are whatever their
 * provider marked (the engine does not need to know why).
 */
import pLimit from 'p-limit';
import type { Config } from '../config/config.js';
import { GuardError } from '../errors.js';
import type { Identity } from '../model/identity.js';
import type { Plan, PlanItem } from '../model/plan.js';
import type { RemediationProvider } from '../providers/provider.js';
import { Exemptions } from './exemptions.js';
import { refOf } from './recheck.js';

export async function guard(
  plan: Plan,
  due: PlanItem[],
  providerFor: (item: PlanItem) => RemediationProvider,
  config: Config,
  maxActions: number | undefined,
): Promise<void> {
  const acting = due.filter((i) => i.action !== 'notify');
  const cap = maxActions ?? config.remediation.maxActionsPerRun;
  if (acting.length > cap) {
    throw new GuardError(
      `plan ${plan.id} has ${acting.length} actions due, more than the limit of ${cap} per run; raise --max-actions or remediation.maxActionsPerRun after review`,
    );
  }
  // The percentage is of identities: disabling and deleting one user touches one identity.
  const pct = config.remediation.maxActionsPercent;
  const allowed = Math.floor((plan.inventorySize * pct) / 100);
  const touched = new Set(acting.map((i) => `${i.provider}|${i.identityId}`)).size;
  if (touched > allowed) {
    throw new GuardError(
      `plan ${plan.id} would act on ${touched} of ${plan.inventorySize} identities, more than remediation.maxActionsPercent (${pct}%, ${allowed}); review the plan or raise the limit`,
    );
  }
  // And in each account: a large tenant must not make room for retiring a whole small account.
  for (const [where, size] of Object.entries(plan.inventoryByAccount ?? {})) {
    const here = new Set(acting.filter((i) => `${i.provider}|${i.account}` === where).map((i) => i.identityId)).size;
    const allowedHere = Math.floor((size * pct) / 100);
    if (here > allowedHere) {
      const [provider, account] = where.split('|');
      throw new GuardError(
        `plan ${plan.id} would act on ${here} of ${size} identities in ${provider} account ${account}, more than remediation.maxActionsPercent (${pct}%, ${allowedHere}); review the plan or raise the limit`,
      );
    }
  }
  // And per kind of identity in each account (users, roles, guests…), when the plan knows kinds.
  const kindOf = plan.kindOf ?? {};
  for (const [where, size] of Object.entries(plan.inventoryByKind ?? {})) {
    const here = new Set(
      acting.filter((i) => `${i.provider}|${i.account}|${kindOf[i.identityId]}` === where).map((i) => i.identityId),
    ).size;
    const allowedHere = Math.floor((size * pct) / 100);
    if (here > allowedHere) {
      const [provider, account, kind] = where.split('|');
      throw new GuardError(
        `plan ${plan.id} would act on ${here} of ${size} ${kind} identities in ${provider} account ${account}, more than remediation.maxActionsPercent (${pct}%, ${allowedHere}); review the plan or raise the limit`,
      );
    }
  }
  if (acting.length === 0) return;
  const exemptions = new Exemptions(config.exempt);
  const refused: string[] = [];
  const limit = pLimit(4);
  const key = (i: PlanItem) => `${i.provider}|${i.identityId}`;
  const firstOf = new Map<string, PlanItem>();
  for (const i of acting) if (!firstOf.has(key(i))) firstOf.set(key(i), i);
  const live = new Map<string, Identity | null>();
  await Promise.all(
    [...firstOf].map(([k, item]) =>
      limit(async () => {
        const provider = providerFor(item);
        // The cheaper read when the provider has one: each item's re-check reads it in full anyway.
        live.set(k, await (provider.readMarks ? provider.readMarks(refOf(item)) : provider.reread(refOf(item))));
      }),
    ),
  );
  for (const item of acting) {
    const identity = live.get(key(item)) ?? null;
    if (identity?.protectedReason) {
      // protectedReason is a noun phrase: "the identity dormant runs as", "a holder of the directory role …".
      refused.push(`item ${item.seq} (${item.identityName}) is ${identity.protectedReason}`);
      continue;
    }
    const probe: Identity = identity ?? {
      provider: item.provider,
      account: item.account,
      kind: 'user',
      id: item.identityId,
      name: item.identityName,
      path: '/',
      createdAt: null,
      credentials: [],
    };
    const reason =
      identity?.exemptReason ?? exemptions.byConfig(probe) ?? (identity ? exemptions.byTag(identity) : null);
    if (reason) refused.push(`item ${item.seq} (${item.identityName}) is exempt: ${reason}`);
  }
  if (refused.length > 0) {
    throw new GuardError(`refusing to apply plan ${plan.id}: ${refused.join('; ')}; deny these items and apply again`);
  }
}
