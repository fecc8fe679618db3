/** Plan sentences in Entra's words ("Disable Entra user bob@contoso.com: block sign-in and revoke sessions (inactive 143 days)"). */
import type { ActionDescriber, DescribeRequest } from '../provider.js';
import { SOFT_DELETE_DAYS } from './entra-restore.js';

function why(reason: string): string {
  // A sign-in is the only use an Entra user has: say it in those words.
  return reason === 'never used' ? 'never signed in' : reason;
}

export const entraDescriber: ActionDescriber = {
  describe(r: DescribeRequest): string {
    const who = `Entra ${r.identity.kind === 'guest' ? 'guest' : 'user'} ${r.identity.name}`;
    switch (r.action) {
      case 'disable-user':
        return `Disable ${who}: block sign-in and revoke sessions (${why(r.reason)})`;
      case 'delete-user': {
        const when =
          r.deleteAfterDays === null || r.deleteAfterDays === 0
            ? 'once it is disabled'
            : `${r.deleteAfterDays} day${r.deleteAfterDays === 1 ? '' : 's'} after it is disabled`;
        return `Delete ${who} (soft delete, restorable for ${SOFT_DELETE_DAYS} days), ${when} (${why(r.reason)})`;
      }
      case 'notify':
        return r.notifyOnlyReason
          ? `Notify only about ${who} (${why(r.reason)}): ${r.notifyOnlyReason}`
          : `Notify about ${who} (${why(r.reason)})`;
      default:
        return `${r.action} ${who} (${why(r.reason)})`;
    }
  },
  // A soft-deleted user comes back from deletedItems for 30 days; restore says plainly when it is later.
  irreversible: () => false,
  // Entra users have no credentials dormant acts on one by one: every id is a real one.
  isCredentialId: () => true,
};
