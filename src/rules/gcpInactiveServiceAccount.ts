/**
 * DORMANT-GCP-002: an enabled service account with no authentication inside the window, and
 * known to be older than it. IAM gives no creation time: without a last authentication or a
 * key old enough to date it, the account gets no verdict.
 */
import { daysSince, plural } from './activity.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import type { Rule } from './rule.js';
import { signInInactivity } from './signInActivity.js';

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
  rationale:
    'A workload identity nothing runs as any more still holds its IAM grants; disabling it is reversible, deleting it is for 30 days.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const a = signInInactivity(identity, ctx);
    if (!a) return [];
    const how =
      a.signIn === 'used'
        ? `last authenticated ${plural(daysSince(identity.signIn?.at ?? null, ctx.now) ?? 0, 'day')} ago`
        : `has no recorded authentication and is at least ${plural(a.daysSinceActivity, 'day')} old`;
    return [
      {
        credential: null,
        message: `Service account ${identity.name} ${how} (window ${ctx.days} days).`,
        lastActivityAt: a.lastActivityAt,
        daysSinceActivity: a.daysSinceActivity,
      },
    ];
  },
};
