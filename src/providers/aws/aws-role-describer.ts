/**
 * Plan sentences for IAM roles, in AWS's words: the disable is a quarantine (dormant's deny-all
 * inline policy), the delete removes the role completely. Both can be undone by restore, which
 * recreates a deleted role from its backup.
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
        `remove it from its instance profiles (the profiles stay), delete its inline policies and detach its managed policies (${reason})`
      );
    }
    case 'notify':
      return `Notify: IAM role ${name} is ${reason}${request.notifyOnlyReason ? `; ${request.notifyOnlyReason}` : ''}`;
    default:
      // Roles have no keys or passwords: no rule plans these on a role.
      return `${request.action} on IAM role ${name} (${reason})`;
  }
}
