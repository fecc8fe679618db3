/**
 * What the Google provider needs (`dormant permissions --provider google`): the OAuth scopes
 * to grant the service account's client id in domain-wide delegation, the admin privileges
 * `google.subject` must hold, and the Cloud IAM permissions (as a custom role) on each project.
 */
import type { PermissionsDocument } from '../provider.js';
import { SCOPES } from './google-auth.js';

export interface GooglePermissions {
  provider: 'google';
  workspace: {
    /** Admin console → Security → API controls → Domain-wide delegation: the client id and these scopes. */
    domainWideDelegationScopes: string[];
    /** Admin privileges of google.subject's role. */
    adminPrivileges: string[];
  };
  cloud: {
    /** A custom role with exactly these permissions, granted on each project (or the folder or organization). */
    customRole: { title: string; includedPermissions: string[] };
    why: Record<string, string>;
  };
}

const SCAN_PERMS: Record<string, string> = {
  'iam.serviceAccounts.list': 'list the service accounts of a project',
  'iam.serviceAccounts.get': 're-read a service account by unique id before acting',
  'iam.serviceAccountKeys.list': 'list user-managed keys (keyTypes=USER_MANAGED), one call per service account',
  'policyanalyzer.serviceAccountLastAuthenticationActivities.query':
    'last authentication of each service account (Policy Analyzer; in roles/policyanalyzer.activityAnalysisViewer)',
  'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query':
    'last authentication of each key (Policy Analyzer; in roles/policyanalyzer.activityAnalysisViewer)',
  'resourcemanager.projects.list': 'find every project under google.cloud.organization and google.cloud.folders',
  'resourcemanager.folders.list': 'walk the folders under the organization or a folder',
};

const REMEDIATE_PERMS: Record<string, string> = {
  'iam.serviceAccounts.disable': 'disable an inactive service account',
  'iam.serviceAccounts.enable': 'restore: enable it again',
  'iam.serviceAccounts.delete': 'delete it after deleteAfterDays',
  'iam.serviceAccounts.undelete': 'restore: undelete it by unique id (within 30 days)',
  'iam.serviceAccountKeys.get': 're-read a key before acting',
  'iam.serviceAccountKeys.disable': 'disable an unused key',
  'iam.serviceAccountKeys.enable': 'restore: enable a disabled key again',
  'iam.serviceAccountKeys.delete': 'delete the key after deleteAfterDays (it cannot come back)',
};

export function googlePermissions(mode: 'scan' | 'remediate'): GooglePermissions {
  const why = mode === 'scan' ? { ...SCAN_PERMS } : { ...SCAN_PERMS, ...REMEDIATE_PERMS };
  const scopes =
    mode === 'scan'
      ? [...SCOPES.workspaceRead, ...SCOPES.reports]
      : [...SCOPES.workspaceRead, ...SCOPES.workspaceWrite, ...SCOPES.reports];
  return {
    provider: 'google',
    workspace: {
      domainWideDelegationScopes: scopes.sort(),
      adminPrivileges:
        mode === 'scan'
          ? ['Admin API privileges → Users → Read', 'Admin API privileges → Groups → Read', 'Reports']
          : [
              'Admin API privileges → Users → Read, Update, Delete (suspend, delete, undelete, aliases)',
              'Admin API privileges → Groups → Read, Update (re-add memberships on restore)',
              'Reports',
            ],
    },
    cloud: {
      customRole: { title: `dormant ${mode}`, includedPermissions: Object.keys(why).sort() },
      why,
    },
  };
}

export function googlePermissionsDocument(mode: 'scan' | 'remediate'): PermissionsDocument {
  return { document: googlePermissions(mode) };
}
