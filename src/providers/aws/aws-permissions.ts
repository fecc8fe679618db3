/**
 * The least-privilege IAM policy each mode needs (`dormant permissions`). The action lists
 * are kept beside the code that makes the calls; a test checks every SDK command sent under
 * src/providers/aws is listed here, and test/aws-least-privilege.test.ts proves on moto with IAM
 * enforcement that the printed policies are enough and that each action is needed: taken away,
 * the command that needs it fails naming it, or falls back as documented. An action added here
 * needs an entry in test/aws-least-privilege-needs.ts saying which command shows its need.
 * iam:TagRole and iam:PassRole are the two that moto cannot show (it checks only the action
 * called): AWS authorizes them on top of CreateRole with tags and AddRoleToInstanceProfile.
 */

/** Every IAM call a scan can make (report source, API source and enrichment). */
export const SCAN_ACTIONS = [
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'iam:ListUsers',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'iam:GetLoginProfile',
  'iam:ListUserTags',
  // IAM roles (DORMANT-AWS-006): every role with its RoleLastUsed, a few calls for any number.
  'iam:GetAccountAuthorizationDetails',
] as const;

/** Reads done by apply's re-check and backup, on top of the scan's. */
export const REMEDIATE_READ_ACTIONS = [
  'iam:GetUser',
  'iam:ListGroupsForUser',
  'iam:ListAttachedUserPolicies',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:ListMFADevices',
  'iam:ListSSHPublicKeys',
  'iam:GetSSHPublicKey',
  'iam:ListSigningCertificates',
  'iam:ListServiceSpecificCredentials',
  // Roles: the re-check (GetRole, the quarantine), the backup and the delete; restore asks GetInstanceProfile.
  'iam:GetRole',
  'iam:ListRolePolicies',
  'iam:GetRolePolicy',
  'iam:ListAttachedRolePolicies',
  'iam:ListInstanceProfilesForRole',
  'iam:GetInstanceProfile',
] as const;

/** Changes made by apply (disable, delete) and restore. */
export const REMEDIATE_WRITE_ACTIONS = [
  'iam:UpdateAccessKey',
  'iam:DeleteAccessKey',
  'iam:DeleteLoginProfile',
  'iam:CreateLoginProfile',
  'iam:DeleteSigningCertificate',
  'iam:UpdateSigningCertificate',
  'iam:UploadSigningCertificate',
  'iam:DeleteSSHPublicKey',
  'iam:UpdateSSHPublicKey',
  'iam:UploadSSHPublicKey',
  'iam:DeleteServiceSpecificCredential',
  'iam:DeactivateMFADevice',
  'iam:DeleteVirtualMFADevice',
  'iam:DeleteUserPolicy',
  'iam:PutUserPolicy',
  'iam:AttachUserPolicy',
  'iam:DetachUserPolicy',
  'iam:AddUserToGroup',
  'iam:RemoveUserFromGroup',
  'iam:CreateUser',
  'iam:DeleteUser',
  'iam:TagUser',
  'iam:PutUserPermissionsBoundary',
] as const;

/**
 * Changes made to IAM roles by apply (quarantine, delete) and restore (recreate). CreateRole with
 * tags needs iam:TagRole too, and AWS requires iam:PassRole on the role for
 * AddRoleToInstanceProfile (restore puts a role back into its instance profiles).
 */
export const REMEDIATE_ROLE_WRITE_ACTIONS = [
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:RemoveRoleFromInstanceProfile',
  'iam:AddRoleToInstanceProfile',
  'iam:CreateInstanceProfile',
  'iam:CreateRole',
  'iam:TagRole',
  'iam:DeleteRole',
  'iam:PassRole',
] as const;

/** Evidence for reviews (`dormant serve`): read-only, and optional (missing → "unavailable"). */
export const EVIDENCE_ACTIONS = [
  'cloudtrail:LookupEvents',
  'iam:GenerateServiceLastAccessedDetails',
  'iam:GetServiceLastAccessedDetails',
] as const;

/** `dormant export securityhub`: import findings and read back the ones it exported (to archive). */
export const SECURITYHUB_ACTIONS = ['securityhub:BatchImportFindings', 'securityhub:GetFindings'] as const;

/** scan; remediate (apply, restore, review evidence); export (scan, then Security Hub). */
export type PermissionMode = 'scan' | 'remediate' | 'export';

/** sts:GetCallerIdentity needs no permission; it tells dormant which user it runs as. */
export function policyFor(mode: PermissionMode): object {
  const statements: object[] = [
    { Sid: 'DormantScanReadOnly', Effect: 'Allow', Action: [...SCAN_ACTIONS], Resource: '*' },
  ];
  if (mode === 'remediate') {
    statements.push(
      { Sid: 'DormantRemediateRead', Effect: 'Allow', Action: [...REMEDIATE_READ_ACTIONS], Resource: '*' },
      { Sid: 'DormantReviewEvidence', Effect: 'Allow', Action: [...EVIDENCE_ACTIONS], Resource: '*' },
      {
        Sid: 'DormantRemediateUsers',
        Effect: 'Allow',
        Action: [...REMEDIATE_WRITE_ACTIONS],
        Resource: ['arn:aws:iam::*:user/*', 'arn:aws:iam::*:group/*', 'arn:aws:iam::*:mfa/*'],
      },
      {
        Sid: 'DormantRemediateRoles',
        Effect: 'Allow',
        Action: [...REMEDIATE_ROLE_WRITE_ACTIONS],
        Resource: ['arn:aws:iam::*:role/*', 'arn:aws:iam::*:instance-profile/*'],
      },
    );
  }
  if (mode === 'export') {
    statements.push({
      Sid: 'DormantSecurityHubExport',
      Effect: 'Allow',
      Action: [...SECURITYHUB_ACTIONS],
      Resource: '*',
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** What the management account's principal needs to list the Organization and enter the members. */
export const ORGANIZATION_ACTIONS = [
  'organizations:DescribeOrganization',
  'organizations:ListAccounts',
  'organizations:ListRoots',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListAccountsForParent',
] as const;

export interface OrgPolicySettings {
  roleName: string;
  /** True when aws.organization.externalId is set: the trust policy asks for it (its value is never printed). */
  externalId: boolean;
}

/**
 * `dormant permissions --org` (DESIGN §8): the management account's policy (its own account
 * scanned as usual, the Organization listed, the member role assumed), the member role's policy
 * (the same mode's policy, for its own account) and the member role's trust policy.
 * MANAGEMENT_ACCOUNT_ID and EXTERNAL_ID are placeholders to fill in: the command reads no cloud.
 */
export function orgPolicyFor(mode: PermissionMode, org: OrgPolicySettings): object {
  const member = policyFor(mode) as { Version: string; Statement: object[] };
  const management = {
    Version: member.Version,
    Statement: [
      ...member.Statement,
      { Sid: 'DormantListOrganization', Effect: 'Allow', Action: [...ORGANIZATION_ACTIONS], Resource: '*' },
      {
        Sid: 'DormantAssumeMemberRole',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: `arn:aws:iam::*:role/${org.roleName}`,
      },
    ],
  };
  const trust = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DormantFromManagementAccount',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::MANAGEMENT_ACCOUNT_ID:root' },
        Action: 'sts:AssumeRole',
        ...(org.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': 'EXTERNAL_ID' } } } : {}),
      },
    ],
  };
  return {
    managementAccount: { policy: management },
    memberRole: { roleName: org.roleName, policy: member, trustPolicy: trust },
  };
}
