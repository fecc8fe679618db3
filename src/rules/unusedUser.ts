/** DORMANT-AWS-003: a user that never signed in, has no access keys, and is older than the window. */
import type { Identity } from '../model/identity.js';
import { isWithinWindow } from '../model/time.js';
import { identityActivity, daysSince, plural } from './activity.js';
import { UNUSED_CREDENTIALS } from './compliance.js';
import type { Rule, RuleContext } from './rule.js';

/** Shared with inactive-user so that one user gets one user-level verdict, not two. */
export function isUnusedUser(identity: Identity, ctx: RuleContext): boolean {
  if (identity.createdAt === null || isWithinWindow(identity.createdAt, ctx.now, ctx.days)) return false;
  if (identity.credentials.some((c) => c.kind === 'access-key')) return false;
  if (identity.lastSignInAt) return false;
  const password = identity.credentials.find((c) => c.kind === 'password');
  if (password && password.lastUse !== 'never') return false;
  // A password set inside the window is activity (the creation grace).
  const activity = identityActivity(identity);
  if (activity.unknowns.length > 0 || activity.lastActivityAt === null) return false;
  return !isWithinWindow(activity.lastActivityAt, ctx.now, ctx.days);
}

export const unusedUser: Rule = {
  id: 'DORMANT-AWS-003',
  name: 'unused-user',
  title: 'User never signed in and has no access keys',
  provider: 'aws',
  identityKinds: ['user'],
  scope: 'identity',
  verdict: 'never-used',
  supersedes: ['DORMANT-AWS-001'],
  severity: 'medium',
  compliance: UNUSED_CREDENTIALS,
  defaultAction: 'delete-user',
  rationale:
    'An identity that was created and never used is standing access nobody needs; it is the easiest to remove.',
  usesWindow: true,
  evaluate(identity, ctx) {
    if (!isUnusedUser(identity, ctx)) return [];
    const activity = identityActivity(identity);
    const age = daysSince(identity.createdAt, ctx.now) ?? 0;
    const hasPassword = identity.credentials.some((c) => c.kind === 'password');
    return [
      {
        credential: null,
        message:
          `User ${identity.name} was created ${plural(age, 'day')} ago, ` +
          `${hasPassword ? 'has a console password that was never used' : 'has never signed in'} ` +
          `and has no access keys (window ${ctx.days} days).`,
        lastActivityAt: activity.lastActivityAt,
        daysSinceActivity: daysSince(activity.lastActivityAt, ctx.now),
      },
    ];
  },
};
