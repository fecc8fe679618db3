/** DORMANT-GWS-001: an active Google Workspace user with no login, nor creation, inside the window. */
import { daysSince, plural } from './activity.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import type { Rule } from './rule.js';
import { signInInactivity } from './signInActivity.js';

export const googleInactiveUser: Rule = {
  id: 'DORMANT-GWS-001',
  name: 'inactive-user',
  title: 'Workspace user with no login inside the window',
  provider: 'google',
  identityKinds: ['user'],
  scope: 'identity',
  verdict: 'inactive',
  severity: 'medium',
  compliance: INACTIVE_ACCOUNTS,
  defaultAction: 'disable-user',
  rationale:
    'A Workspace account whose owner left keeps its mail, Drive files and app sign-ins until someone suspends it.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const a = signInInactivity(identity, ctx);
    // A user who never logged in is DORMANT-GWS-002's; this rule only reports a real last login.
    if (!a || a.signIn !== 'used') return [];
    return [
      {
        credential: null,
        message: `User ${identity.name} last logged in ${plural(daysSince(identity.signIn?.at ?? null, ctx.now) ?? 0, 'day')} ago (window ${ctx.days} days).`,
        lastActivityAt: a.lastActivityAt,
        daysSinceActivity: a.daysSinceActivity,
      },
    ];
  },
};
