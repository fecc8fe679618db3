/** DORMANT-ENTRA-003: an enabled Entra ID member that has never signed in and is older than the window. */
import { isWithinWindow } from '../model/time.js';
import { daysSince, plural } from './activity.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import type { Rule } from './rule.js';

export const entraNeverSignedInUser: Rule = {
  id: 'DORMANT-ENTRA-003',
  name: 'never-signed-in-user',
  title: 'Entra user that never signed in',
  provider: 'entra',
  identityKinds: ['user'],
  scope: 'identity',
  verdict: 'never-used',
  supersedes: ['DORMANT-ENTRA-001'],
  severity: 'medium',
  compliance: INACTIVE_ACCOUNTS,
  defaultAction: 'disable-user',
  rationale:
    'An account created and never used (a cancelled hire, a test) is access nobody needs; it is the easiest to remove.',
  usesWindow: true,
  evaluate(identity, ctx) {
    // 'never' only: a user created before sign-in tracking began is 'before-tracking', never "never".
    if (identity.enabled === false || identity.signIn?.lastUse !== 'never') return [];
    if (identity.createdAt === null || isWithinWindow(identity.createdAt, ctx.now, ctx.days)) return [];
    const age = daysSince(identity.createdAt, ctx.now) ?? 0;
    return [
      {
        credential: null,
        message: `User ${identity.name} was created ${plural(age, 'day')} ago and has never signed in (window ${ctx.days} days).`,
        lastActivityAt: identity.createdAt,
        daysSinceActivity: age,
      },
    ];
  },
};
