/**
 * Plan sentences in Google's words: "Suspend Workspace user ann@example.com (inactive 143 days)",
 * "Delete key 1a2b… of service account ci@p.iam.gserviceaccount.com …; a deleted key cannot come back".
 */
import type { ActionDescriber, DescribeRequest } from '../provider.js';

/** Undelete windows Google documents: Workspace users 20 days, service accounts 30 days. */
export const USER_UNDELETE_DAYS = 20;
export const SERVICE_ACCOUNT_UNDELETE_DAYS = 30;

function why(r: DescribeRequest): string {
  if (r.reason !== 'never used') return r.reason;
  return r.identity.kind === 'user' ? 'never logged in' : 'never used';
}

function after(days: number | null, state: string): string {
  return days === null || days === 0
    ? `once it is ${state}`
    : `${days} day${days === 1 ? '' : 's'} after it is ${state}`;
}

export const googleDescriber: ActionDescriber = {
  describe(r: DescribeRequest): string {
    const user = r.identity.kind === 'user';
    const who = user ? `Workspace user ${r.identity.name}` : `service account ${r.identity.name}`;
    const key = `key ${r.credential?.id ?? ''} of ${who}`;
    switch (r.action) {
      case 'disable-user':
        return user
          ? `Suspend ${who} (${why(r)})`
          : `Disable ${who}: nothing can authenticate as it, its keys stop working (${why(r)})`;
      case 'delete-user':
        return user
          ? `Delete ${who} (undeletable for ${USER_UNDELETE_DAYS} days), ${after(r.deleteAfterDays, 'suspended')} (${why(r)})`
          : `Delete ${who} (undeletable by its unique id for ${SERVICE_ACCOUNT_UNDELETE_DAYS} days), ${after(r.deleteAfterDays, 'disabled')} (${why(r)})`;
      case 'deactivate-key':
        return `Disable ${key} (${why(r)})`;
      case 'delete-key':
        return `Delete ${key}, ${after(r.deleteAfterDays, 'disabled')} (${why(r)}); a deleted key cannot come back`;
      case 'notify':
        return r.notifyOnlyReason
          ? `Notify only about ${who} (${why(r)}): ${r.notifyOnlyReason}`
          : `Notify about ${who} (${why(r)})`;
      default:
        return `${r.action} ${who} (${why(r)})`;
    }
  },
  // Google keeps no copy of a deleted key: restore can only say so.
  irreversible: (action) => action === 'delete-key',
  // Keys are always listed with their ids (no report handles).
  isCredentialId: (id) => /^[0-9a-f]{8,64}$/i.test(id),
};
