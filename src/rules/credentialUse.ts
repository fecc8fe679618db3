/**
 * The verdict shared by the two "unused credential" rules: a credential is unused when it
 * was created before the window and its last use (if any) is before the window too.
 */
import type { Credential } from '../model/identity.js';
import { isWithinWindow } from '../model/time.js';
import { credentialActivity, daysSince, plural, trackingOverlapsWindow } from './activity.js';
import type { RuleContext, RuleHit } from './rule.js';

export function unusedCredentialHit(c: Credential, label: string, ctx: RuleContext): RuleHit | null {
  const activity = credentialActivity(c);
  if (activity.unknowns.length > 0 || activity.lastActivityAt === null) return null;
  // The creation grace: a credential younger than the window is never "unused".
  if (isWithinWindow(activity.lastActivityAt, ctx.now, ctx.days)) return null;
  if (trackingOverlapsWindow(c, ctx.now, ctx.days)) return null;
  const created = daysSince(c.createdAt, ctx.now) ?? 0;
  let how: string;
  if (c.lastUse === 'used') how = `was last used ${plural(daysSince(c.lastUsedAt, ctx.now) ?? 0, 'day')} ago`;
  else if (c.lastUse === 'before-tracking')
    how = `has not been used since AWS began tracking (${c.trackingSince?.slice(0, 10) ?? 'unknown'}); ${c.kind === 'password' ? 'set' : 'created'} ${plural(created, 'day')} ago`;
  else how = `was ${c.kind === 'password' ? 'set' : 'created'} ${plural(created, 'day')} ago and never used`;
  return {
    credential: c,
    message: `${label} ${how} (window ${ctx.days} days).`,
    lastActivityAt: activity.lastActivityAt,
    daysSinceActivity: daysSince(activity.lastActivityAt, ctx.now),
  };
}
