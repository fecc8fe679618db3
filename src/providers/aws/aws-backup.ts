/**
 * The IAM user backup (DESIGN §4.3): a full snapshot taken before the first change, enough to
 * rebuild the user, carried in the provider-neutral envelope and validated with its schema
 * when it is read back from the store. Secrets are never in it: AWS does not return them,
 * and restore says so.
 */
import {
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type LoginProfile,
  type User,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { CloudError, DormantError, EXIT } from '../../errors.js';
import type { BackupEnvelope } from '../../model/backup.js';
import { isoSeconds } from '../../model/time.js';
import type { UserReadings } from './aws-api-source.js';
import { parseUserArn } from './aws-credential-report.js';
import { isNoSuchEntity, toCloudError } from './aws-errors.js';
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
  listTags,
  readSshPublicKeys,
  tryList,
} from './aws-lists.js';

/** The version of `UserBackup`'s shape; a change to it gets a new number and a reader for the old one. */
export const USER_BACKUP_VERSION = 1 as const;

/**
 * A full snapshot of an IAM user taken before the first change (DESIGN §4.3), enough to
 * rebuild it. Secrets are never in it.
 */
export interface UserBackup {
  version: 1;
  takenAt: string;
  account: string;
  user: {
    name: string;
    arn: string;
    path: string;
    createdAt: string | null;
    permissionsBoundary: string | null;
    tags: { key: string; value: string }[];
  };
  groups: string[];
  attachedPolicies: { arn: string; name: string }[];
  /** Inline policies with their documents, decoded JSON text. */
  inlinePolicies: { name: string; document: string }[];
  loginProfile: { exists: boolean; createdAt: string | null; passwordResetRequired: boolean };
  accessKeys: { id: string; status: 'Active' | 'Inactive'; createdAt: string | null }[];
  mfaDevices: { serialNumber: string; enabledAt: string | null; virtual: boolean }[];
  /** Public keys: their bodies are public and can be uploaded again. */
  sshPublicKeys: { id: string; status: string; body: string | null }[];
  signingCertificates: { id: string; status: string; body: string | null }[];
  serviceSpecificCredentials: { id: string; serviceName: string; status: string }[];
  /** Lists that could not be read where this ran (e.g. an emulator without the API). */
  warnings: string[];
}

const timestamp = z.string().nullable();
const publicMaterial = z.object({ id: z.string(), status: z.string(), body: z.string().nullable() });

/** Checks a stored `UserBackup` when it is read back. */
export const userBackupSchema: z.ZodType<UserBackup> = z.object({
  version: z.literal(USER_BACKUP_VERSION),
  takenAt: z.string(),
  account: z.string(),
  user: z.object({
    name: z.string().min(1),
    arn: z.string().min(1),
    path: z.string(),
    createdAt: timestamp,
    permissionsBoundary: z.string().nullable(),
    tags: z.array(z.object({ key: z.string(), value: z.string() })),
  }),
  groups: z.array(z.string()),
  attachedPolicies: z.array(z.object({ arn: z.string(), name: z.string() })),
  inlinePolicies: z.array(z.object({ name: z.string(), document: z.string() })),
  loginProfile: z.object({ exists: z.boolean(), createdAt: timestamp, passwordResetRequired: z.boolean() }),
  accessKeys: z.array(z.object({ id: z.string(), status: z.enum(['Active', 'Inactive']), createdAt: timestamp })),
  mfaDevices: z.array(z.object({ serialNumber: z.string(), enabledAt: timestamp, virtual: z.boolean() })),
  sshPublicKeys: z.array(publicMaterial),
  signingCertificates: z.array(publicMaterial),
  serviceSpecificCredentials: z.array(z.object({ id: z.string(), serviceName: z.string(), status: z.string() })),
  warnings: z.array(z.string()),
});

function iso(date: Date | undefined): string | null {
  return date ? isoSeconds(date) : null;
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

async function readInlinePolicies(aws: IamAccess, userName: string): Promise<UserBackup['inlinePolicies']> {
  const names = await listInlinePolicyNames(aws.iam, userName);
  const out: UserBackup['inlinePolicies'] = [];
  for (const name of names) {
    try {
      const p = await aws.iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: name }));
      out.push({ name, document: decodePolicyDocument(p.PolicyDocument ?? '') });
    } catch (err) {
      throw toCloudError(err, `iam:GetUserPolicy ${name} for ${userName}`, aws.settings);
    }
  }
  return out;
}

function loginProfileOf(profile: LoginProfile | null | undefined): UserBackup['loginProfile'] {
  if (!profile) return { exists: false, createdAt: null, passwordResetRequired: false };
  return {
    exists: true,
    createdAt: iso(profile.CreateDate),
    passwordResetRequired: profile.PasswordResetRequired ?? false,
  };
}

