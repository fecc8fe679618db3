/**
 * Rebuild an IAM user from its backup (DESIGN §4.8): path, tags, boundary, groups, managed and
 * inline policies; the console password only on request (reset required); keys that were
 * deactivated are reactivated; public SSH keys and signing certificates are uploaded again.
 * What cannot come back (deleted key secrets, MFA seeds, service-specific passwords) is said
 * plainly. Every change is a named step, and a second restore changes nothing.
 */
import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  GetLoginProfileCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
  UpdateSigningCertificateCommand,
  UpdateSSHPublicKeyCommand,
  UploadSigningCertificateCommand,
  UploadSSHPublicKeyCommand,
} from '@aws-sdk/client-iam';
import type { RestoreReport } from '../../model/backup.js';
import type { RestoreOptions, StepRunner } from '../provider.js';
import type { UserBackup } from './aws-backup.js';
import {
  errorName,
  isDuplicate,
  isEntityAlreadyExists,
  isNoSuchEntity,
  isUnsupportedOperation,
  toCloudError,
} from './aws-errors.js';
import {
  type IamAccess,
  getUser,
  listAccessKeys,
  listMfaDevices,
  listServiceSpecificCredentials,
  listSigningCertificates,
  readSshPublicKeys,
  tryList,
} from './aws-lists.js';
import { detachQuarantine } from './aws-restore-quarantine.js';
import { iamStep } from './aws-steps.js';

function normalizeBody(body: string): string {
  return body.replace(/\s+/g, ' ').trim();
}

