/** DORMANT-AWS-001: a user with no activity inside the window. */
import { isWithinWindow } from '../model/time.js';
import { identityActivity, daysSince, plural, trackingOverlapsWindow } from './activity.js';
import { UNUSED_CREDENTIALS } from './compliance.js';
import type { Rule } from './rule.js';

export const inactiveUser: Rule = {
  id: 'DORMANT-AWS-001',
  name: 'inactive-user',
  title: 'User with no activity inside the window',
  provider: 'aws',
  identityKinds: ['user'],
  scope: 'identity',
  verdict: 'inactive',
  severity: 'medium',
  compliance: UNUSED_CREDENTIALS,
  defaultAction: 'disable-user',
  rationale:
    'A person who left, or a workload that was retired, keeps every permission until someone removes the user.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const activity = identityActivity(identity);
    if (activity.unknowns.length > 0 || activity.lastActivityAt === null) return [];
    if (isWithinWindow(activity.lastActivityAt, ctx.now, ctx.days)) return [];
    if (identity.credentials.some((c) => trackingOverlapsWindow(c, ctx.now, ctx.days))) return [];
    const days = daysSince(activity.lastActivityAt, ctx.now) ?? 0;
    return [
      {
        credential: null,
        message: `User ${identity.name} has had no activity for ${plural(days, 'day')} (window ${ctx.days} days).`,
        lastActivityAt: activity.lastActivityAt,
        daysSinceActivity: days,
      },
    ];
  },
};
