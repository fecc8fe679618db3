/**
 * AWS remediation (DESIGN §4): re-verify a user live, back it up completely, perform an
 * action as named idempotent steps, and rebuild a user from its backup.
 *
 * Every mutating call runs inside `steps.step(name, fn)` with a stable, deterministic name, so
 * the engine can journal it and resume after a crash. Read-only list calls run outside steps.
 * NoSuchEntity on a delete, detach or remove means the work is already done; EntityAlreadyExists
 * on a create, attach or add means the same.
 */
import {
  AddUserToGroupCommand,
  AttachUserPolicyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
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
  GetLoginProfileCommand,
  GetSSHPublicKeyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListServiceSpecificCredentialsCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
  UpdateSigningCertificateCommand,
  UpdateSSHPublicKeyCommand,
  UploadSigningCertificateCommand,
  UploadSSHPublicKeyCommand,
  paginateListAccessKeys,
  paginateListAttachedUserPolicies,
  paginateListGroupsForUser,
  paginateListMFADevices,
  paginateListSigningCertificates,
  paginateListSSHPublicKeys,
  paginateListUserPolicies,
  paginateListUserTags,
  type AccessKeyMetadata,
  type AttachedPolicy,
  type Group,
  type MFADevice,
  type ServiceSpecificCredentialMetadata,
  type SigningCertificate,
  type SSHPublicKeyMetadata,
  type Tag,
  type User,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CloudError } from '../../errors.js';
import type { RestoreReport, UserBackup } from '../../model/backup.js';
import type { ActionName } from '../../model/finding.js';
import type { Caller, Identity } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import type { ActionSettings, ActionTarget, RemediationProvider, RestoreOptions, StepRunner } from '../provider.js';
import { readIdentity } from './aws-api-source.js';
import {
  type AwsClients,
  type AwsSettings,
  errorName,
  isAccessDenied,
  isNoSuchEntity,
  toCloudError,
} from './aws-client.js';
import { parseUserArn } from './aws-credential-report.js';

/** Error names that mean "this API does not exist where we run" (an emulator, an older partition). */
const UNSUPPORTED_NAMES = new Set([
  'NotImplemented',
  'NotImplementedException',
  'NotImplementedError',
  'InvalidAction',
  'InvalidActionException',
  'UnknownOperation',
  'UnknownOperationException',
  'UnsupportedOperation',
  'UnsupportedOperationException',
  'OperationNotSupported',
  'OperationNotSupportedException',
]);

interface SdkErrorLike {
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $responseBodyText?: string;
}

function customEndpoint(settings: AwsSettings | undefined): boolean {
  return Boolean(settings?.endpointUrl || process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_IAM);
}

/**
 * True when a call failed because the API is not supported where it runs. Detected broadly
 * (named errors, HTTP 501) but never for AccessDenied. Emulators such as moto answer an
 * unimplemented action with a bare HTTP 500 page that is not an AWS error document at all;
 * that only counts against a custom endpoint, never against AWS itself.
 */
export function isUnsupportedOperation(err: unknown, settings?: AwsSettings): boolean {
  if (err instanceof CloudError) return false;
  if (isAccessDenied(err)) return false;
  const name = errorName(err);
  if (UNSUPPORTED_NAMES.has(name)) return true;
  const e = err as SdkErrorLike;
  const status = e?.$metadata?.httpStatusCode;
  if (status === 501) return true;
  const message = e?.message ?? '';
  if (/\bnot (?:been )?implemented\b|\bunknown operation\b|\bnot supported\b/i.test(message) && !isNoSuchEntity(err)) {
    return true;
  }
  if (status !== undefined && status >= 500 && customEndpoint(settings)) {
    const body = e?.$responseBodyText ?? '';
    const notAwsError = !/<ErrorResponse|<Error>|"__type"|"code"/i.test(body);
    if (notAwsError && (name === 'Error' || /Deserialization error/i.test(message))) return true;
  }
  return false;
}

function isEntityAlreadyExists(err: unknown): boolean {
  const n = errorName(err);
  return n === 'EntityAlreadyExists' || n === 'EntityAlreadyExistsException';
}

