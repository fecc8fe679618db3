/**
 * DORMANT-GCP-002: an enabled service account with no activity inside the window, and known to
 * be older than it. Activity is an authentication as the account, a use of any of its keys, or
 * a key created (someone setting the account up). IAM gives no creation time: without an
 * authentication or a key whose creation Google dated, the account gets no verdict, and when
 * the last use of the account or of any key is unknown, neither does it.
 */
import { isWithinWindow } from '../model/time.js';
import { daysSince, plural } from './activity.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import type { Rule } from './rule.js';

function latest(dates: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const d of dates) if (d && (best === null || Date.parse(d) > Date.parse(best))) best = d;
  return best;
}

export const gcpInactiveServiceAccount: Rule = {
  id: 'DORMANT-GCP-002',
  name: 'inactive-service-account',
  title: 'Service account with no authentication inside the window',
  provider: 'google',
  identityKinds: ['service-account'],
  scope: 'identity',
  verdict: 'inactive',
  severity: 'medium',
  compliance: INACTIVE_ACCOUNTS,
  defaultAction: 'disable-user',
  // Policy Analyzer reports authentications up to two days late: the delete waits long enough
  // after the disable for the live re-check to see a use from just before it.
  minDeleteAfterDays: 3,
  rationale:
    'A workload identity nothing runs as any more still holds its IAM grants; disabling it is reversible, deleting it is for 30 days.',
  usesWindow: true,
  evaluate(identity, ctx) {
    if (identity.enabled === false) return [];
    const signIn = identity.signIn;
    if (!signIn || signIn.lastUse === 'unknown' || signIn.lastUse === 'before-tracking') return [];
    if (signIn.lastUse === 'used' && !signIn.at) return [];
    const keys = identity.credentials.filter((c) => c.kind === 'key');
    if (keys.some((k) => k.lastUse === 'unknown' || (k.lastUse === 'used' && !k.lastUsedAt))) return [];
    const authenticated = latest([signIn.at, ...keys.map((k) => k.lastUsedAt)]);
    // Dated only by an authentication or by a key Google created (createdAt is the oldest such key).
    if (authenticated === null && identity.createdAt === null) return [];
    const last = latest([authenticated, identity.createdAt, ...keys.map((k) => k.createdAt)]);
    if (last === null || isWithinWindow(last, ctx.now, ctx.days)) return [];
    const days = daysSince(last, ctx.now) ?? 0;
    const how = authenticated
      ? `last authenticated ${plural(daysSince(authenticated, ctx.now) ?? 0, 'day')} ago`
      : `has no recorded authentication and is at least ${plural(days, 'day')} old`;
    return [
      {
        credential: null,
        message: `Service account ${identity.name} ${how} (window ${ctx.days} days).`,
        lastActivityAt: last,
        daysSinceActivity: days,
      },
    ];
  },
};
