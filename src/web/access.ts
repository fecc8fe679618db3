/**
 * Who may use the dashboard: `web.approvers` and `web.viewers` list emails or group names. An
 * approver may decide (approve, deny, snooze, restore), a viewer only look; anyone in neither
 * list is refused. Checked on every request, so a change to the lists applies at once.
 */
import type { WebUser } from './web-types.js';

export type Role = 'approver' | 'viewer';

export interface AccessLists {
  approvers: string[];
  viewers: string[];
}

function matches(entry: string, email: string, groups: string[]): boolean {
  // Emails are compared without case (providers differ on it); group names exactly (some
  // providers name groups by an email address, so an entry with an @ may be either).
  if (entry.includes('@') && entry.toLowerCase() === email.toLowerCase()) return true;
  return groups.includes(entry);
}

export function roleOf(email: string, groups: string[], lists: AccessLists): Role | null {
  if (lists.approvers.some((e) => matches(e, email, groups))) return 'approver';
  if (lists.viewers.some((e) => matches(e, email, groups))) return 'viewer';
  return null;
}

/** The groups worth keeping in the session: those the lists name. */
export function relevantGroups(groups: string[], lists: AccessLists): string[] {
  const named = new Set([...lists.approvers, ...lists.viewers]);
  return [...new Set(groups.filter((g) => named.has(g)))];
}

/** The signed-in user the pages see. */
export function webUser(email: string, groups: string[], role: Role, csrf: string): WebUser {
  return { email, groups, canDecide: role === 'approver', actor: `web:${email}`, csrf };
}
