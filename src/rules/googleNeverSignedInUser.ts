/**
 * DORMANT-GWS-002: an active Workspace user that has never logged in (Google's
 * `1970-01-01T00:00:00.000Z`) and was created before the window.
 */
import { isWithinWindow } from '../model/time.js';
import { daysSince, plural } from './activity.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import type { Rule } from './rule.js';

export const googleNeverSignedInUser: Rule = {
  id: 'DORMANT-GWS-002',
  name: 'never-signed-in-user',
  title: 'Workspace user that never logged in',
  provider: 'google',
  identityKinds: ['user'],
  scope: 'identity',
  verdict: 'never-used',
  supersedes: ['DORMANT-GWS-001'],
  severity: 'medium',
  compliance: INACTIVE_ACCOUNTS,
  defaultAction: 'disable-user',
  rationale:
    'An account created and never used (a cancelled hire, a test) is access nobody needs; it is the easiest to remove.',
  usesWindow: true,
  evaluate(identity, ctx) {
    if (identity.enabled === false || identity.signIn?.lastUse !== 'never') return [];
    if (identity.createdAt === null || isWithinWindow(identity.createdAt, ctx.now, ctx.days)) return [];
    const age = daysSince(identity.createdAt, ctx.now) ?? 0;
    return [
      {
        credential: null,
        message: `User ${identity.name} was created ${plural(age, 'day')} ago and has never logged in (window ${ctx.days} days).`,
        lastActivityAt: identity.createdAt,
        daysSinceActivity: age,
      },
    ];
  },
};
