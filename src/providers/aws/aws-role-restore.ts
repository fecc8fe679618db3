/**
 * Restore an IAM role from its backup (DESIGN §2b, §4.8), undoing what dormant did (the
 * restore's `changes`): a role dormant deleted is recreated (path, trust policy, description,
 * max session duration, boundary, tags), its managed and inline policies are put back and it is
 * added to its instance profiles again (a profile is recreated only if it is gone); a role that
 * still exists gets dormant's quarantine removed. Other differences from the backup are left
 * alone and reported. Every change is a named step, and a second restore changes nothing.
 */
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { RestoreReport } from '../../model/backup.js';
import type { RestoreOptions, StepRunner } from '../provider.js';
import { errorName, isEntityAlreadyExists, isNoSuchEntity, toCloudError } from './aws-errors.js';
import type { RoleBackup } from './aws-role-backup.js';
import { QUARANTINE_POLICY_NAME } from './aws-role-identity.js';
import {
  type IamAccess,
  getInstanceProfile,
  getRole,
  listAttachedRolePolicies,
  listInstanceProfilesForRole,
  listRolePolicyNames,
} from './aws-role-lists.js';
import { iamStep } from './aws-steps.js';

const isLimitExceeded = (err: unknown): boolean => /^LimitExceeded/.test(errorName(err));

