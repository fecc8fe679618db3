/**
 * What counts as activity for identities that sign in themselves (Entra users and guests, DESIGN §2c; Workspace users and service accounts, §2d): a sign-in of any kind,
 * creation, or (for a guest) redeeming the invitation. Shared by the DORMANT-ENTRA, -GWS and -GCP rules; pure.
 */
import type { Identity } from '../model/identity.js';
import { isWithinWindow } from '../model/time.js';
import { daysSince } from './activity.js';
import type { RuleContext } from './rule.js';

export interface SignInActivity {
  /** The latest known activity. */
  lastActivityAt: string;
  daysSinceActivity: number;
  /** How the sign-in record reads: the basis of the message. */
  signIn: 'used' | 'never' | 'before-tracking';
}

function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return new Date(a).getTime() >= new Date(b).getTime() ? a : b;
}

/**
 * The identity's latest activity when it is known and outside the window; null when there is
 * activity inside the window, when the identity is already disabled, or when the data cannot
 * support a verdict (sign-in data unknown, creation time unknown without a sign-in, tracking
 * that began inside the window).
 */
export function signInInactivity(identity: Identity, ctx: RuleContext): SignInActivity | null {
  if (identity.enabled === false) return null;
  const signIn = identity.signIn;
  if (!signIn || signIn.lastUse === 'unknown') return null;
  if (signIn.lastUse === 'used' && signIn.at === null) return null;
  if (signIn.lastUse === 'before-tracking') {
    if (signIn.trackingSince === undefined || isWithinWindow(signIn.trackingSince, ctx.now, ctx.days)) return null;
  }
  let last = latest(identity.createdAt, signIn.lastUse === 'used' ? signIn.at : null);
  // Redeeming an invitation is the guest's own act; a pending one's change is the inviter's, and
  // still counts, so that a re-sent invitation is given its own window.
  if (identity.invitation) last = latest(last, identity.invitation.changedAt);
  // Without a sign-in, only the creation time can date the identity.
  if (last === null || (identity.createdAt === null && signIn.lastUse !== 'used')) return null;
  if (isWithinWindow(last, ctx.now, ctx.days)) return null;
  return { lastActivityAt: last, daysSinceActivity: daysSince(last, ctx.now) ?? 0, signIn: signIn.lastUse };
}
