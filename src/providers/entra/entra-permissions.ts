/** The Microsoft Graph application permissions each mode needs (`dormant permissions --provider entra`). */
import type { PermissionsDocument } from '../provider.js';

export interface EntraPermissions {
  provider: 'entra';
  applicationPermissions: string[];
  why: Record<string, string>;
}

const SCAN: Record<string, string> = {
  'User.Read.All': 'list users (GET /users) and re-read one before acting',
  'AuditLog.Read.All':
    'read signInActivity on users and the sign-in logs for evidence (also needs an Entra ID P1/P2 licence)',
  'RoleManagement.Read.Directory':
    'find holders of protected directory roles (GET /directoryRoles, GET /directoryRoles/{id}/members)',
  'RoleEligibilitySchedule.Read.Directory':
    'find who is eligible (PIM) for a protected role (GET /roleManagement/directory/roleEligibilityScheduleInstances), so that no eligible admin is acted on; without it scan and apply stop (RoleManagement.Read.Directory also covers it)',
  'GroupMember.Read.All':
    "read the members of entra.exemptGroups and role-assignable groups, a user's groups for the backup, and re-check a user's roles and exempt groups before acting (transitiveMemberOf, checkMemberGroups)",
};

const REMEDIATE: Record<string, string> = {
  'User.EnableDisableAccount.All': 'disable a user (PATCH accountEnabled=false) and re-enable it on restore',
  'User.RevokeSessions.All': 'revoke the sign-in sessions of a disabled user',
  'User.DeleteRestore.All': 'soft-delete a user and restore it from deletedItems',
  'GroupMember.ReadWrite.All': 'restore: re-add the group memberships that did not come back',
  'RoleManagement.ReadWrite.Directory':
    'restore: re-add directory roles (powerful: leave it out and re-add roles by hand if you prefer)',
  'AppRoleAssignment.ReadWrite.All':
    'restore: re-add app role assignments (powerful: leave it out and re-add them by hand if you prefer)',
  'LicenseAssignment.ReadWrite.All': 'restore: re-assign the licences a deleted user lost',
  'User.ReadWrite.All': 'restore: set the manager again (PUT /users/{id}/manager/$ref)',
};

export function entraPermissions(mode: 'scan' | 'remediate'): EntraPermissions {
  const why = mode === 'scan' ? { ...SCAN } : { ...SCAN, ...REMEDIATE };
  return { provider: 'entra', applicationPermissions: Object.keys(why).sort(), why };
}

export function entraPermissionsDocument(mode: 'scan' | 'remediate'): PermissionsDocument {
  return { document: entraPermissions(mode) };
}
