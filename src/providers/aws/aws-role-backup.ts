/**
 * The IAM role backup (DESIGN §2b, §4.3): everything needed to recreate the role, taken before
 * the first change and carried in the provider-neutral envelope (kind `role`, version 1),
 * checked with its schema when it is read back. Dormant's own quarantine is recorded as a flag,
 * never as one of the role's policies, so a restore never puts it back.
 */
import { z } from 'zod';
import { CloudError } from '../../errors.js';
import type { BackupEnvelope } from '../../model/backup.js';
import { isoSeconds } from '../../model/time.js';
import { envelopeReader } from '../backup-envelope.js';
import {
  QUARANTINE_POLICY_NAME,
  decodePolicyDocument,
  isQuarantineDocument,
  parseRoleArn,
} from './aws-role-identity.js';
import {
  type IamAccess,
  getRole,
  getRolePolicyDocument,
  listAttachedRolePolicies,
  listInstanceProfilesForRole,
  listRolePolicyNames,
} from './aws-role-lists.js';

export const ROLE_BACKUP_VERSION = 1 as const;

const roleBackupSchema = z.object({
  version: z.literal(ROLE_BACKUP_VERSION),
  takenAt: z.string(),
  account: z.string(),
  role: z.object({
    name: z.string().min(1),
    arn: z.string().min(1),
    /** The role's unique id (AROA…): a recreated role gets a new one. */
    roleId: z.string().nullable(),
    path: z.string().min(1),
    createdAt: z.string().nullable(),
    description: z.string().nullable(),
    maxSessionDuration: z.number().int().positive().nullable(),
    permissionsBoundary: z.string().nullable(),
    /** The trust policy, as decoded JSON text. */
    trustPolicy: z.string().min(1),
    tags: z.array(z.object({ key: z.string(), value: z.string() })),
  }),
  attachedPolicies: z.array(z.object({ arn: z.string().min(1), name: z.string() })),
  /** The role's own inline policies with their documents (decoded JSON text); never dormant's quarantine. */
  inlinePolicies: z.array(z.object({ name: z.string().min(1), document: z.string() })),
  instanceProfiles: z.array(z.object({ name: z.string().min(1), path: z.string().min(1) })),
  /** Whether dormant's quarantine was on the role when the backup was taken. */
  quarantined: z.boolean(),
  warnings: z.array(z.string()),
});

export type RoleBackup = z.infer<typeof roleBackupSchema>;

/** Read everything §2b lists about a role. */
export async function takeRoleBackup(aws: IamAccess, roleName: string): Promise<RoleBackup> {
  const takenAt = isoSeconds(Date.now());
  const role = await getRole(aws, roleName);
  if (!role?.Arn) throw new CloudError(`iam:GetRole for ${roleName} found no role to back up`, 'NoSuchEntity');
  const [names, attached, profiles] = await Promise.all([
    listRolePolicyNames(aws, roleName),
    listAttachedRolePolicies(aws, roleName),
    listInstanceProfilesForRole(aws, roleName),
  ]);
  const inline: RoleBackup['inlinePolicies'] = [];
  let quarantined = false;
  const warnings: string[] = [];
  for (const name of names) {
    const document = await getRolePolicyDocument(aws, roleName, name);
    if (document === null) {
      warnings.push(`inline policy ${name} was deleted while the backup was taken; it is not in the backup`);
      continue;
    }
    if (name === QUARANTINE_POLICY_NAME && isQuarantineDocument(document)) quarantined = true;
    else inline.push({ name, document });
  }
  return {
    version: ROLE_BACKUP_VERSION,
    takenAt,
    account: parseRoleArn(role.Arn)?.account ?? '',
    role: {
      name: role.RoleName ?? roleName,
      arn: role.Arn,
      roleId: role.RoleId ?? null,
      path: role.Path ?? '/',
      createdAt: role.CreateDate ? isoSeconds(role.CreateDate) : null,
      description: role.Description ?? null,
      maxSessionDuration: role.MaxSessionDuration ?? null,
      permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
      trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument ?? ''),
      // A role has at most 50 tags and GetRole returns them all.
      tags: (role.Tags ?? []).filter((t) => t.Key !== undefined).map((t) => ({ key: t.Key!, value: t.Value ?? '' })),
    },
    attachedPolicies: attached
      .filter((p) => p.PolicyArn)
      .map((p) => ({ arn: p.PolicyArn!, name: p.PolicyName ?? p.PolicyArn!.split('/').pop()! })),
    inlinePolicies: inline,
    instanceProfiles: profiles
      .filter((p) => p.InstanceProfileName)
      .map((p) => ({ name: p.InstanceProfileName!, path: p.Path ?? '/' })),
    quarantined,
    warnings,
  };
}

export function roleBackupEnvelope(backup: RoleBackup): BackupEnvelope<RoleBackup> {
  return {
    provider: 'aws',
    kind: 'role',
    version: ROLE_BACKUP_VERSION,
    takenAt: backup.takenAt,
    account: backup.account,
    identityId: backup.role.arn,
    identityName: backup.role.name,
    data: backup,
  };
}

/** Check a stored role backup; one line naming the first field that does not fit. */
export const readRoleBackup: (envelope: BackupEnvelope<unknown>) => BackupEnvelope<RoleBackup> = envelopeReader({
  provider: 'aws',
  kinds: ['role'],
  version: ROLE_BACKUP_VERSION,
  what: 'an AWS role backup',
  data: roleBackupSchema,
});
