/** DORMANT-ENTRA-001: an enabled Entra ID member with no sign-in of any kind, nor creation, inside the window. */
import { daysSince, plural } from './activity.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import { signInInactivity } from './signInActivity.js';
import type { Rule } from './rule.js';

export const entraInactiveUser: Rule = {
  id: 'DORMANT-ENTRA-001',
  name: 'inactive-user',
  title: 'Entra user with no sign-in inside the window',
  provider: 'entra',
  identityKinds: ['user'],
  scope: 'identity',
  verdict: 'inactive',
  severity: 'medium',
  compliance: INACTIVE_ACCOUNTS,
  defaultAction: 'disable-user',
  rationale:
    'An account whose owner left keeps its group memberships, licences and app access until someone disables it.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const a = signInInactivity(identity, ctx);
    if (!a) return [];
    const created = plural(daysSince(identity.createdAt, ctx.now) ?? 0, 'day');
    const how =
      a.signIn === 'used'
        ? `last signed in ${plural(daysSince(identity.signIn?.at ?? null, ctx.now) ?? 0, 'day')} ago`
        : a.signIn === 'never'
          ? `was created ${created} ago and has never signed in`
          : `has not signed in since Entra began recording sign-ins (${identity.signIn?.trackingSince?.slice(0, 10) ?? 'unknown'}); created ${created} ago`;
    return [
      {
        credential: null,
        message: `User ${identity.name} ${how} (window ${ctx.days} days).`,
        lastActivityAt: a.lastActivityAt,
        daysSinceActivity: a.daysSinceActivity,
      },
    ];
  },
};
