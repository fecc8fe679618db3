/**
 * Read-only IAM reads about one role, paged to the end: the role itself (GetRole gives its
 * tags, boundary and RoleLastUsed), its inline and managed policies, and the instance profiles
 * that hold it. Shared by the re-check, the backup, the delete and the restore.
 */
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListInstanceProfilesForRole,
  paginateListRolePolicies,
  type AttachedPolicy,
  type InstanceProfile,
  type Role,
} from '@aws-sdk/client-iam';
import type { AwsClients } from './aws-client.js';
import { isNoSuchEntity, toCloudError } from './aws-errors.js';
import { QUARANTINE_POLICY_NAME, decodePolicyDocument, isQuarantineDocument } from './aws-role-identity.js';

/** What the reads need: the IAM client and the settings that shape its errors. */
export type IamAccess = Pick<AwsClients, 'iam' | 'settings'>;

async function collect<P, T>(pages: AsyncIterable<P>, pick: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(pick(page) ?? []));
  return out;
}

/** A list of a role's that may find the role gone: an empty list then (the next step judges). */
async function roleList<T>(aws: IamAccess, operation: string, roleName: string, fn: () => Promise<T[]>): Promise<T[]> {
  try {
    return await fn();
  } catch (err) {
    if (isNoSuchEntity(err)) return [];
    throw toCloudError(err, `iam:${operation} for role ${roleName}`, aws.settings);
  }
}

/** GetRole, or null when the role does not exist. */
export async function getRole(aws: IamAccess, roleName: string): Promise<Role | null> {
  try {
    return (await aws.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role ?? null;
  } catch (err) {
    if (isNoSuchEntity(err)) return null;
    throw toCloudError(err, `iam:GetRole for ${roleName}`, aws.settings);
  }
}

export function listRolePolicyNames(aws: IamAccess, roleName: string): Promise<string[]> {
  return roleList(aws, 'ListRolePolicies', roleName, () =>
    collect(paginateListRolePolicies({ client: aws.iam }, { RoleName: roleName }), (p) => p.PolicyNames),
  );
}

export function listAttachedRolePolicies(aws: IamAccess, roleName: string): Promise<AttachedPolicy[]> {
  return roleList(aws, 'ListAttachedRolePolicies', roleName, () =>
    collect(paginateListAttachedRolePolicies({ client: aws.iam }, { RoleName: roleName }), (p) => p.AttachedPolicies),
  );
}

export function listInstanceProfilesForRole(aws: IamAccess, roleName: string): Promise<InstanceProfile[]> {
  return roleList(aws, 'ListInstanceProfilesForRole', roleName, () =>
    collect(
      paginateListInstanceProfilesForRole({ client: aws.iam }, { RoleName: roleName }),
      (p) => p.InstanceProfiles,
    ),
  );
}

/** An inline policy's document as JSON text; null when it is gone. */
export async function getRolePolicyDocument(
  aws: IamAccess,
  roleName: string,
  policyName: string,
): Promise<string | null> {
  try {
    const out = await aws.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
    return decodePolicyDocument(out.PolicyDocument ?? '');
  } catch (err) {
    if (isNoSuchEntity(err)) return null;
    throw toCloudError(err, `iam:GetRolePolicy ${policyName} for role ${roleName}`, aws.settings);
  }
}

/** GetInstanceProfile, or null when the profile does not exist. */
export async function getInstanceProfile(aws: IamAccess, name: string): Promise<InstanceProfile | null> {
  try {
    return (await aws.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile ?? null;
  } catch (err) {
    if (isNoSuchEntity(err)) return null;
    throw toCloudError(err, `iam:GetInstanceProfile ${name}`, aws.settings);
  }
}

/** Whether dormant's deny-all is on the role, given its inline policy names (one read when the name is there). */
export async function hasQuarantine(aws: IamAccess, roleName: string, policyNames: string[]): Promise<boolean> {
  if (!policyNames.includes(QUARANTINE_POLICY_NAME)) return false;
  return isQuarantineDocument((await getRolePolicyDocument(aws, roleName, QUARANTINE_POLICY_NAME)) ?? undefined);
}