export async function restoreUser(
  aws: IamAccess,
  backup: UserBackup,
  options: RestoreOptions,
  steps: StepRunner,
  /** `remediation.quarantinePolicyArn`: a disable may have attached it, and restore takes it off again. */
  quarantinePolicyArn: string | null = null,
): Promise<RestoreReport> {
  const userName = backup.user.name;
  const restored: string[] = [];
  const cannotRestore: string[] = [];
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    steps.warn(message);
  };
  const tags = backup.user.tags.map((t) => ({ Key: t.key, Value: t.value }));
  const boundary = backup.user.permissionsBoundary;

  // The user itself: path, tags and permissions boundary.
  const existing = await getUser(aws, userName);
  let recreated = false;
  if (!existing) {
    await iamStep(
      aws,
      steps,
      'create-user',
      `iam:CreateUser ${userName}`,
      () =>
        aws.iam.send(
          new CreateUserCommand({
            UserName: userName,
            Path: backup.user.path,
            ...(tags.length > 0 ? { Tags: tags } : {}),
            ...(boundary ? { PermissionsBoundary: boundary } : {}),
          }),
        ),
      isEntityAlreadyExists,
    );
    recreated = true;
    restored.push(
      `User ${userName} was recreated at path ${backup.user.path}` +
        (tags.length > 0 ? ` with its ${tags.length} tag(s)` : '') +
        (boundary ? ` and permissions boundary ${boundary}` : '') +
        '.',
    );
    if (boundary) await verifyBoundary(aws, userName, boundary, warn);
  } else {
    if (existing.Path && existing.Path !== backup.user.path) {
      warn(
        `user ${userName} now has path ${existing.Path}, not ${backup.user.path} as in the backup; the path was left as it is`,
      );
    }
    if (tags.length > 0) {
      await iamStep(aws, steps, 'tag-user', `iam:TagUser ${userName}`, () =>
        aws.iam.send(new TagUserCommand({ UserName: userName, Tags: tags })),
      );
      restored.push(`The ${tags.length} tag(s) of user ${userName} were re-applied.`);
    }
    if (boundary) {
      const applied = await optionalStep(
        aws,
        steps,
        'put-permissions-boundary',
        () =>
          aws.iam.send(new PutUserPermissionsBoundaryCommand({ UserName: userName, PermissionsBoundary: boundary })),
        `iam:PutUserPermissionsBoundary for ${userName}`,
      );
      if (applied === true) restored.push(`Permissions boundary ${boundary} was re-applied.`);
      else warn(`the permissions boundary ${boundary} could not be re-applied: ${applied}`);
    }
  }

  // Group memberships.
  for (const group of backup.groups) {
    const outcome = await steps.step(`add-to-group:${group}`, async () => {
      try {
        await aws.iam.send(new AddUserToGroupCommand({ UserName: userName, GroupName: group }));
        return 'added' as const;
      } catch (err) {
        if (isEntityAlreadyExists(err)) return 'added' as const;
        if (isNoSuchEntity(err)) return 'missing' as const;
        throw toCloudError(err, `iam:AddUserToGroup ${group} for ${userName}`, aws.settings);
      }
    });
    if (outcome === 'missing') warn(`group ${group} no longer exists; ${userName} was not added back to it`);
    else restored.push(`Added ${userName} back to group ${group}.`);
  }

  // Managed policies.
  for (const policy of backup.attachedPolicies) {
    const outcome = await steps.step(`attach-policy:${policy.arn}`, async () => {
      try {
        await aws.iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: policy.arn }));
        return 'attached' as const;
      } catch (err) {
        if (isEntityAlreadyExists(err)) return 'attached' as const;
        if (isNoSuchEntity(err)) return 'missing' as const;
        throw toCloudError(err, `iam:AttachUserPolicy ${policy.arn} to ${userName}`, aws.settings);
      }
    });
    if (outcome === 'missing') warn(`managed policy ${policy.arn} no longer exists; it was not attached again`);
    else restored.push(`Attached managed policy ${policy.name} (${policy.arn}).`);
  }

  // dormant's quarantine policy, on a user disabled in place (aws-restore-quarantine.ts).
  if (existing) restored.push(...(await detachQuarantine(aws, backup, options, steps, quarantinePolicyArn)));

  // Inline policies, with their exact documents.
  for (const policy of backup.inlinePolicies) {
    await iamStep(
      aws,
      steps,
      `put-inline-policy:${policy.name}`,
      `iam:PutUserPolicy ${policy.name} for ${userName}`,
      () =>
        aws.iam.send(
          new PutUserPolicyCommand({ UserName: userName, PolicyName: policy.name, PolicyDocument: policy.document }),
        ),
      () => false,
    );
    restored.push(`Inline policy ${policy.name} was put back with its original document.`);
  }

  // Console password: only on request, and a reset is required at sign-in.
  if (backup.loginProfile.exists) {
    const password = options.temporaryPassword;
    if (password) {
      const outcome = await steps.step('create-login-profile', async () => {
        try {
          await aws.iam.send(
            new CreateLoginProfileCommand({ UserName: userName, Password: password, PasswordResetRequired: true }),
          );
          return 'created' as const;
        } catch (err) {
          if (isEntityAlreadyExists(err)) return 'exists' as const;
          throw toCloudError(err, `iam:CreateLoginProfile for ${userName}`, aws.settings);
        }
      });
      if (outcome === 'exists') {
        warn(
          `user ${userName} already has a console password; it was left as it is and the temporary password was not set`,
        );
      } else {
        restored.push(
          `The console password was recreated with the temporary password given; ${userName} must change it at the next sign-in.`,
        );
      }
    } else if (!(await hasLoginProfile(aws, userName))) {
      cannotRestore.push(
        'console password: not recreated (pass a temporary password to restore it; a reset is required at sign-in)',
      );
    }
  } else if (options.temporaryPassword) {
    warn(`user ${userName} had no console password in the backup; none was created`);
  }

  // Access keys: reactivate what was deactivated; the secrets of deleted keys are gone.
  const liveKeys = recreated
    ? []
    : await listForRestore(aws, 'ListAccessKeys', userName, 'access keys', warn, () =>
        listAccessKeys(aws.iam, userName),
      );
  const liveKeyById = new Map((liveKeys ?? []).map((k) => [k.AccessKeyId, k]));
  for (const key of backup.accessKeys) {
    const live = liveKeyById.get(key.id);
    if (!live) {
      if (liveKeys === null) {
        warn(`access key ${key.id} could not be checked; it was not reactivated`);
      } else {
        cannotRestore.push(`access key ${key.id} was deleted: its secret cannot come back; create a new key`);
      }
      continue;
    }
    if (key.status === 'Active' && live.Status !== 'Active') {
      await iamStep(
        aws,
        steps,
        `reactivate-key:${key.id}`,
        `iam:UpdateAccessKey ${key.id} of ${userName}`,
        () => aws.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key.id, Status: 'Active' })),
        () => false,
      );
      restored.push(`Access key ${key.id} was reactivated.`);
    }
  }

  // SSH public keys: the bodies are public and can be uploaded again.
  if (backup.sshPublicKeys.length > 0) {
    const live = recreated
      ? []
      : await listForRestore(aws, 'ListSSHPublicKeys', userName, 'SSH public keys', warn, () =>
          readSshPublicKeys(aws, userName),
        );
    const liveIds = new Set((live ?? []).map((k) => k.id));
    const liveBodies = new Set((live ?? []).filter((k) => k.body).map((k) => normalizeBody(k.body!)));
    for (const key of backup.sshPublicKeys) {
      if (liveIds.has(key.id) || (key.body && liveBodies.has(normalizeBody(key.body)))) continue;
      if (!key.body) {
        cannotRestore.push(`SSH public key ${key.id} was deleted and the backup has no body for it; upload it again`);
        continue;
      }
      if (live === null) {
        warn(`SSH public key ${key.id} could not be checked; it was not uploaded again`);
        continue;
      }
      const body = key.body;
      const newId = await steps.step(`upload-ssh-public-key:${key.id}`, async () => {
        let id: string | undefined;
        try {
          const out = await aws.iam.send(new UploadSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyBody: body }));
          id = out.SSHPublicKey?.SSHPublicKeyId;
        } catch (err) {
          if (isDuplicate(err)) return null;
          throw toCloudError(err, `iam:UploadSSHPublicKey for ${userName}`, aws.settings);
        }
        if (id && key.status === 'Inactive') {
          try {
            await aws.iam.send(
              new UpdateSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: id, Status: 'Inactive' }),
            );
          } catch (err) {
            throw toCloudError(err, `iam:UpdateSSHPublicKey ${id} of ${userName}`, aws.settings);
          }
        }
        return id ?? null;
      });
      restored.push(`SSH public key ${key.id} was uploaded again${newId ? ` (new id ${newId})` : ''}.`);
    }
  }

  // Signing certificates: public too.
  if (backup.signingCertificates.length > 0) {
    const live = recreated
      ? []
      : await listForRestore(aws, 'ListSigningCertificates', userName, 'signing certificates', warn, () =>
          listSigningCertificates(aws.iam, userName),
        );
    const liveIds = new Set((live ?? []).map((c) => c.CertificateId));
    const liveBodies = new Set(
      (live ?? []).filter((c) => c.CertificateBody).map((c) => normalizeBody(c.CertificateBody!)),
    );
    for (const cert of backup.signingCertificates) {
      if (liveIds.has(cert.id) || (cert.body && liveBodies.has(normalizeBody(cert.body)))) continue;
      if (!cert.body) {
        cannotRestore.push(
          `signing certificate ${cert.id} was deleted and the backup has no body for it; upload it again`,
        );
        continue;
      }
      if (live === null) {
        warn(`signing certificate ${cert.id} could not be checked; it was not uploaded again`);
        continue;
      }
      const body = cert.body;
      const newId = await steps.step(`upload-signing-certificate:${cert.id}`, async () => {
        let id: string | undefined;
        try {
          const out = await aws.iam.send(
            new UploadSigningCertificateCommand({ UserName: userName, CertificateBody: body }),
          );
          id = out.Certificate?.CertificateId;
        } catch (err) {
          if (isDuplicate(err)) return null;
          throw toCloudError(err, `iam:UploadSigningCertificate for ${userName}`, aws.settings);
        }
        if (id && cert.status === 'Inactive') {
          try {
            await aws.iam.send(
              new UpdateSigningCertificateCommand({ UserName: userName, CertificateId: id, Status: 'Inactive' }),
            );
          } catch (err) {
            throw toCloudError(err, `iam:UpdateSigningCertificate ${id} of ${userName}`, aws.settings);
          }
        }
        return id ?? null;
      });
      restored.push(`Signing certificate ${cert.id} was uploaded again${newId ? ` (new id ${newId})` : ''}.`);
    }
  }

  // MFA devices: the seed never leaves AWS, so a removed device must be enrolled again.
  if (backup.mfaDevices.length > 0) {
    const live = recreated
      ? []
      : await listForRestore(aws, 'ListMFADevices', userName, 'MFA devices', warn, () =>
          listMfaDevices(aws.iam, userName),
        );
    const liveSerials = new Set((live ?? []).map((d) => d.SerialNumber));
    for (const device of backup.mfaDevices) {
      if (liveSerials.has(device.serialNumber)) continue;
      cannotRestore.push(`MFA device ${device.serialNumber} must be enrolled again (its seed cannot come back)`);
    }
  }

  // Service-specific credentials: their passwords cannot come back either.
  if (backup.serviceSpecificCredentials.length > 0) {
    const live = recreated
      ? []
      : await listForRestore(
          aws,
          'ListServiceSpecificCredentials',
          userName,
          'service-specific credentials',
          warn,
          () => listServiceSpecificCredentials(aws.iam, userName),
        );
    const liveIds = new Set((live ?? []).map((c) => c.ServiceSpecificCredentialId));
    for (const cred of backup.serviceSpecificCredentials) {
      if (liveIds.has(cred.id)) continue;
      cannotRestore.push(
        `service-specific credential ${cred.id} for ${cred.serviceName} cannot be restored: its password cannot come back; create a new one`,
      );
    }
  }

  for (const w of backup.warnings) warnings.push(`from the backup: ${w}`);
  return { restored, cannotRestore, warnings };
}

