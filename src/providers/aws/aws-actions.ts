/**
 * The AWS actions on an IAM user (DESIGN §4.5, §4.6) as named, idempotent steps: deactivate a
 * key, remove the console password, disable (deactivate keys, remove the password, quarantine)
 * and delete completely. Step names are stable: the journal resumes by them.
 */
import {
  AttachUserPolicyCommand,
  DeactivateMFADeviceCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteServiceSpecificCredentialCommand,
  DeleteSigningCertificateCommand,
  DeleteSSHPublicKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DeleteVirtualMFADeviceCommand,
  DetachUserPolicyCommand,
  RemoveUserFromGroupCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import type { Config } from '../../config/config.js';
import { CloudError } from '../../errors.js';
import type { StepRunner } from '../provider.js';
import {
  firstLine,
  isDeleteConflict,
  isEntityAlreadyExists,
  isNoSuchEntity,
  isNoSuchEntityCloudError,
  toCloudError,
} from './aws-errors.js';
import {
  type IamAccess,
  isVirtualMfa,
  listAccessKeys,
  listAttachedPolicies,
  listGroups,
  listInlinePolicyNames,
  listMfaDevices,
  listServiceSpecificCredentials,
  listSigningCertificates,
  listSshPublicKeys,
  tryList,
} from './aws-lists.js';
import { iamStep } from './aws-steps.js';

/** What disable-user does (`remediation.disableUser`, `remediation.quarantinePolicyArn`). */
export type DisableSettings = Pick<Config['remediation'], 'disableUser' | 'quarantinePolicyArn'>;

export async function deactivateKey(aws: IamAccess, userName: string, keyId: string, steps: StepRunner): Promise<void> {
  let missing = false;
  await steps.step(`deactivate-key:${keyId}`, async () => {
    try {
      await aws.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: keyId, Status: 'Inactive' }));
    } catch (err) {
      // A key that no longer exists cannot be used: the aim is met.
      if (isNoSuchEntity(err)) {
        missing = true;
        return;
      }
      throw toCloudError(err, `iam:UpdateAccessKey ${keyId} of ${userName}`, aws.settings);
    }
  });
  if (missing) steps.warn(`access key ${keyId} of ${userName} no longer exists; nothing to deactivate`);
}

export function deleteLoginProfile(aws: IamAccess, userName: string, steps: StepRunner): Promise<void> {
  return iamStep(aws, steps, 'delete-login-profile', `iam:DeleteLoginProfile for ${userName}`, () =>
    aws.iam.send(new DeleteLoginProfileCommand({ UserName: userName })),
  );
}

/**
 * A list before an action: the user being gone gives an empty list (the delete steps and
 * DeleteUser then find nothing to do); an API missing where we run gives a warning and an
 * empty list, and DeleteUser is the judge.
 */
async function listForAction<T>(
  aws: IamAccess,
  operation: string,
  userName: string,
  what: string,
  steps: StepRunner,
  fn: () => Promise<T[]>,
): Promise<T[]> {
  try {
    const listed = await tryList(aws, operation, userName, fn);
    if (listed.ok) return listed.items;
    steps.warn(
      `${listed.reason}: ${what} of ${userName} could not be listed; carrying on and letting DeleteUser judge`,
    );
    return [];
  } catch (err) {
    if (isNoSuchEntityCloudError(err)) return [];
    throw err;
  }
}

export async function disableUser(
  aws: IamAccess,
  userName: string,
  settings: DisableSettings,
  steps: StepRunner,
): Promise<void> {
  if (settings.disableUser.includes('quarantine') && !settings.quarantinePolicyArn) {
    throw new CloudError(
      `disable-user for ${userName} is set to quarantine, but remediation.quarantinePolicyArn is not set; set it to a deny-all managed policy ARN or drop 'quarantine' from remediation.disableUser`,
      'InvalidSettings',
    );
  }
  for (const how of settings.disableUser) {
    if (how === 'deactivate-keys') {
      const keys = await listForAction(aws, 'ListAccessKeys', userName, 'access keys', steps, () =>
        listAccessKeys(aws.iam, userName),
      );
      for (const k of keys) {
        if (k.AccessKeyId && k.Status === 'Active') await deactivateKey(aws, userName, k.AccessKeyId, steps);
      }
    } else if (how === 'remove-password') {
      await deleteLoginProfile(aws, userName, steps);
    } else if (how === 'quarantine') {
      const arn = settings.quarantinePolicyArn!;
      await iamStep(
        aws,
        steps,
        `attach-quarantine-policy:${arn}`,
        `iam:AttachUserPolicy ${arn} to ${userName}`,
        () => aws.iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: arn })),
        isEntityAlreadyExists,
      );
    }
  }
}

