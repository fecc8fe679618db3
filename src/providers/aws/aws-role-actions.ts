/**
 * The actions on an IAM role (DESIGN §2b, §4.5) as named, idempotent steps: quarantine (the
 * reversible disable: dormant's deny-all inline policy) and the complete delete (out of every
 * instance profile, inline policies deleted, managed policies detached, then DeleteRole). The
 * instance profiles themselves stay: EC2 instances may still reference them. Step names are
 * stable: the journal resumes by them.
 */
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import { CloudError } from '../../errors.js';
import type { StepRunner } from '../provider.js';
import {
  firstLine,
  isDeleteConflict,
  isNoSuchEntity,
  isUnsupportedOperation,
  toCloudError,
  unsupportedReason,
} from './aws-errors.js';
import { QUARANTINE_DOCUMENT, QUARANTINE_POLICY_NAME, isQuarantineDocument } from './aws-role-identity.js';
import {
  type IamAccess,
  getRolePolicyDocument,
  listAttachedRolePolicies,
  listInstanceProfilesForRole,
  listRolePolicyNames,
} from './aws-role-lists.js';
import { iamStep } from './aws-steps.js';

/**
 * Put dormant's deny-all on the role. Putting it again changes nothing; a role already gone
 * cannot be used. An inline policy of that name that is not dormant's deny-all is the
 * customer's: it is never overwritten (the item fails, naming it).
 */
export async function quarantineRole(aws: IamAccess, roleName: string, steps: StepRunner): Promise<void> {
  const existing = await getRolePolicyDocument(aws, roleName, QUARANTINE_POLICY_NAME);
  if (existing !== null && !isQuarantineDocument(existing)) {
    throw new CloudError(
      `role ${roleName} already has an inline policy named ${QUARANTINE_POLICY_NAME} that is not dormant's deny-all; rename that policy, or exempt the role`,
      'QuarantineNameTaken',
    );
  }
  return iamStep(
    aws,
    steps,
    'quarantine-role',
    `iam:PutRolePolicy ${QUARANTINE_POLICY_NAME} for role ${roleName}`,
    () =>
      aws.iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: QUARANTINE_POLICY_NAME,
          PolicyDocument: QUARANTINE_DOCUMENT,
        }),
      ),
  );
}

/** A list before the delete; an API missing where we run is a warning, and DeleteRole judges. */
async function listForDelete<T>(
  aws: IamAccess,
  operation: string,
  roleName: string,
  what: string,
  steps: StepRunner,
  fn: () => Promise<T[]>,
): Promise<T[]> {
  try {
    return await fn();
  } catch (err) {
    const cause = err instanceof CloudError && err.cause !== undefined ? err.cause : err;
    if (isUnsupportedOperation(cause, aws.settings)) {
      steps.warn(
        `${unsupportedReason(`iam:${operation}`, cause)}: ${what} of role ${roleName} could not be listed; carrying on and letting DeleteRole judge`,
      );
      return [];
    }
    throw err;
  }
}

/**
 * DESIGN §2b: remove everything DeleteRole refuses over, then DeleteRole. The quarantine is
 * deleted last, right before DeleteRole (which refuses while any inline policy is left). If
 * DeleteRole then fails, the quarantine is put back: resource policies naming the role would
 * otherwise grant it access again. A crash between the two leaves it off until apply resumes
 * the item (its re-check counts the journaled removal as dormant's own, so the resume goes on).
 */
export async function deleteRole(aws: IamAccess, roleName: string, steps: StepRunner): Promise<void> {
  const { iam } = aws;
  const step = (name: string, operation: string, call: () => Promise<unknown>) =>
    iamStep(aws, steps, name, operation, call);

  const profiles = await listForDelete(aws, 'ListInstanceProfilesForRole', roleName, 'instance profiles', steps, () =>
    listInstanceProfilesForRole(aws, roleName),
  );
  for (const p of profiles) {
    const profile = p.InstanceProfileName;
    if (!profile) continue;
    await step(
      `remove-from-instance-profile:${profile}`,
      `iam:RemoveRoleFromInstanceProfile ${profile} for role ${roleName}`,
      () => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: profile, RoleName: roleName })),
    );
  }

  const inline = await listForDelete(aws, 'ListRolePolicies', roleName, 'inline policies', steps, () =>
    listRolePolicyNames(aws, roleName),
  );
  for (const name of inline.filter((n) => n !== QUARANTINE_POLICY_NAME)) {
    await step(`delete-inline-policy:${name}`, `iam:DeleteRolePolicy ${name} of role ${roleName}`, () =>
      iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: name })),
    );
  }

  const attached = await listForDelete(aws, 'ListAttachedRolePolicies', roleName, 'attached policies', steps, () =>
    listAttachedRolePolicies(aws, roleName),
  );
  for (const p of attached) {
    const arn = p.PolicyArn;
    if (!arn) continue;
    await step(`detach-policy:${arn}`, `iam:DetachRolePolicy ${arn} from role ${roleName}`, () =>
      iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: arn })),
    );
  }

  if (inline.includes(QUARANTINE_POLICY_NAME)) {
    await step(
      `delete-inline-policy:${QUARANTINE_POLICY_NAME}`,
      `iam:DeleteRolePolicy ${QUARANTINE_POLICY_NAME} of role ${roleName}`,
      () => iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: QUARANTINE_POLICY_NAME })),
    );
  }

  try {
    await deleteTheRole(aws, roleName, steps);
  } catch (err) {
    if (inline.includes(QUARANTINE_POLICY_NAME)) {
      try {
        await quarantineRole(aws, roleName, steps);
      } catch (again) {
        steps.warn(
          `role ${roleName} could not be quarantined again after its delete failed (${(again as Error).message}); it has no deny-all policy now: run apply again or quarantine it by hand`,
        );
      }
    }
    throw err;
  }
}

function deleteTheRole(aws: IamAccess, roleName: string, steps: StepRunner): Promise<void> {
  const { iam } = aws;
  return steps.step('delete-role', async () => {
    try {
      await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
    } catch (err) {
      if (isNoSuchEntity(err)) return;
      if (isDeleteConflict(err)) {
        throw new CloudError(
          `AWS refused to delete role ${roleName} (DeleteConflict): ${firstLine(err)}`,
          'DeleteConflict',
          { cause: err },
        );
      }
      throw toCloudError(err, `iam:DeleteRole ${roleName}`, aws.settings);
    }
  });
}
