/**
 * DORMANT-AWS-006: an IAM role older than the window whose RoleLastUsed is before the window or
 * absent (DESIGN §2b). Absent on a role older than RoleLastUsed's horizon (400 days) is
 * `before-tracking`: not used since then, which is still outside any shorter window. Roles the
 * provider lists but never flags (service-linked, assumable only by AWS services) carry their
 * exempt reason and never reach the rule; a quarantined role (`enabled: false`) is not flagged again.
 */
import { DAY_MS } from '../model/time.js';
import { daysSince, plural } from './activity.js';
import { UNUSED_ROLES } from './compliance.js';
import type { Rule } from './rule.js';
import { signInInactivity } from './signInActivity.js';

export const unusedRole: Rule = {
  id: 'DORMANT-AWS-006',
  name: 'unused-role',
  title: 'Role not used inside the window',
  provider: 'aws',
  identityKinds: ['role'],
  scope: 'identity',
  verdict: 'unused',
  severity: 'medium',
  compliance: UNUSED_ROLES,
  defaultAction: 'disable-user',
  rationale:
    'A role nothing assumes any more keeps its permissions and its trust policy: whoever can still assume it holds standing access nobody needs.',
  usesWindow: true,
  evaluate(identity, ctx) {
    const inactive = signInInactivity(identity, ctx);
    if (!inactive) return [];
    const age = plural(daysSince(identity.createdAt, ctx.now) ?? 0, 'day');
    const window = `(window ${ctx.days} days)`;
    let message: string;
    if (inactive.signIn === 'used') {
      message = `Role ${identity.name} was last used ${plural(inactive.daysSinceActivity, 'day')} ago ${window}.`;
    } else if (inactive.signIn === 'never') {
      message = `Role ${identity.name} was created ${age} ago and has never been used ${window}.`;
    } else {
      const since = identity.signIn?.trackingSince;
      // Rounded: the provider dates the horizon when it read the role, a moment after the scan began.
      const horizon = since
        ? ` in the ${plural(Math.round((ctx.now.getTime() - Date.parse(since)) / DAY_MS), 'day')} RoleLastUsed covers`
        : '';
      message = `Role ${identity.name} was created ${age} ago and has not been used${horizon} ${window}.`;
    }
    return [
      {
        credential: null,
        message,
        lastActivityAt: inactive.lastActivityAt,
        daysSinceActivity: inactive.daysSinceActivity,
      },
    ];
  },
};