function isDeleteConflict(err: unknown): boolean {
  const n = errorName(err);
  return n === 'DeleteConflict' || n === 'DeleteConflictException';
}

function isDuplicate(err: unknown): boolean {
  const n = errorName(err);
  return (
    n === 'DuplicateSSHPublicKey' ||
    n === 'DuplicateSSHPublicKeyException' ||
    n === 'DuplicateCertificate' ||
    n === 'DuplicateCertificateException'
  );
}

function firstLine(err: unknown): string {
  return ((err as { message?: string })?.message ?? String(err)).split('\n')[0]!.trim();
}

/** AWS returns policy documents URL-encoded (RFC 3986); emulators sometimes do not. */
export function decodePolicyDocument(document: string): string {
  if (document.trimStart().startsWith('{')) return document;
  try {
    return decodeURIComponent(document);
  } catch {
    return document;
  }
}

function iso(date: Date | undefined): string | null {
  return date ? isoSeconds(date) : null;
}

/** An MFA serial that is an ARN of a virtual device (hardware serials and FIDO keys are not). */
function isVirtualMfa(serial: string): boolean {
  return serial.startsWith('arn:') && serial.includes(':mfa/');
}

function normalizeBody(body: string): string {
  return body.replace(/\s+/g, ' ').trim();
}

async function collect<P, T>(pages: AsyncIterable<P>, pick: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(pick(page) ?? []));
  return out;
}

/** A list call's outcome: the items, or the fact that the API is missing where we run. */
type Listed<T> = { ok: true; items: T[] } | { ok: false; reason: string };

export class AwsRemediation implements RemediationProvider {
  constructor(readonly aws: AwsClients) {}

  private get iam() {
    return this.aws.iam;
  }

  private get settings() {
    return this.aws.settings;
  }

  async caller(): Promise<Caller> {
    try {
      const out = await this.aws.sts.send(new GetCallerIdentityCommand({}));
      return { arn: out.Arn ?? '', account: out.Account ?? '' };
    } catch (err) {
      throw toCloudError(err, 'sts:GetCallerIdentity', this.settings);
    }
  }

  /** GetUser, or null when the user does not exist. */
  private async getUser(userName: string): Promise<User | null> {
    try {
      const out = await this.iam.send(new GetUserCommand({ UserName: userName }));
      return out.User ?? null;
    } catch (err) {
      if (isNoSuchEntity(err)) return null;
      throw toCloudError(err, `iam:GetUser for ${userName}`, this.settings);
    }
  }

