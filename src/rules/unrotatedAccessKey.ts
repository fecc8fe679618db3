/** DORMANT-AWS-005: an Active access key older than the rotation period (its own setting, 90 days). */
import { isWithinWindow } from '../model/time.js';
import { daysSince, plural } from './activity.js';
import { KEY_ROTATION } from './compliance.js';
import type { Rule, RuleHit } from './rule.js';

export const unrotatedAccessKey: Rule = {
  id: 'DORMANT-AWS-005',
  name: 'unrotated-access-key',
  title: 'Active access key not rotated',
  provider: 'aws',
  identityKinds: ['user'],
  scope: 'credential',
  verdict: 'unrotated',
  severity: 'low',
  compliance: KEY_ROTATION,
  defaultAction: 'notify',
  rationale: 'Old keys have had the most time to leak; rotation limits what a leaked key is worth.',
  usesWindow: false,
  defaultDays: 90,
  evaluate(identity, ctx) {
    const hits: RuleHit[] = [];
    for (const key of identity.credentials) {
      if (key.kind !== 'access-key' || !key.enabled || key.createdAt === null) continue;
      if (isWithinWindow(key.createdAt, ctx.now, ctx.days)) continue;
      const age = daysSince(key.createdAt, ctx.now) ?? 0;
      hits.push({
        credential: key,
        message: `Access key ${key.id ?? key.handle ?? ''} of ${identity.name} was created ${plural(age, 'day')} ago and not rotated (rotation period ${ctx.days} days).`,
        lastActivityAt: key.lastUse === 'used' ? key.lastUsedAt : null,
        daysSinceActivity: key.lastUse === 'used' ? daysSince(key.lastUsedAt, ctx.now) : null,
      });
    }
    return hits;
  },
};
