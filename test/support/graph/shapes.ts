// Part of the Entra ID / Microsoft Graph fake (see ../graphFake.ts): resource shapes, property
// lists, $select projection and the two error formats (Entra's token endpoint and Graph's).
//
// Shapes follow the Graph v1.0 reference (user, signInActivity, signIn, directoryRole,
// appRoleAssignment, group resource types) and @microsoft/microsoft-graph-types 2.43; see the
// list of what was checked at the top of ../graphFake.ts.
import { randomUUID } from 'node:crypto';
import type * as MSGraph from '@microsoft/microsoft-graph-types';

// ---- user ----------------------------------------------------------------------------------

/** Structural properties of microsoft.graph.user (v1.0), in the reference's order. */
export const USER_PROPERTIES = [
  'id',
  'deletedDateTime',
  'aboutMe',
  'accountEnabled',
  'ageGroup',
  'assignedLicenses',
  'assignedPlans',
  'authorizationInfo',
  'birthday',
  'businessPhones',
  'city',
  'companyName',
  'consentProvidedForMinor',
  'country',
  'createdDateTime',
  'creationType',
  'customSecurityAttributes',
  'department',
  'displayName',
  'employeeHireDate',
  'employeeId',
  'employeeLeaveDateTime',
  'employeeOrgData',
  'employeeType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'faxNumber',
  'givenName',
  'hireDate',
  'identities',
  'imAddresses',
  'interests',
  'isManagementRestricted',
  'isResourceAccount',
  'jobTitle',
  'lastPasswordChangeDateTime',
  'legalAgeGroupClassification',
  'licenseAssignmentStates',
  'mail',
  'mailboxSettings',
  'mailNickname',
  'mobilePhone',
  'mySite',
  'officeLocation',
  'onPremisesDistinguishedName',
  'onPremisesDomainName',
  'onPremisesExtensionAttributes',
  'onPremisesImmutableId',
  'onPremisesLastSyncDateTime',
  'onPremisesProvisioningErrors',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'onPremisesUserPrincipalName',
  'otherMails',
  'passwordPolicies',
  'passwordProfile',
  'pastProjects',
  'postalCode',
  'preferredDataLocation',
  'preferredLanguage',
  'preferredName',
  'provisionedPlans',
  'proxyAddresses',
  'responsibilities',
  'schools',
  'securityIdentifier',
  'serviceProvisioningErrors',
  'showInAddressList',
  'signInActivity',
  'signInSessionsValidFromDateTime',
  'skills',
  'state',
  'streetAddress',
  'surname',
  'usageLocation',
  'userPrincipalName',
  'userType',
] as const;

export type UserProperty = (typeof USER_PROPERTIES)[number];

/** What GET /users returns without $select (List users, "By default, only a limited set..."). */
export const USER_DEFAULT_SELECT: readonly UserProperty[] = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

/** Returned only for a single user: selecting them on /users is 501 Not Implemented. */
export const USER_SINGLE_ONLY: ReadonlySet<string> = new Set([
  'aboutMe',
  'birthday',
  'hireDate',
  'interests',
  'mySite',
  'pastProjects',
  'preferredName',
  'responsibilities',
  'schools',
  'skills',
  'mailboxSettings',
]);

/** Collection-valued: an unset one reads as [] rather than null. */
export const USER_COLLECTIONS: ReadonlySet<string> = new Set([
  'assignedLicenses',
  'assignedPlans',
  'businessPhones',
  'identities',
  'imAddresses',
  'interests',
  'licenseAssignmentStates',
  'otherMails',
  'onPremisesProvisioningErrors',
  'pastProjects',
  'provisionedPlans',
  'proxyAddresses',
  'responsibilities',
  'schools',
  'serviceProvisioningErrors',
  'skills',
]);

/** Properties a client may not PATCH. */
export const USER_READ_ONLY: ReadonlySet<string> = new Set([
  'id',
  'deletedDateTime',
  'assignedLicenses',
  'assignedPlans',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'imAddresses',
  'isManagementRestricted',
  'lastPasswordChangeDateTime',
  'licenseAssignmentStates',
  'onPremisesDistinguishedName',
  'onPremisesDomainName',
  'onPremisesLastSyncDateTime',
  'onPremisesProvisioningErrors',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'onPremisesUserPrincipalName',
  'provisionedPlans',
  'proxyAddresses',
  'securityIdentifier',
  'serviceProvisioningErrors',
  'signInActivity',
  'signInSessionsValidFromDateTime',
]);

/**
 * On-premises-mastered properties of a synced user (onPremisesSyncEnabled true): Graph refuses
 * to change them in the cloud ("Unable to update the specified properties for on-premises
 * mastered Directory Sync objects...").
 */