  async reread(userName: string): Promise<Identity | null> {
    const user = await this.getUser(userName);
    if (!user) return null;
    try {
      const [identity, tags] = await Promise.all([
        readIdentity(this.aws, user),
        collect(paginateListUserTags({ client: this.iam }, { UserName: userName }), (p) => p.Tags).catch(
          (err: unknown) => {
            throw toCloudError(err, `iam:ListUserTags for ${userName}`, this.settings);
          },
        ),
      ]);
      identity.tags = Object.fromEntries(tags.filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));
      identity.lastSignInAt = iso(user.PasswordLastUsed);
      return identity;
    } catch (err) {
      // Deleted between GetUser and the credential reads: it no longer exists.
      if (isNoSuchEntity(err) || (err instanceof CloudError && /^NoSuchEntity/.test(err.code))) return null;
      throw err;
    }
  }

  // ------------------------------------------------------------------ lists (read-only)

  private listTags(userName: string): Promise<Tag[]> {
    return collect(paginateListUserTags({ client: this.iam }, { UserName: userName }), (p) => p.Tags);
  }

  private listGroups(userName: string): Promise<Group[]> {
    return collect(paginateListGroupsForUser({ client: this.iam }, { UserName: userName }), (p) => p.Groups);
  }

  private listAttachedPolicies(userName: string): Promise<AttachedPolicy[]> {
    return collect(
      paginateListAttachedUserPolicies({ client: this.iam }, { UserName: userName }),
      (p) => p.AttachedPolicies,
    );
  }

  private listInlinePolicyNames(userName: string): Promise<string[]> {
    return collect(paginateListUserPolicies({ client: this.iam }, { UserName: userName }), (p) => p.PolicyNames);
  }

  private listAccessKeys(userName: string): Promise<AccessKeyMetadata[]> {
    return collect(paginateListAccessKeys({ client: this.iam }, { UserName: userName }), (p) => p.AccessKeyMetadata);
  }

  private listMfaDevices(userName: string): Promise<MFADevice[]> {
    return collect(paginateListMFADevices({ client: this.iam }, { UserName: userName }), (p) => p.MFADevices);
  }

  private listSshPublicKeys(userName: string): Promise<SSHPublicKeyMetadata[]> {
    return collect(paginateListSSHPublicKeys({ client: this.iam }, { UserName: userName }), (p) => p.SSHPublicKeys);
  }

  private listSigningCertificates(userName: string): Promise<SigningCertificate[]> {
    return collect(
      paginateListSigningCertificates({ client: this.iam }, { UserName: userName }),
      (p) => p.Certificates,
    );
  }

  /** No SDK paginator exists for this one: follow IsTruncated/Marker by hand. */
  private async listServiceSpecificCredentials(userName: string): Promise<ServiceSpecificCredentialMetadata[]> {
    const out: ServiceSpecificCredentialMetadata[] = [];
    let marker: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await this.iam.send(
        new ListServiceSpecificCredentialsCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }),
      );
      out.push(...(page.ServiceSpecificCredentials ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
      if (marker !== undefined) {
        if (seen.has(marker)) break; // a repeated marker would loop forever
        seen.add(marker);
      }
    } while (marker);
    return out;
  }

  private async sshPublicKeyBody(userName: string, id: string): Promise<string | null> {
    const out = await this.iam.send(
      new GetSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: id, Encoding: 'SSH' }),
    );
    return out.SSHPublicKey?.SSHPublicKeyBody ?? null;
  }

  /** Run a list; an API missing where we run becomes `{ok:false}`; anything else throws. */
  private async tryList<T>(operation: string, userName: string, fn: () => Promise<T[]>): Promise<Listed<T>> {
    try {
      return { ok: true, items: await fn() };
    } catch (err) {
      if (isUnsupportedOperation(err, this.settings)) {
        const status = (err as SdkErrorLike)?.$metadata?.httpStatusCode;
        return {
          ok: false,
          reason: `iam:${operation} is not supported here (${errorName(err)}${status ? `, HTTP ${status}` : ''})`,
        };
      }
      throw toCloudError(err, `iam:${operation} for ${userName}`, this.settings);
    }
  }

  // ------------------------------------------------------------------ backup

  async backup(userName: string): Promise<UserBackup> {
    const takenAt = isoSeconds(Date.now());
    let user: User | undefined;
    try {
      user = (await this.iam.send(new GetUserCommand({ UserName: userName }))).User;
    } catch (err) {
      throw toCloudError(err, `iam:GetUser for ${userName}`, this.settings);
    }
    if (!user?.Arn) throw new CloudError(`iam:GetUser for ${userName} returned no user`, 'NoSuchEntity');
    const warnings: string[] = [];
    const section = async <T>(operation: string, what: string, fn: () => Promise<T[]>): Promise<T[]> => {
      const listed = await this.tryList(operation, userName, fn);
      if (listed.ok) return listed.items;
      warnings.push(`${listed.reason}: the backup has no ${what}`);
      return [];
    };

    const [tags, groups, attached, inline, loginProfile, keys, mfa, ssh, certs, ssc] = await Promise.all([
      section('ListUserTags', 'tags', () => this.listTags(userName)),
      section('ListGroupsForUser', 'group memberships', () => this.listGroups(userName)),
      section('ListAttachedUserPolicies', 'attached policies', () => this.listAttachedPolicies(userName)),
      section('ListUserPolicies', 'inline policies', () => this.readInlinePolicies(userName)),
      this.readLoginProfile(userName),
      section('ListAccessKeys', 'access keys', () => this.listAccessKeys(userName)),
      section('ListMFADevices', 'MFA devices', () => this.listMfaDevices(userName)),
      section('ListSSHPublicKeys', 'SSH public keys', () => this.readSshPublicKeys(userName)),
      section('ListSigningCertificates', 'signing certificates', () => this.listSigningCertificates(userName)),
      section('ListServiceSpecificCredentials', 'service-specific credentials', () =>
        this.listServiceSpecificCredentials(userName),
      ),
    ]);

    return {
      version: 1,
      takenAt,
      account: parseUserArn(user.Arn)?.account ?? '',
      user: {
        name: user.UserName ?? userName,
        arn: user.Arn,
        path: user.Path ?? '/',
        createdAt: iso(user.CreateDate),
        permissionsBoundary: user.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
        tags: tags.filter((t) => t.Key !== undefined).map((t) => ({ key: t.Key!, value: t.Value ?? '' })),
      },
      groups: groups.map((g) => g.GroupName).filter((n): n is string => Boolean(n)),
      attachedPolicies: attached
        .filter((p) => p.PolicyArn)
        .map((p) => ({ arn: p.PolicyArn!, name: p.PolicyName ?? p.PolicyArn!.split('/').pop()! })),
      inlinePolicies: inline,
      loginProfile,
      accessKeys: keys
        .filter((k) => k.AccessKeyId)
        .map((k) => ({
          id: k.AccessKeyId!,
          status: k.Status === 'Active' ? ('Active' as const) : ('Inactive' as const),
          createdAt: iso(k.CreateDate),
        })),
      mfaDevices: mfa
        .filter((d) => d.SerialNumber)
        .map((d) => ({
          serialNumber: d.SerialNumber!,
          enabledAt: iso(d.EnableDate),
          virtual: isVirtualMfa(d.SerialNumber!),
        })),
      sshPublicKeys: ssh,
      signingCertificates: certs
        .filter((c) => c.CertificateId)
        .map((c) => ({ id: c.CertificateId!, status: c.Status ?? 'Active', body: c.CertificateBody ?? null })),
      serviceSpecificCredentials: ssc
        .filter((c) => c.ServiceSpecificCredentialId)
        .map((c) => ({ id: c.ServiceSpecificCredentialId!, serviceName: c.ServiceName ?? '', status: c.Status ?? '' })),
      warnings,
    };
  }

  private async readInlinePolicies(userName: string): Promise<{ name: string; document: string }[]> {
    const names = await this.listInlinePolicyNames(userName);
    const out: { name: string; document: string }[] = [];
    for (const name of names) {
      try {
        const p = await this.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name }));
        out.push({ name, document: decodePolicyDocument(p.PolicyDocument ?? '') });
      } catch (err) {
        throw toCloudError(err, `iam:GetUserPolicy ${name} for ${userName}`, this.settings);
      }
    }
    return out;
  }

  private async readSshPublicKeys(userName: string): Promise<UserBackup['sshPublicKeys']> {
    const keys = await this.listSshPublicKeys(userName);
    const out: UserBackup['sshPublicKeys'] = [];
    for (const k of keys) {
      if (!k.SSHPublicKeyId) continue;
      let body: string | null;
      try {
        body = await this.sshPublicKeyBody(userName, k.SSHPublicKeyId);
      } catch (err) {
        throw toCloudError(err, `iam:GetSSHPublicKey ${k.SSHPublicKeyId} for ${userName}`, this.settings);
      }
      out.push({ id: k.SSHPublicKeyId, status: k.Status ?? 'Active', body });
    }
    return out;
  }

  private async readLoginProfile(userName: string): Promise<UserBackup['loginProfile']> {
    try {
      const out = await this.iam.send(new GetLoginProfileCommand({ UserName: userName }));
      return {
        exists: true,
        createdAt: iso(out.LoginProfile?.CreateDate),
        passwordResetRequired: out.LoginProfile?.PasswordResetRequired ?? false,
      };
    } catch (err) {
      if (isNoSuchEntity(err)) return { exists: false, createdAt: null, passwordResetRequired: false };
      throw toCloudError(err, `iam:GetLoginProfile for ${userName}`, this.settings);
    }
  }

  // ------------------------------------------------------------------ perform

  async perform(action: ActionName, target: ActionTarget, settings: ActionSettings, steps: StepRunner): Promise<void> {
    switch (action) {
      case 'notify':
        return;
      case 'deactivate-key': {
        if (!target.credentialId) {
          throw new CloudError(
            `deactivate-key for ${target.userName} names no access key (credentialId is null); rescan so the key id is known`,
            'InvalidTarget',
          );
        }
        await this.deactivateKey(target.userName, target.credentialId, steps);
        return;
      }
      case 'remove-password':
        await this.deleteLoginProfile(target.userName, steps);
        return;
      case 'disable-user':
        await this.disableUser(target.userName, settings, steps);
        return;
      case 'delete-user':
        await this.deleteUser(target.userName, steps);
        return;
      default: {
        const never: never = action;
        throw new Error(`unknown action ${String(never)}`);
      }
    }
  }

  /**
   * Run one mutating call as a step: `done` errors (NoSuchEntity on a delete, EntityAlreadyExists
   * on a create) mean it is already done; anything else becomes a one-line CloudError.
   */
  private step(
    steps: StepRunner,
    name: string,
    operation: string,
    call: () => Promise<unknown>,
    done: (err: unknown) => boolean = isNoSuchEntity,
  ): Promise<void> {
    return steps.step(name, async () => {
      try {
        await call();
      } catch (err) {
        if (done(err)) return;
        throw toCloudError(err, operation, this.settings);
      }
    });
  }

  private async deactivateKey(userName: string, keyId: string, steps: StepRunner): Promise<void> {
    let missing = false;
    await steps.step(`deactivate-key:${keyId}`, async () => {
      try {
        await this.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: keyId, Status: 'Inactive' }));
      } catch (err) {
        // A key that no longer exists cannot be used: the aim is met.
        if (isNoSuchEntity(err)) {
          missing = true;
          return;
        }
        throw toCloudError(err, `iam:UpdateAccessKey ${keyId} of ${userName}`, this.settings);
      }
    });
    if (missing) steps.warn(`access key ${keyId} of ${userName} no longer exists; nothing to deactivate`);
  }

  private deleteLoginProfile(userName: string, steps: StepRunner): Promise<void> {
    return this.step(steps, 'delete-login-profile', `iam:DeleteLoginProfile for ${userName}`, () =>
      this.iam.send(new DeleteLoginProfileCommand({ UserName: userName })),
    );
  }

  private async disableUser(userName: string, settings: ActionSettings, steps: StepRunner): Promise<void> {
    if (settings.disableUser.includes('quarantine') && !settings.quarantinePolicyArn) {
      throw new CloudError(
        `disable-user for ${userName} is set to quarantine, but remediation.quarantinePolicyArn is not set; set it to a deny-all managed policy ARN or drop 'quarantine' from remediation.disableUser`,
        'InvalidSettings',
      );
    }
    for (const how of settings.disableUser) {
      if (how === 'deactivate-keys') {
        const keys = await this.listForAction('ListAccessKeys', userName, 'access keys', steps, () =>
          this.listAccessKeys(userName),
        );
        for (const k of keys) {
          if (k.AccessKeyId && k.Status === 'Active') await this.deactivateKey(userName, k.AccessKeyId, steps);
        }
      } else if (how === 'remove-password') {
        await this.deleteLoginProfile(userName, steps);
      } else if (how === 'quarantine') {
        const arn = settings.quarantinePolicyArn!;
        await this.step(
          steps,
          `attach-quarantine-policy:${arn}`,
          `iam:AttachUserPolicy ${arn} to ${userName}`,
          () => this.iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: arn })),
          isEntityAlreadyExists,
        );
      }
    }
  }

  /**
   * A list before an action: the user being gone gives an empty list (the delete steps and
   * DeleteUser then find nothing to do); an API missing where we run gives a warning and an
   * empty list, and DeleteUser is the judge.
   */
  private async listForAction<T>(
    operation: string,
    userName: string,
    what: string,
    steps: StepRunner,
    fn: () => Promise<T[]>,
  ): Promise<T[]> {
    try {
      const listed = await this.tryList(operation, userName, fn);
      if (listed.ok) return listed.items;
      steps.warn(
        `${listed.reason}: ${what} of ${userName} could not be listed; carrying on and letting DeleteUser judge`,
      );
      return [];
    } catch (err) {
      if (err instanceof CloudError && /^NoSuchEntity/.test(err.code)) return [];
      throw err;
    }
  }

  /** DESIGN §4.5: remove everything DeleteUser would refuse over, in order, then DeleteUser. */
  private async deleteUser(userName: string, steps: StepRunner): Promise<void> {
    const list = <T>(operation: string, what: string, fn: () => Promise<T[]>) =>
      this.listForAction(operation, userName, what, steps, fn);

    await this.deleteLoginProfile(userName, steps);

    for (const k of await list('ListAccessKeys', 'access keys', () => this.listAccessKeys(userName))) {
      const id = k.AccessKeyId;
      if (!id) continue;
      await this.step(steps, `delete-access-key:${id}`, `iam:DeleteAccessKey ${id} of ${userName}`, () =>
        this.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: id })),
      );
    }

    for (const c of await list('ListSigningCertificates', 'signing certificates', () =>
      this.listSigningCertificates(userName),
    )) {
      const id = c.CertificateId;
      if (!id) continue;
      await this.step(
        steps,
        `delete-signing-certificate:${id}`,
        `iam:DeleteSigningCertificate ${id} of ${userName}`,
        () => this.iam.send(new DeleteSigningCertificateCommand({ UserName: userName, CertificateId: id })),
      );
    }

    for (const k of await list('ListSSHPublicKeys', 'SSH public keys', () => this.listSshPublicKeys(userName))) {
      const id = k.SSHPublicKeyId;
      if (!id) continue;
      await this.step(steps, `delete-ssh-public-key:${id}`, `iam:DeleteSSHPublicKey ${id} of ${userName}`, () =>
        this.iam.send(new DeleteSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: id })),
      );
    }

    for (const c of await list('ListServiceSpecificCredentials', 'service-specific credentials', () =>
      this.listServiceSpecificCredentials(userName),
    )) {
      const id = c.ServiceSpecificCredentialId;
      if (!id) continue;
      await this.step(
        steps,
        `delete-service-specific-credential:${id}`,
        `iam:DeleteServiceSpecificCredential ${id} of ${userName}`,
        () =>
          this.iam.send(
            new DeleteServiceSpecificCredentialCommand({ UserName: userName, ServiceSpecificCredentialId: id }),
          ),
      );
    }

    for (const d of await list('ListMFADevices', 'MFA devices', () => this.listMfaDevices(userName))) {
      const serial = d.SerialNumber;
      if (!serial) continue;
      await this.step(
        steps,
        `deactivate-mfa-device:${serial}`,
        `iam:DeactivateMFADevice ${serial} of ${userName}`,
        () => this.iam.send(new DeactivateMFADeviceCommand({ UserName: userName, SerialNumber: serial })),
      );
      if (isVirtualMfa(serial)) {
        await this.step(steps, `delete-virtual-mfa-device:${serial}`, `iam:DeleteVirtualMFADevice ${serial}`, () =>
          this.iam.send(new DeleteVirtualMFADeviceCommand({ SerialNumber: serial })),
        );
      }
    }

    for (const name of await list('ListUserPolicies', 'inline policies', () => this.listInlinePolicyNames(userName))) {
      await this.step(steps, `delete-inline-policy:${name}`, `iam:DeleteUserPolicy ${name} of ${userName}`, () =>
        this.iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: name })),
      );
    }

    for (const p of await list('ListAttachedUserPolicies', 'attached policies', () =>
      this.listAttachedPolicies(userName),
    )) {
      const arn = p.PolicyArn;
      if (!arn) continue;
      await this.step(steps, `detach-policy:${arn}`, `iam:DetachUserPolicy ${arn} from ${userName}`, () =>
        this.iam.send(new DetachUserPolicyCommand({ UserName: userName, PolicyArn: arn })),
      );
    }

    for (const g of await list('ListGroupsForUser', 'group memberships', () => this.listGroups(userName))) {
      const group = g.GroupName;
      if (!group) continue;
      await this.step(steps, `remove-from-group:${group}`, `iam:RemoveUserFromGroup ${group} for ${userName}`, () =>
        this.iam.send(new RemoveUserFromGroupCommand({ UserName: userName, GroupName: group })),
      );
    }

    await steps.step('delete-user', async () => {
      try {
        await this.iam.send(new DeleteUserCommand({ UserName: userName }));
      } catch (err) {
        if (isNoSuchEntity(err)) return;
        if (isDeleteConflict(err)) {
          throw new CloudError(
            `AWS refused to delete user ${userName} (DeleteConflict): ${firstLine(err)}`,
            'DeleteConflict',
            { cause: err },
          );
        }
        throw toCloudError(err, `iam:DeleteUser ${userName}`, this.settings);
      }
    });
  }

  // ------------------------------------------------------------------ restore

  async restore(backup: UserBackup, options: RestoreOptions, steps: StepRunner): Promise<RestoreReport> {
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
    const existing = await this.getUser(userName);
    let recreated = false;
    if (!existing) {
      await this.step(
        steps,
        'create-user',
        `iam:CreateUser ${userName}`,
        () =>
          this.iam.send(
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
      if (boundary) await this.verifyBoundary(userName, boundary, warn);
    } else {
      if (existing.Path && existing.Path !== backup.user.path) {
        warn(
          `user ${userName} now has path ${existing.Path}, not ${backup.user.path} as in the backup; the path was left as it is`,
        );
      }
      if (tags.length > 0) {
        await this.step(steps, 'tag-user', `iam:TagUser ${userName}`, () =>
          this.iam.send(new TagUserCommand({ UserName: userName, Tags: tags })),
        );
        restored.push(`The ${tags.length} tag(s) of user ${userName} were re-applied.`);
      }
      if (boundary) {
        const applied = await this.optionalStep(
          steps,
          'put-permissions-boundary',
          () =>
            this.iam.send(new PutUserPermissionsBoundaryCommand({ UserName: userName, PermissionsBoundary: boundary })),
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
          await this.iam.send(new AddUserToGroupCommand({ UserName: userName, GroupName: group }));
          return 'added' as const;
        } catch (err) {
          if (isEntityAlreadyExists(err)) return 'added' as const;
          if (isNoSuchEntity(err)) return 'missing' as const;
          throw toCloudError(err, `iam:AddUserToGroup ${group} for ${userName}`, this.settings);
        }
      });
      if (outcome === 'missing') warn(`group ${group} no longer exists; ${userName} was not added back to it`);
      else restored.push(`Added ${userName} back to group ${group}.`);
    }

    // Managed policies.
    for (const policy of backup.attachedPolicies) {
      const outcome = await steps.step(`attach-policy:${policy.arn}`, async () => {
        try {
          await this.iam.send(new AttachUserPolicyCommand({ UserName: userName, PolicyArn: policy.arn }));
          return 'attached' as const;
        } catch (err) {
          if (isEntityAlreadyExists(err)) return 'attached' as const;
          if (isNoSuchEntity(err)) return 'missing' as const;
          throw toCloudError(err, `iam:AttachUserPolicy ${policy.arn} to ${userName}`, this.settings);
        }
      });
      if (outcome === 'missing') warn(`managed policy ${policy.arn} no longer exists; it was not attached again`);
      else restored.push(`Attached managed policy ${policy.name} (${policy.arn}).`);
    }

    // Inline policies, with their exact documents.
    for (const policy of backup.inlinePolicies) {
      await this.step(
        steps,
        `put-inline-policy:${policy.name}`,
        `iam:PutUserPolicy ${policy.name} for ${userName}`,
        () =>
          this.iam.send(
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
            await this.iam.send(
              new CreateLoginProfileCommand({ UserName: userName, Password: password, PasswordResetRequired: true }),
            );
            return 'created' as const;
          } catch (err) {
            if (isEntityAlreadyExists(err)) return 'exists' as const;
            throw toCloudError(err, `iam:CreateLoginProfile for ${userName}`, this.settings);
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
      } else if (!(await this.hasLoginProfile(userName))) {
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
      : await this.listForRestore('ListAccessKeys', userName, 'access keys', warn, () => this.listAccessKeys(userName));
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
        await this.step(
          steps,
          `reactivate-key:${key.id}`,
          `iam:UpdateAccessKey ${key.id} of ${userName}`,
          () =>
            this.iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key.id, Status: 'Active' })),
          () => false,
        );
        restored.push(`Access key ${key.id} was reactivated.`);
      }
    }

    // SSH public keys: the bodies are public and can be uploaded again.
    if (backup.sshPublicKeys.length > 0) {
      const live = recreated
        ? []
        : await this.listForRestore('ListSSHPublicKeys', userName, 'SSH public keys', warn, () =>
            this.readSshPublicKeys(userName),
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
            const out = await this.iam.send(
              new UploadSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyBody: body }),
            );
            id = out.SSHPublicKey?.SSHPublicKeyId;
          } catch (err) {
            if (isDuplicate(err)) return null;
            throw toCloudError(err, `iam:UploadSSHPublicKey for ${userName}`, this.settings);
          }
          if (id && key.status === 'Inactive') {
            try {
              await this.iam.send(
                new UpdateSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: id, Status: 'Inactive' }),
              );
            } catch (err) {
              throw toCloudError(err, `iam:UpdateSSHPublicKey ${id} of ${userName}`, this.settings);
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
        : await this.listForRestore('ListSigningCertificates', userName, 'signing certificates', warn, () =>
            this.listSigningCertificates(userName),
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
            const out = await this.iam.send(
              new UploadSigningCertificateCommand({ UserName: userName, CertificateBody: body }),
            );
            id = out.Certificate?.CertificateId;
          } catch (err) {
            if (isDuplicate(err)) return null;
            throw toCloudError(err, `iam:UploadSigningCertificate for ${userName}`, this.settings);
          }
          if (id && cert.status === 'Inactive') {
            try {
              await this.iam.send(
                new UpdateSigningCertificateCommand({ UserName: userName, CertificateId: id, Status: 'Inactive' }),
              );
            } catch (err) {
              throw toCloudError(err, `iam:UpdateSigningCertificate ${id} of ${userName}`, this.settings);
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
        : await this.listForRestore('ListMFADevices', userName, 'MFA devices', warn, () =>
            this.listMfaDevices(userName),
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
        : await this.listForRestore(
            'ListServiceSpecificCredentials',
            userName,
            'service-specific credentials',
            warn,
            () => this.listServiceSpecificCredentials(userName),
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

  private async hasLoginProfile(userName: string): Promise<boolean> {
    try {
      await this.iam.send(new GetLoginProfileCommand({ UserName: userName }));
      return true;
    } catch (err) {
      if (isNoSuchEntity(err)) return false;
      throw toCloudError(err, `iam:GetLoginProfile for ${userName}`, this.settings);
    }
  }

  /** A list during restore; null (with a warning) when the API is missing where we run. */
  private async listForRestore<T>(
    operation: string,
    userName: string,
    what: string,
    warn: (message: string) => void,
    fn: () => Promise<T[]>,
  ): Promise<T[] | null> {
    const listed = await this.tryList(operation, userName, fn);
    if (listed.ok) return listed.items;
    warn(`${listed.reason}: the current ${what} of ${userName} could not be compared with the backup`);
    return null;
  }

  /** A mutating step whose API may be missing where we run: true, or the reason it was skipped. */
  private async optionalStep(
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
        if (isUnsupportedOperation(err, this.settings)) return `${operation} is not supported here (${errorName(err)})`;
        throw toCloudError(err, operation, this.settings);
      }
    });
    return outcome ?? true;
  }

  /** CreateUser may ignore a boundary (emulators); say so rather than claim it. */
  private async verifyBoundary(userName: string, boundary: string, warn: (message: string) => void): Promise<void> {
    const user = await this.getUser(userName);
    if (user && user.PermissionsBoundary?.PermissionsBoundaryArn !== boundary) {
      warn(`user ${userName} was recreated but does not show permissions boundary ${boundary}; check it`);
    }
  }
}