/** DESIGN §4.5: remove everything DeleteUser would refuse over, in order, then DeleteUser. */
export async function deleteUser(aws: IamAccess, userName: string, steps: StepRunner): Promise<void> {
  const { iam } = aws;
  const list = <T>(operation: string, what: string, fn: () => Promise<T[]>) =>
    listForAction(aws, operation, userName, what, steps, fn);
  const step = (name: string, operation: string, call: () => Promise<unknown>) =>
    iamStep(aws, steps, name, operation, call);

  await deleteLoginProfile(aws, userName, steps);

  for (const k of await list('ListAccessKeys', 'access keys', () => listAccessKeys(iam, userName))) {
    const id = k.AccessKeyId;
    if (!id) continue;
    await step(`delete-access-key:${id}`, `iam:DeleteAccessKey ${id} of ${userName}`, () =>
      iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: id })),
    );
  }

  for (const c of await list('ListSigningCertificates', 'signing certificates', () =>
    listSigningCertificates(iam, userName),
  )) {
    const id = c.CertificateId;
    if (!id) continue;
    await step(`delete-signing-certificate:${id}`, `iam:DeleteSigningCertificate ${id} of ${userName}`, () =>
      iam.send(new DeleteSigningCertificateCommand({ UserName: userName, CertificateId: id })),
    );
  }

  for (const k of await list('ListSSHPublicKeys', 'SSH public keys', () => listSshPublicKeys(iam, userName))) {
    const id = k.SSHPublicKeyId;
    if (!id) continue;
    await step(`delete-ssh-public-key:${id}`, `iam:DeleteSSHPublicKey ${id} of ${userName}`, () =>
      iam.send(new DeleteSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: id })),
    );
  }

  for (const c of await list('ListServiceSpecificCredentials', 'service-specific credentials', () =>
    listServiceSpecificCredentials(iam, userName),
  )) {
    const id = c.ServiceSpecificCredentialId;
    if (!id) continue;
    await step(
      `delete-service-specific-credential:${id}`,
      `iam:DeleteServiceSpecificCredential ${id} of ${userName}`,
      () =>
        iam.send(new DeleteServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id })),
    );
  }

  for (const d of await list('ListMFADevices', 'MFA devices', () => listMfaDevices(iam, userName))) {
    const serial = d.SerialNumber;
    if (!serial) continue;
    await step(`deactivate-mfa-device:${serial}`, `iam:DeactivateMFADevice ${serial} of ${userName}`, () =>
      iam.send(new DeactivateMFADeviceCommand({ UserName: userName, SerialNumber: serial })),
    );
    if (isVirtualMfa(serial)) {
      await step(`delete-virtual-mfa-device:${serial}`, `iam:DeleteVirtualMFADevice ${serial}`, () =>
        iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: serial })),
      );
    }
  }

  for (const name of await list('ListUserPolicies', 'inline policies', () => listInlinePolicyNames(iam, userName))) {
    await step(`delete-inline-policy:${name}`, `iam:DeleteUserPolicy ${name} of ${userName}`, () =>
      iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: name })),
    );
  }

  for (const p of await list('ListAttachedUserPolicies', 'attached policies', () =>
    listAttachedPolicies(iam, userName),
  )) {
    const arn = p.PolicyArn;
    if (!arn) continue;
    await step(`detach-policy:${arn}`, `iam:DetachUserPolicy ${arn} from ${userName}`, () =>
      iam.send(new DetachUserPolicyCommand({ UserName: userName, PolicyArn: arn })),
    );
  }

  for (const g of await list('ListGroupsForUser', 'group memberships', () => listGroups(iam, userName))) {
    const group = g.GroupName;
    if (!group) continue;
    await step(`remove-from-group:${group}`, `iam:RemoveUserFromGroup ${group} for ${userName}`, () =>
      iam.send(new RemoveUserFromGroupCommand({ UserName: userName, GroupName: group })),
    );
  }

  await steps.step('delete-user', async () => {
    try {
      await iam.send(new DeleteUserCommand({ UserName: userName }));
    } catch (err) {
      if (isNoSuchEntity(err)) return;
      if (isDeleteConflict(err)) {
        throw new CloudError(
          `AWS refused to delete user ${userName} (DeleteConflict): ${firstLine(err)}`,
          'DeleteConflict',
          { cause: err },
        );
      }
      throw toCloudError(err, `iam:DeleteUser ${userName}`, aws.settings);
    }
  });
}