export const USER_ON_PREM_MASTERED: ReadonlySet<string> = new Set([
  'accountEnabled',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'mailNickname',
  'userPrincipalName',
  'jobTitle',
  'department',
  'companyName',
  'employeeId',
  'officeLocation',
  'businessPhones',
  'mobilePhone',
  'streetAddress',
  'city',
  'state',
  'postalCode',
  'country',
  'onPremisesImmutableId',
]);

export type GraphUser = MSGraph.User;
export type GraphSignInActivity = Required<
  Pick<
    MSGraph.SignInActivity,
    | 'lastSignInDateTime'
    | 'lastSignInRequestId'
    | 'lastNonInteractiveSignInDateTime'
    | 'lastNonInteractiveSignInRequestId'
    | 'lastSuccessfulSignInDateTime'
    | 'lastSuccessfulSignInRequestId'
  >
>;

// ---- groups, roles, app roles ---------------------------------------------------------------

export const GROUP_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'expirationDateTime',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'membershipRuleProcessingState',
  'onPremisesDomainName',
  'onPremisesLastSyncDateTime',
  'onPremisesNetBiosName',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesSyncEnabled',
  'preferredDataLocation',
  'preferredLanguage',
  'proxyAddresses',
  'renewedDateTime',
  'securityEnabled',
  'securityIdentifier',
  'theme',
  'visibility',
] as const;
export const GROUP_DEFAULT_SELECT = GROUP_PROPERTIES;
export const GROUP_COLLECTIONS: ReadonlySet<string> = new Set(['groupTypes', 'proxyAddresses']);

export const DIRECTORY_ROLE_PROPERTIES = [
  'id',
  'deletedDateTime',
  'description',
  'displayName',
  'roleTemplateId',
] as const;

export const APP_ROLE_ASSIGNMENT_PROPERTIES = [
  'id',
  'deletedDateTime',
  'appRoleId',
  'createdDateTime',
  'principalDisplayName',
  'principalId',
  'principalType',
  'resourceDisplayName',
  'resourceId',
] as const;

/** Well-known directory role template ids (the same in every tenant). */
export const ROLE_TEMPLATES = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Privileged Authentication Administrator': '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Security Administrator': '194ae4cb-b126-40b2-bd5b-6091b380977d',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'Application Administrator': '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
} as const;

/** Microsoft Graph's own application id (the resource of https://graph.microsoft.com/.default). */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

// ---- signIn --------------------------------------------------------------------------------

export const SIGN_IN_PROPERTIES = [
  'id',
  'appDisplayName',
  'appId',
  'appliedConditionalAccessPolicies',
  'clientAppUsed',
  'conditionalAccessStatus',
  'correlationId',
  'createdDateTime',
  'deviceDetail',
  'ipAddress',
  'isInteractive',
  'location',
  'resourceDisplayName',
  'resourceId',
  'riskDetail',
  'riskEventTypes',
  'riskEventTypes_v2',
  'riskLevelAggregated',
  'riskLevelDuringSignIn',
  'riskState',
  'status',
  'userDisplayName',
  'userId',
  'userPrincipalName',
] as const;

// ---- projection ----------------------------------------------------------------------------

/** Parses $select ("a,b , c") into names; null when absent. */
export function parseSelect(raw: string | null): string[] | null {
  if (raw === null) return null;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Picks `select` from `source` in Graph's way: a selected property that is unset is null (or []
 * for collections), unselected properties are absent.
 */
export function project(
  source: Readonly<Record<string, unknown>>,
  select: readonly string[],
  collections: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of select) {
    const v = source[name];
    out[name] = v === undefined ? (collections.has(name) ? [] : null) : structuredClone(v);
  }
  return out;
}

// ---- errors --------------------------------------------------------------------------------

/** Graph's timestamp style in innerError.date: seconds precision, no zone letter dropped. */
export function graphDate(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, '');
}

/** {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}} */
export function graphErrorBody(code: string, message: string, requestId: string, clientRequestId: string) {
  return {
    error: {
      code,
      message,
      innerError: { date: graphDate(), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

/** Entra's timestamp style: "2026-06-11 13:40:19Z". */
export function entraTimestamp(d: Date = new Date()): string {
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

export interface EntraError {
  status: number;
  error: string;
  /** AADSTS number, e.g. 7000215. */
  code: number;
  /** The text after "AADSTSnnn: ". */
  description: string;
}

/**
 * The token endpoint's error body, exactly in Entra's form: the description ends with the
 * "\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …" tail, and the ids repeat as fields.
 */
export function entraErrorBody(e: EntraError, origin: string, correlationId: string = randomUUID()) {
  const traceId = randomUUID();
  const ts = entraTimestamp();
  return {
    error: e.error,
    error_description: `AADSTS${e.code}: ${e.description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${ts}`,
    error_codes: [e.code],
    timestamp: ts,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${origin}/error?code=${e.code}`,
  };
}
