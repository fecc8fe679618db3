// Part of the Entra ID / Microsoft Graph fake (see ../graphFake.ts): the application
// permissions (the access token's `roles`) each endpoint accepts. One of `anyOf` is enough; the
// lists are the reference's "least privileged" and "higher privileged" application permissions
// (and /tmp/dormant-notes/graph-surface.md). signInActivity additionally needs AuditLog.Read.All.

export interface PermissionRule {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path under /v1.0, with {placeholders}. */
  path: string;
  anyOf: readonly string[];
  note?: string;
}

const USER_READ = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'] as const;
const MEMBER_READ = [
  'GroupMember.Read.All',
  'Group.Read.All',
  'GroupMember.ReadWrite.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
] as const;
const USER_DELETE_RESTORE = ['User.DeleteRestore.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'] as const;

export const GRAPH_PERMISSIONS = {
  listUsers: { method: 'GET', path: '/users', anyOf: USER_READ },
  getUser: { method: 'GET', path: '/users/{id|userPrincipalName}', anyOf: USER_READ },
  selectSignInActivity: {
    method: 'GET',
    path: '/users?$select=signInActivity',
    anyOf: ['AuditLog.Read.All'],
    note: 'in addition to listUsers/getUser, and only in a tenant with Entra ID P1/P2',
  },
  listDirectoryRoles: {
    method: 'GET',
    path: '/directoryRoles',
    anyOf: [
      'RoleManagement.Read.Directory',
      'RoleManagement.ReadWrite.Directory',
      'Directory.Read.All',
      'Directory.ReadWrite.All',
    ],
  },
  listRoleEligibilityScheduleInstances: {
    method: 'GET',
    path: '/roleManagement/directory/roleEligibilityScheduleInstances',
    anyOf: [
      'RoleEligibilitySchedule.Read.Directory',
      'RoleEligibilitySchedule.ReadWrite.Directory',
      'RoleManagement.Read.All',
      'RoleManagement.Read.Directory',
      'RoleManagement.ReadWrite.Directory',
    ],
    note: 'and only in a tenant with Entra ID P2 (PIM)',
  },
  listGroups: { method: 'GET', path: '/groups', anyOf: MEMBER_READ },
  getGroup: { method: 'GET', path: '/groups/{id}', anyOf: MEMBER_READ },
  listGroupMembers: { method: 'GET', path: '/groups/{id}/members', anyOf: MEMBER_READ },
  listGroupTransitiveMembers: { method: 'GET', path: '/groups/{id}/transitiveMembers', anyOf: MEMBER_READ },
  listUserMemberOf: { method: 'GET', path: '/users/{id}/memberOf', anyOf: MEMBER_READ },
  listUserTransitiveMemberOf: { method: 'GET', path: '/users/{id}/transitiveMemberOf', anyOf: MEMBER_READ },
  checkMemberGroups: { method: 'POST', path: '/users/{id}/checkMemberGroups', anyOf: MEMBER_READ },
  listUserAppRoleAssignments: {
    method: 'GET',
    path: '/users/{id}/appRoleAssignments',
    anyOf: ['User.Read.All', 'Directory.Read.All', 'AppRoleAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  getUserManager: { method: 'GET', path: '/users/{id}/manager', anyOf: USER_READ },
  listSignIns: {
    method: 'GET',
    path: '/auditLogs/signIns',
    anyOf: ['AuditLog.Read.All', 'Directory.Read.All'],
    note: 'and only in a tenant with Entra ID P1/P2',
  },
  listDeletedUsers: {
    method: 'GET',
    path: '/directory/deletedItems/microsoft.graph.user',
    anyOf: [...USER_READ, 'User.DeleteRestore.All'],
  },
  getDeletedItem: {
    method: 'GET',
    path: '/directory/deletedItems/{id}',
    anyOf: [...USER_READ, 'User.DeleteRestore.All'],
  },
  updateUserAccountEnabled: {
    method: 'PATCH',
    path: '/users/{id} {accountEnabled}',
    anyOf: ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  updateUser: { method: 'PATCH', path: '/users/{id}', anyOf: ['User.ReadWrite.All', 'Directory.ReadWrite.All'] },
  revokeSignInSessions: {
    method: 'POST',
    path: '/users/{id}/revokeSignInSessions',
    anyOf: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  deleteUser: { method: 'DELETE', path: '/users/{id}', anyOf: USER_DELETE_RESTORE },
  restoreDeletedItem: { method: 'POST', path: '/directory/deletedItems/{id}/restore', anyOf: USER_DELETE_RESTORE },
  permanentlyDeleteItem: { method: 'DELETE', path: '/directory/deletedItems/{id}', anyOf: USER_DELETE_RESTORE },
  addGroupMember: {
    method: 'POST',
    path: '/groups/{id}/members/$ref',
    anyOf: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  removeGroupMember: {
    method: 'DELETE',
    path: '/groups/{id}/members/{memberId}/$ref',
    anyOf: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  addDirectoryRoleMember: {
    method: 'POST',
    path: '/directoryRoles/{id}/members/$ref',
    anyOf: ['RoleManagement.ReadWrite.Directory'],
  },
  removeDirectoryRoleMember: {
    method: 'DELETE',
    path: '/directoryRoles/{id}/members/{memberId}/$ref',
    anyOf: ['RoleManagement.ReadWrite.Directory'],
  },
  assignLicense: {
    method: 'POST',
    path: '/users/{id}/assignLicense',
    anyOf: ['LicenseAssignment.ReadWrite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  setManager: {
    method: 'PUT',
    path: '/users/{id}/manager/$ref',
    anyOf: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  removeManager: {
    method: 'DELETE',
    path: '/users/{id}/manager/$ref',
    anyOf: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  assignAppRole: {
    method: 'POST',
    path: '/users/{id}/appRoleAssignments',
    anyOf: ['AppRoleAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
  removeAppRoleAssignment: {
    method: 'DELETE',
    path: '/users/{id}/appRoleAssignments/{assignmentId}',
    anyOf: ['AppRoleAssignment.ReadWrite.All', 'Directory.ReadWrite.All'],
  },
} as const satisfies Record<string, PermissionRule>;

export type GraphOperation = keyof typeof GRAPH_PERMISSIONS;

/** Every application permission any endpoint accepts (handy for an all-powerful test app). */
export const ALL_GRAPH_ROLES: readonly string[] = [
  ...new Set(Object.values(GRAPH_PERMISSIONS).flatMap((r) => r.anyOf as readonly string[])),
].sort();
