/**
 * DORMANT-ENTRA-002: an enabled Entra ID guest with no sign-in, creation or redeemed invitation
 * inside the window, including a guest whose invitation is still pending after the window.
 */
import { daysSince, plural } from './activity.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import { signInInactivity } from './signInActivity.js';
import type { Rule } from './rule.js';

export const entraInactiveGuest: Rule = {
  id: 'DORMANT-ENTRA-002',
  name: 'inactive-guest',
  title: 'Entra guest with no sign-in inside the window, or an invitation never redeemed',
  provider: 'entra',
  identityKinds: ['guest'],
  scope: 'identity',
  verdict: 'inactive',
  severity: 'medium',
  compliance: INACTIVE_ACCOUNTS,
  defaultAction: 'disable-user',
  rationale:
    'Guests outlive the project they were invited for; an unredeemed invitation is a standing door into the tenant.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const a = signInInactivity(identity, ctx);
    if (!a) return [];
    const invitation = identity.invitation;
    let how: string;
    if (invitation?.state === 'pending') {
      const invited = daysSince(invitation.changedAt ?? identity.createdAt, ctx.now) ?? 0;
      how = `was invited ${plural(invited, 'day')} ago and has not redeemed the invitation`;
    } else if (a.signIn === 'used') {
      how = `last signed in ${plural(daysSince(identity.signIn?.at ?? null, ctx.now) ?? 0, 'day')} ago`;
    } else if (a.signIn === 'never') {
      how = `has had no activity for ${plural(a.daysSinceActivity, 'day')} and has never signed in`;
    } else {
      how = `has not signed in since Entra began recording sign-ins (${identity.signIn?.trackingSince?.slice(0, 10) ?? 'unknown'}); created ${plural(daysSince(identity.createdAt, ctx.now) ?? 0, 'day')} ago`;
    }
    return [
      {
        credential: null,
        message: `Guest ${identity.name} ${how} (window ${ctx.days} days).`,
        lastActivityAt: a.lastActivityAt,
        daysSinceActivity: a.daysSinceActivity,
      },
    ];
  },
};