async function readLoginProfile(aws: IamAccess, userName: string): Promise<UserBackup['loginProfile']> {
  try {
    const out = await aws.iam.send(new GetLoginProfileCommand({ UserName: userName }));
    return loginProfileOf(out.LoginProfile ?? { UserName: userName, CreateDate: undefined });
  } catch (err) {
    if (isNoSuchEntity(err)) return loginProfileOf(null);
    throw toCloudError(err, `iam:GetLoginProfile for ${userName}`, aws.settings);
  }
}

/** Read everything DESIGN §4.3 lists about a user; a list missing where we run becomes a warning. */
export async function takeUserBackup(
  aws: IamAccess,
  userName: string,
  /** What the item's re-check read a moment ago (GetUser with tags, keys, login profile): not asked again. */
  readings?: UserReadings,
): Promise<UserBackup> {
  const takenAt = isoSeconds(Date.now());
  let user: User | undefined = readings?.user;
  if (!user) {
    try {
      user = (await aws.iam.send(new GetUserCommand({ UserName: userName }))).User;
    } catch (err) {
      throw toCloudError(err, `iam:GetUser for ${userName}`, aws.settings);
    }
  }
  if (!user?.Arn) throw new CloudError(`iam:GetUser for ${userName} returned no user`, 'NoSuchEntity');
  const warnings: string[] = [];
  const section = async <T>(operation: string, what: string, fn: () => Promise<T[]>): Promise<T[]> => {
    const listed = await tryList(aws, operation, userName, fn);
    if (listed.ok) return listed.items;
    warnings.push(`${listed.reason}: the backup has no ${what}`);
    return [];
  };
  const { iam } = aws;

  const [tags, groups, attached, inline, loginProfile, keys, mfa, ssh, certs, ssc] = await Promise.all([
    // GetUser returns every tag of a user (at most 50); ListUserTags only when we have no GetUser answer.
    readings
      ? Promise.resolve(readings.user.Tags ?? [])
      : section('ListUserTags', 'tags', () => listTags(iam, userName)),
    section('ListGroupsForUser', 'group memberships', () => listGroups(iam, userName)),
    section('ListAttachedUserPolicies', 'attached policies', () => listAttachedPolicies(iam, userName)),
    section('ListUserPolicies', 'inline policies', () => readInlinePolicies(aws, userName)),
    readings ? Promise.resolve(loginProfileOf(readings.loginProfile)) : readLoginProfile(aws, userName),
    readings
      ? Promise.resolve(readings.keys)
      : section('ListAccessKeys', 'access keys', () => listAccessKeys(iam, userName)),
    section('ListMFADevices', 'MFA devices', () => listMfaDevices(iam, userName)),
    section('ListSSHPublicKeys', 'SSH public keys', () => readSshPublicKeys(aws, userName)),
    section('ListSigningCertificates', 'signing certificates', () => listSigningCertificates(iam, userName)),
    section('ListServiceSpecificCredentials', 'service-specific credentials', () =>
      listServiceSpecificCredentials(iam, userName),
    ),
  ]);

  return {
    version: USER_BACKUP_VERSION,
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

/** The envelope the engine and the store carry. */
export function userBackupEnvelope(backup: UserBackup): BackupEnvelope<UserBackup> {
  return {
    provider: 'aws',
    kind: 'user',
    version: USER_BACKUP_VERSION,
    takenAt: backup.takenAt,
    account: backup.account,
    identityId: backup.user.arn,
    identityName: backup.user.name,
    data: backup,
  };
}

function unreadable(envelope: BackupEnvelope<unknown>, problem: string): DormantError {
  const who = typeof envelope?.identityName === 'string' && envelope.identityName ? ` of ${envelope.identityName}` : '';
  return new DormantError(`cannot read the backup${who}: ${problem}`, EXIT.cloud);
}

/**
 * Check a stored envelope and its data against the schema. The error is one line naming the
 * first field that is wrong ("data.user.arn: expected string, received undefined").
 */
export function readUserBackup(envelope: BackupEnvelope<unknown>): BackupEnvelope<UserBackup> {
  if (typeof envelope !== 'object' || envelope === null) {
    throw unreadable(envelope, 'it is not a backup envelope');
  }
  if (envelope.provider !== 'aws') {
    throw unreadable(envelope, `provider is '${String(envelope.provider)}', not 'aws'`);
  }
  if (envelope.kind !== 'user') {
    throw unreadable(envelope, `kind is '${String(envelope.kind)}'; the AWS provider reads user backups only`);
  }
  if (envelope.version !== USER_BACKUP_VERSION) {
    throw unreadable(
      envelope,
      `version is ${String(envelope.version)}; this dormant reads AWS user backups of version ${USER_BACKUP_VERSION}`,
    );
  }
  const parsed = userBackupSchema.safeParse(envelope.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.reduce<string>(
      (at, key) => (typeof key === 'number' ? `${at}[${key}]` : `${at}.${String(key)}`),
      'data',
    );
    throw unreadable(envelope, `${field}: ${issue.message.split('\n')[0]}`);
  }
  return { ...envelope, provider: 'aws', kind: 'user', data: parsed.data };
}