async function hasLoginProfile(aws: IamAccess, userName: string): Promise<boolean> {
  try {
    await aws.iam.send(new GetLoginProfileCommand({ UserName: userName }));
    return true;
  } catch (err) {
    if (isNoSuchEntity(err)) return false;
    throw toCloudError(err, `iam:GetLoginProfile for ${userName}`, aws.settings);
  }
}

/** A list during restore; null (with a warning) when the API is missing where we run. */
async function listForRestore<T>(
  aws: IamAccess,
  operation: string,
  userName: string,
  what: string,
  warn: (message: string) => void,
  fn: () => Promise<T[]>,
): Promise<T[] | null> {
  const listed = await tryList(aws, operation, userName, fn);
  if (listed.ok) return listed.items;
  warn(`${listed.reason}: the current ${what} of ${userName} could not be compared with the backup`);
  return null;
}

/** A mutating step whose API may be missing where we run: true, or the reason it was skipped. */
async function optionalStep(
  aws: IamAccess,
  steps: StepRunner,
  name: string,
  call: () => Promise<unknown>,
  operation: string,
): Promise<true | string> {
  const outcome = await steps.step(name, async () => {
    try {
      await call();
      return true as const;
    } catch (err) {
      if (isUnsupportedOperation(err, aws.settings)) return `${operation} is not supported here (${errorName(err)})`;
      throw toCloudError(err, operation, aws.settings);
    }
  });
  return outcome ?? true;
}

/** CreateUser may ignore a boundary (emulators); say so rather than claim it. */
async function verifyBoundary(
  aws: IamAccess,
  userName: string,
  boundary: string,
  warn: (message: string) => void,
): Promise<void> {
  const user = await getUser(aws, userName);
  if (user && user.PermissionsBoundary?.PermissionsBoundaryArn !== boundary) {
    warn(`user ${userName} was recreated but does not show permissions boundary ${boundary}; check it`);
  }
}