export async function restoreRole(
  aws: IamAccess,
  backup: RoleBackup,
  options: RestoreOptions,
  steps: StepRunner,
): Promise<RestoreReport> {
  const saved = backup.role;
  const name = saved.name;
  const { changes } = options;
  const report: RestoreReport = { restored: [], cannotRestore: [], warnings: [] };
  const warn = (message: string) => {
    report.warnings.push(message);
    steps.warn(message);
  };
  // Without a record of what dormant did (an old caller), undo what the backup shows.
  const did = (...actions: string[]) => changes === undefined || changes.some((c) => actions.includes(c.action));

  let live = await getRole(aws, name);
  if (live && saved.roleId && live.RoleId && live.RoleId !== saved.roleId) {
    // Recreated since the backup (by an earlier restore, or by someone else): the same name is the same role to IAM.
    report.warnings.push(
      `role ${name} has id ${live.RoleId}, not ${saved.roleId} as in the backup: it was recreated since`,
    );
  }

  let recreated = false;
  if (!live) {
    if (changes !== undefined && !did('delete-user')) {
      warn(`role ${name} was deleted, but not by dormant; it is recreated because a restore was asked for`);
    }
    const tags = saved.tags.map((t) => ({ Key: t.key, Value: t.value }));
    await iamStep(
      aws,
      steps,
      'create-role',
      `iam:CreateRole ${name}`,
      () =>
        aws.iam.send(
          new CreateRoleCommand({
            RoleName: name,
            Path: saved.path,
            AssumeRolePolicyDocument: saved.trustPolicy,
            ...(saved.description !== null ? { Description: saved.description } : {}),
            ...(saved.maxSessionDuration !== null ? { MaxSessionDuration: saved.maxSessionDuration } : {}),
            ...(saved.permissionsBoundary ? { PermissionsBoundary: saved.permissionsBoundary } : {}),
            ...(tags.length > 0 ? { Tags: tags } : {}),
          }),
        ),
      isEntityAlreadyExists,
    );
    recreated = true;
    live = await getRole(aws, name);
    report.restored.push(
      `Role ${name} was recreated at path ${saved.path} with its trust policy` +
        (saved.description !== null ? ', description' : '') +
        (saved.maxSessionDuration !== null ? `, maximum session of ${saved.maxSessionDuration} s` : '') +
        (saved.permissionsBoundary ? `, permissions boundary ${saved.permissionsBoundary}` : '') +
        (tags.length > 0 ? ` and its ${tags.length} tag(s)` : '') +
        '.',
    );
    report.cannotRestore.push(
      `role ${name} has a new unique id (${live?.RoleId ?? 'unknown'}; it was ${saved.roleId ?? 'unknown'}): resource-based policies that named the old role (S3 bucket and KMS key policies, trust policies of other roles) refer to the old id and no longer apply; save each of them again so that it names the role anew`,
    );
    if (saved.permissionsBoundary && live?.PermissionsBoundary?.PermissionsBoundaryArn !== saved.permissionsBoundary) {
      warn(`role ${name} was recreated but does not show permissions boundary ${saved.permissionsBoundary}; check it`);
    }
  }

  // What dormant's delete removed comes back; anything else missing was someone else's change.
  const putBack = recreated || did('delete-user');
  const leftAlone = (what: string) =>
    warn(`${what} of role ${name} is missing since the backup, but not because of dormant; it was left as it is`);

  const attached = new Set(
    recreated ? [] : (await listAttachedRolePolicies(aws, name)).map((p) => p.PolicyArn).filter(Boolean),
  );
  for (const policy of backup.attachedPolicies) {
    if (attached.has(policy.arn)) continue;
    if (!putBack) {
      leftAlone(`managed policy ${policy.arn}`);
      continue;
    }
    const outcome = await steps.step(`attach-policy:${policy.arn}`, async () => {
      try {
        await aws.iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: policy.arn }));
        return 'attached' as const;
      } catch (err) {
        if (isEntityAlreadyExists(err)) return 'attached' as const;
        if (isNoSuchEntity(err)) return 'missing' as const;
        throw toCloudError(err, `iam:AttachRolePolicy ${policy.arn} to role ${name}`, aws.settings);
      }
    });
    if (outcome === 'missing') warn(`managed policy ${policy.arn} no longer exists; it was not attached again`);
    else report.restored.push(`Attached managed policy ${policy.name} (${policy.arn}).`);
  }

  const inline = new Set(recreated ? [] : await listRolePolicyNames(aws, name));
  for (const policy of backup.inlinePolicies) {
    if (inline.has(policy.name)) continue;
    if (!putBack) {
      leftAlone(`inline policy ${policy.name}`);
      continue;
    }
    await iamStep(
      aws,
      steps,
      `put-inline-policy:${policy.name}`,
      `iam:PutRolePolicy ${policy.name} for role ${name}`,
      () =>
        aws.iam.send(
          new PutRolePolicyCommand({ RoleName: name, PolicyName: policy.name, PolicyDocument: policy.document }),
        ),
      () => false,
    );
    report.restored.push(`Inline policy ${policy.name} was put back with its original document.`);
  }

  const inProfiles = new Set(
    recreated ? [] : (await listInstanceProfilesForRole(aws, name)).map((p) => p.InstanceProfileName).filter(Boolean),
  );
  for (const profile of backup.instanceProfiles) {
    if (inProfiles.has(profile.name)) continue;
    if (!putBack) {
      leftAlone(`membership of instance profile ${profile.name}`);
      continue;
    }
    // dormant keeps instance profiles (EC2 instances may reference them): recreate one only if it is gone.
    let profileRecreated = false;
    if (!(await getInstanceProfile(aws, profile.name))) {
      await iamStep(
        aws,
        steps,
        `create-instance-profile:${profile.name}`,
        `iam:CreateInstanceProfile ${profile.name}`,
        () => aws.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: profile.name, Path: profile.path })),
        isEntityAlreadyExists,
      );
      profileRecreated = true;
    }
    const outcome = await steps.step(`add-to-instance-profile:${profile.name}`, async () => {
      try {
        await aws.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: profile.name, RoleName: name }));
        return 'added' as const;
      } catch (err) {
        if (isEntityAlreadyExists(err)) return 'added' as const;
        // An instance profile holds one role: another one took its place.
        if (isLimitExceeded(err)) return 'full' as const;
        throw toCloudError(err, `iam:AddRoleToInstanceProfile ${profile.name} for role ${name}`, aws.settings);
      }
    });
    if (outcome === 'full') {
      warn(`instance profile ${profile.name} now holds another role; role ${name} was not added back to it`);
    } else {
      report.restored.push(
        `Added role ${name} back to instance profile ${profile.name}${profileRecreated ? `, which was recreated at path ${profile.path}` : ''}.`,
      );
    }
  }

  // Last, once everything else is back: lift the quarantine dormant put on.
  if (!recreated && inline.has(QUARANTINE_POLICY_NAME)) {
    const dormantQuarantined = changes === undefined ? !backup.quarantined : did('disable-user', 'delete-user');
    if (dormantQuarantined) {
      await iamStep(
        aws,
        steps,
        'remove-quarantine',
        `iam:DeleteRolePolicy ${QUARANTINE_POLICY_NAME} of role ${name}`,
        () => aws.iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: QUARANTINE_POLICY_NAME })),
      );
      report.restored.push(`The quarantine (inline policy ${QUARANTINE_POLICY_NAME}) was removed from role ${name}.`);
    } else {
      warn(
        `role ${name} carries ${QUARANTINE_POLICY_NAME}, but not from a change dormant recorded since; it was left on`,
      );
    }
  }

  for (const w of backup.warnings) report.warnings.push(`from the backup: ${w}`);
  return report;
}
