/**
 * Plan sentences for IAM roles, in AWS's words: the disable is a quarantine (dormant's deny-all
 * inline policy), the delete removes the role completely. Restore lifts a quarantine, and
 * recreates a deleted role from its backup, but not wholly: the new role has a new unique id, so
 * trust and resource policies that named the old one no longer grant it anything. The delete
 * sentence says so, and the describer marks it irreversible.
 */
import type { DescribeRequest } from '../provider.js';
import { QUARANTINE_POLICY_NAME } from './aws-role-identity.js';

export function describeRoleAction(request: DescribeRequest): string {
  const name = request.identity.name;
  const { reason } = request;
  switch (request.action) {
    case 'disable-user':
      return `Quarantine IAM role ${name}: attach the deny-all inline policy ${QUARANTINE_POLICY_NAME} (${reason})`;
    case 'delete-user': {
      const after = request.deleteAfterDays ?? 0;
      return (
        `Delete IAM role ${name} completely after a backup${after > 0 ? `, ${after} days after it is quarantined` : ''}: ` +
        `remove it from its instance profiles (the profiles stay), delete its inline policies and detach its managed policies (${reason}); ` +
        `cannot be fully undone: a restored role gets a new id, and other roles' trust and resource policies that named it must be saved again`
      );
    }
    case 'notify':
      return `Notify: IAM role ${name} is ${reason}${request.notifyOnlyReason ? `; ${request.notifyOnlyReason}` : ''}`;
    default:
      // Roles have no keys or passwords: no rule plans these on a role.
      return `${request.action} on IAM role ${name} (${reason})`;
  }
}
