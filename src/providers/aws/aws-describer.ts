/**
 * Plan sentences in AWS's words ("Deactivate access key AKIA… of alice (unused 143 days)").
 * Every AWS action can be undone by restore, except deleted key secrets, which restore says.
 */
import type { Config } from '../../config/config.js';
import type { ActionDescriber, DescribeRequest } from '../provider.js';
import { describeRoleAction } from './aws-role-describer.js';

/** An access key id (a report slot such as `access_key_1` is not one). */
const KEY_ID = /^(AKIA|ASIA|AIDA|AKID)[A-Z0-9]{12,}$/;

/** What disable-user does, in words: "deactivate its access keys and remove its console password". */
export function disableWhat(disableUser: Config['remediation']['disableUser']): string {
  const parts = disableUser.map((s) =>
    s === 'deactivate-keys'
      ? 'deactivate its access keys'
      : s === 'remove-password'
        ? 'remove its console password'
        : 'attach the quarantine policy',
  );
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : (parts[0] ?? 'nothing');
}

export function awsDescriber(config: Config): ActionDescriber {
  const disabling = disableWhat(config.remediation.disableUser);
  return {
    describe(request: DescribeRequest): string {
      if (request.identity.kind === 'role') return describeRoleAction(request);
      const name = request.identity.name;
      const { reason } = request;
      switch (request.action) {
        case 'disable-user':
          return `Disable user ${name}: ${disabling} (${reason})`;
        case 'delete-user': {
          const after = request.deleteAfterDays ?? 0;
          return `Delete user ${name} completely after a backup${after > 0 ? `, ${after} days after it is disabled` : ''} (${reason})`;
        }
        case 'deactivate-key':
          return `Deactivate access key ${request.credential?.id ?? ''} of ${name} (${reason})`;
        case 'delete-key':
          return `Delete access key ${request.credential?.id ?? ''} of ${name} (${reason})`;
        case 'remove-password':
          return `Remove the console password of ${name} (${reason})`;
        case 'notify':
          return request.notifyOnlyReason
            ? `Notify: user ${name} is ${reason}; ${request.notifyOnlyReason}`
            : `Notify: access key ${request.credential?.id ?? ''} of ${name} is not rotated`;
      }
    },
    // A deleted role comes back with a new unique id (trust and resource policies naming it are lost).
    irreversible: (action, kind) => kind === 'role' && action === 'delete-user',
    isCredentialId: (id: string) => KEY_ID.test(id),
  };
}
