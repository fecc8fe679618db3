/**
 * What counts as activity (DESIGN §2): the user was created, the password was used,
 * created or changed, or any access key was used or created. Pure functions.
 */
import type { Credential, Identity } from '../model/identity.js';
import { daysBetween, isWithinWindow } from '../model/time.js';

export interface Activity {
  /** The latest known activity, or null when nothing has a date. */
  lastActivityAt: string | null;
  /** Signals whose date the source could not give; a verdict of "inactive" needs none. */
  unknowns: string[];
}

function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return new Date(a).getTime() >= new Date(b).getTime() ? a : b;
}

export function describeCredential(c: Credential): string {
  if (c.kind === 'password') return 'console password';
  return `${c.kind === 'access-key' ? 'access key' : 'key'} ${c.id ?? c.handle ?? '(unknown id)'}`;
}

/** Latest known event on one credential (creation or use) and what is unknown about it. */
export function credentialActivity(c: Credential): Activity {
  const unknowns: string[] = [];
  let last: string | null = c.createdAt;
  if (c.createdAt === null) unknowns.push(`${describeCredential(c)} creation time unknown`);
  if (c.lastUse === 'used') last = latest(last, c.lastUsedAt);
  if (c.lastUse === 'unknown') unknowns.push(`${describeCredential(c)} last use unknown`);
  return { lastActivityAt: last, unknowns };
}

export function identityActivity(identity: Identity): Activity {
  const unknowns: string[] = [];
  let last: string | null = identity.createdAt;
  if (identity.createdAt === null) unknowns.push('user creation time unknown');
  last = latest(last, identity.lastSignInAt ?? null);
  for (const c of identity.credentials) {
    const a = credentialActivity(c);
    last = latest(last, a.lastActivityAt);
    unknowns.push(...a.unknowns);
  }
  return { lastActivityAt: last, unknowns };
}

/** True when a last use recorded as `before-tracking` could still fall inside the window. */
export function trackingOverlapsWindow(c: Credential, now: Date, days: number): boolean {
  return c.lastUse === 'before-tracking' && c.trackingSince !== undefined
    ? isWithinWindow(c.trackingSince, now, days)
    : false;
}

export function daysSince(at: string | null, now: Date): number | null {
  return at === null ? null : daysBetween(at, now);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
