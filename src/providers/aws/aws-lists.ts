/**
 * Read-only IAM reads about one user, paged to the end: the lists that backup, the delete and
 * restore walk (tags, groups, policies, keys, MFA devices, SSH keys, certificates,
 * service-specific credentials), and the single reads that go with them.
 */
import {
  GetSSHPublicKeyCommand,
  GetUserCommand,
  ListServiceSpecificCredentialsCommand,
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
  type IAMClient,
  type MFADevice,
  type ServiceSpecificCredentialMetadata,
  type SigningCertificate,
  type SSHPublicKeyMetadata,
  type Tag,
  type User,
} from '@aws-sdk/client-iam';
import type { AwsClients } from './aws-client.js';
import { isNoSuchEntity, isUnsupportedOperation, toCloudError, unsupportedReason } from './aws-errors.js';

/** What the reads need: the IAM client and the settings that shape its errors. */
export type IamAccess = Pick<AwsClients, 'iam' | 'settings'>;

async function collect<P, T>(pages: AsyncIterable<P>, pick: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(pick(page) ?? []));
  return out;
}

/** GetUser, or null when the user does not exist. */
export async function getUser(aws: IamAccess, userName: string): Promise<User | null> {
  try {
    const out = await aws.iam.send(new GetUserCommand({ UserName: userName }));
    return out.User ?? null;
  } catch (err) {
    if (isNoSuchEntity(err)) return null;
    throw toCloudError(err, `iam:GetUser for ${userName}`, aws.settings);
  }
}

export function listTags(iam: IAMClient, userName: string): Promise<Tag[]> {
  return collect(paginateListUserTags({ client: iam }, { UserName: userName }), (p) => p.Tags);
}

export function listGroups(iam: IAMClient, userName: string): Promise<Group[]> {
  return collect(paginateListGroupsForUser({ client: iam }, { UserName: userName }), (p) => p.Groups);
}

export function listAttachedPolicies(iam: IAMClient, userName: string): Promise<AttachedPolicy[]> {
  return collect(paginateListAttachedUserPolicies({ client: iam }, { UserName: userName }), (p) => p.AttachedPolicies);
}

export function listInlinePolicyNames(iam: IAMClient, userName: string): Promise<string[]> {
  return collect(paginateListUserPolicies({ client: iam }, { UserName: userName }), (p) => p.PolicyNames);
}

export function listAccessKeys(iam: IAMClient, userName: string): Promise<AccessKeyMetadata[]> {
  return collect(paginateListAccessKeys({ client: iam }, { UserName: userName }), (p) => p.AccessKeyMetadata);
}

export function listMfaDevices(iam: IAMClient, userName: string): Promise<MFADevice[]> {
  return collect(paginateListMFADevices({ client: iam }, { UserName: userName }), (p) => p.MFADevices);
}

export function listSshPublicKeys(iam: IAMClient, userName: string): Promise<SSHPublicKeyMetadata[]> {
  return collect(paginateListSSHPublicKeys({ client: iam }, { UserName: userName }), (p) => p.SSHPublicKeys);
}

export function listSigningCertificates(iam: IAMClient, userName: string): Promise<SigningCertificate[]> {
  return collect(paginateListSigningCertificates({ client: iam }, { UserName: userName }), (p) => p.Certificates);
}

/** No SDK paginator exists for this one: follow IsTruncated/Marker by hand. */
export async function listServiceSpecificCredentials(
  iam: IAMClient,
  userName: string,
): Promise<ServiceSpecificCredentialMetadata[]> {
  const out: ServiceSpecificCredentialMetadata[] = [];
  let marker: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await iam.send(
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

/** A user's SSH public keys with their bodies (public material: restore can upload them again). */
export async function readSshPublicKeys(
  aws: IamAccess,
  userName: string,
): Promise<{ id: string; status: string; body: string | null }[]> {
  const keys = await listSshPublicKeys(aws.iam, userName);
  const out: { id: string; status: string; body: string | null }[] = [];
  for (const k of keys) {
    if (!k.SSHPublicKeyId) continue;
    let body: string | null;
    try {
      const key = await aws.iam.send(
        new GetSSHPublicKeyCommand({ UserName: userName, SSHPublicKeyId: k.SSHPublicKeyId, Encoding: 'SSH' }),
      );
      body = key.SSHPublicKey?.SSHPublicKeyBody ?? null;
    } catch (err) {
      throw toCloudError(err, `iam:GetSSHPublicKey ${k.SSHPublicKeyId} for ${userName}`, aws.settings);
    }
    out.push({ id: k.SSHPublicKeyId, status: k.Status ?? 'Active', body });
  }
  return out;
}

/** An MFA serial that is an ARN of a virtual device (hardware serials and FIDO keys are not). */
export function isVirtualMfa(serial: string): boolean {
  return serial.startsWith('arn:') && serial.includes(':mfa/');
}

/** A list call's outcome: the items, or the fact that the API is missing where we run. */
export type Listed<T> = { ok: true; items: T[] } | { ok: false; reason: string };

/** Run a list; an API missing where we run becomes `{ok:false}`; anything else throws. */
export async function tryList<T>(
  aws: IamAccess,
  operation: string,
  userName: string,
  fn: () => Promise<T[]>,
): Promise<Listed<T>> {
  try {
    return { ok: true, items: await fn() };
  } catch (err) {
    if (isUnsupportedOperation(err, aws.settings))
      return { ok: false, reason: unsupportedReason(`iam:${operation}`, err) };
    throw toCloudError(err, `iam:${operation} for ${userName}`, aws.settings);
  }
}
