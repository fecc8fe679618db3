/**
 * The live re-check right before an item (DESIGN §4.2): the identity is re-read through its
 * provider, and the item is skipped, with the reason, when the identity shows activity after
 * the plan was made or no longer matches what the plan found.
 */
import type { Config } from '../config/config.js';
import type { Identity } from '../model/identity.js';
import type { Plan, PlanItem } from '../model/plan.js';
import type { IdentityRef, RemediationProvider } from '../providers/provider.js';
import { describeCredential } from '../rules/activity.js';
import { RULES } from '../rules/index.js';
import { evaluate } from './evaluate.js';
import { Exemptions } from './exemptions.js';

const IDENTITY_RULES = new Set(RULES.filter((r) => r.scope === 'identity').map((r) => r.id));

export function refOf(item: PlanItem): IdentityRef {
  return { provider: item.provider, account: item.account, id: item.identityId, name: item.identityName };
}

/** Activity after the plan was made, as a sentence, or null. */
export function activitySince(identity: Identity, since: string): string | null {
  const t = Date.parse(since);
  const after = (at: string | null | undefined): at is string => Boolean(at) && Date.parse(at!) > t;
  if (after(identity.createdAt)) return `the user was re-created at ${identity.createdAt}`;
  // Providers that track sign-ins per identity say so in `signIn`; AWS's is the console sign-in.
  if (identity.signIn) {
    if (identity.signIn.lastUse === 'used' && after(identity.signIn.at)) return `signed in at ${identity.signIn.at}`;
  } else if (after(identity.lastSignInAt)) {
    return `signed in to the console at ${identity.lastSignInAt}`;
  }
  if (identity.invitation?.state === 'accepted' && after(identity.invitation.changedAt)) {
    return `accepted the invitation at ${identity.invitation.changedAt}`;
  }
  for (const c of identity.credentials) {
    const label = describeCredential(c);
    if (after(c.lastUsedAt)) return `${label} used at ${c.lastUsedAt}`;
    if (after(c.createdAt)) return `${label} created at ${c.createdAt}`;
  }
  return null;
}

/** Does the live identity still warrant the item's action? Null when it does, else why not. */
export function stillMatches(item: PlanItem, live: Identity, config: Config, now: Date): string | null {
  if (item.action === 'notify') return null;
  // A delete follows dormant's own disable: being disabled is not a reason to stop, activity is.
  const subject =
    item.action === 'delete-user'
      ? { ...live, enabled: true }
      : item.action === 'delete-key'
        ? {
            ...live,
            credentials: live.credentials.map((c) => (c.id === item.credentialId ? { ...c, enabled: true } : c)),
          }
        : live;
  const [evaluated] = evaluate([subject], config, now);
  const hits = evaluated?.hits ?? [];
  if (item.ruleIds.some((r) => IDENTITY_RULES.has(r))) {
    return hits.some((h) => h.rule.scope === 'identity') ? null : 'the user is no longer inactive';
  }
  if (item.credentialId === null) {
    return hits.some((h) => item.ruleIds.includes(h.rule.id))
      ? null
      : `the ${item.action === 'remove-password' ? 'console password' : 'credential'} is gone or no longer unused`;
  }
  const credential = live.credentials.find((c) => c.id === item.credentialId);
  const label = credential ? describeCredential(credential) : `credential ${item.credentialId}`;
  if (!credential) return `${label} no longer exists`;
  if (!credential.enabled && item.action !== 'delete-key') return `${label} is already inactive`;
  const hit = hits.some((h) => item.ruleIds.includes(h.rule.id) && h.hit.credential?.id === item.credentialId);
  return hit ? null : `${label} is no longer unused`;
}

export interface Verdict {
  skip: string | null;
  live: Identity | null;
}

export interface RecheckOptions {
  /**
   * Resuming an item a crash interrupted (a run that started its steps and recorded no outcome):
   * its own changes must not count as "no longer matches". An item that failed is not resuming:
   * it is checked in full again.
   */
  resuming: boolean;
  /** A delete expects the identity to be still disabled (false in a dry run, where the disable has not happened). */
  expectDisabled: boolean;
  /** Steps this item's earlier runs finished (the provider may count its own delete's steps as still disabled). */
  doneSteps?: ReadonlySet<string>;
}

export async function recheck(
  item: PlanItem,
  plan: Plan,
  provider: RemediationProvider,
  config: Config,
  now: Date,
  options: RecheckOptions,
): Promise<Verdict> {
  const live = await provider.reread(refOf(item));
  if (!live) return { skip: 'the user no longer exists', live };
  if (live.id !== item.identityId) return { skip: `the user was replaced (now ${live.id})`, live };
  // Marks can change between the guard's read and this item (a role granted, sync turned on).
  if (live.protectedReason && item.action !== 'notify') return { skip: `protected: ${live.protectedReason}`, live };
  if (live.notifyOnlyReason && item.action !== 'notify') return { skip: `notify only: ${live.notifyOnlyReason}`, live };
  const exempt = live.exemptReason ?? new Exemptions(config.exempt).byTag(live);
  if (exempt) return { skip: `exempt: ${exempt}`, live };
  const activity = activitySince(live, plan.createdAt);
  if (activity) return { skip: `activity after the plan was made: ${activity}`, live };
  // dormant's own steps never re-enable an identity, so this holds on a resume too: a delete
  // retried after someone re-enabled the user must not go ahead.
  if (item.action === 'delete-user' && options.expectDisabled && !provider.isDisabled(live, options.doneSteps)) {
    return { skip: 'the user was re-enabled after it was disabled', live };
  }
  if (item.action === 'delete-key' && options.expectDisabled) {
    const key = live.credentials.find((c) => c.id === item.credentialId);
    if (key?.enabled) return { skip: `${describeCredential(key)} was re-enabled after it was disabled`, live };
  }
  if (!options.resuming) {
    const mismatch = stillMatches(item, live, config, now);
    if (mismatch) return { skip: mismatch, live };
  }
  return { skip: null, live };
}
