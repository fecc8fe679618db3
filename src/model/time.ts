/** Time arithmetic in UTC milliseconds; everything is compared as instants, never local time. */
export const DAY_MS = 86_400_000;

/** ISO 8601 in UTC to the second: `2026-11-22T10:00:00Z`. */
export function isoSeconds(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Whole days elapsed from `then` to `now` (floor). */
export function daysBetween(then: string | Date, now: Date): number {
  return Math.floor((now.getTime() - new Date(then).getTime()) / DAY_MS);
}

/**
 * DESIGN §2: "within the window" means less than N days ago; exactly N days old is outside.
 */
export function isWithinWindow(at: string | Date, now: Date, days: number): boolean {
  return now.getTime() - new Date(at).getTime() < days * DAY_MS;
}
