/**
 * IAM roles as identities (DESIGN §2b): the AWS role type beside the neutral fields, the trust
 * policy's principals, RoleLastUsed read as a sign-in record with its 400-day horizon, and the
 * roles that are listed but never flagged (service-linked, assumable only by AWS services,
 * managed by IAM Identity Center). Pure: the readers in aws-role-scan and aws-role-lists call it.
 */
import type { Identity, SignIn } from '../../model/identity.js';
import { DAY_MS, isoSeconds } from '../../model/time.js';

/** RoleLastUsed covers the trailing 400 days: an older role with no value is `before-tracking`, not "never". */
export const ROLE_LAST_USED_DAYS = 400;

/** The inline policy dormant puts on a role to quarantine it (the role's reversible disable). */
export const QUARANTINE_POLICY_NAME = 'dormant-quarantine';

/** Deny everything: a session of the role can still be had, but can do nothing. */
export const QUARANTINE_DOCUMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'DormantQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
});

/** Service-linked roles live under this path; only their service may change or delete them. */
export const SERVICE_LINKED_PATH = '/aws-service-role/';
/** IAM Identity Center's permission-set roles (AWSReservedSSO_*) live under this path and are its to manage. */
export const RESERVED_PATH = '/aws-reserved/';

export type PrincipalType = 'AWS' | 'Service' | 'Federated' | 'CanonicalUser' | '*';

/** One principal an Allow statement of the trust policy names. */
export interface TrustPrincipal {
  type: PrincipalType;
  value: string;
}

/**
 * An IAM role as the AWS provider keeps it: the neutral identity plus what the remediation and
 * the exemptions need. Nothing outside providers/aws reads these fields.
 */
export interface AwsRoleIdentity extends Identity {
  kind: 'role';
  /** Who may assume the role: the principals of its trust policy's Allow statements (null: unreadable). */
  trustPrincipals: TrustPrincipal[] | null;
  /** Under /aws-service-role/: AWS created it for a service and only that service may delete it. */
  serviceLinked: boolean;
  /** The instance profiles that hold the role (EC2 instances use it through them), when they were read. */
  instanceProfiles?: string[];
  /** The region of RoleLastUsed, when there is one. */
  lastUsedRegion: string | null;
  /** True when dormant's quarantine policy is on the role (it is then `enabled: false`). */
  quarantined: boolean;
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

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role(\/.*)$/;

/** True for an IAM role ARN (`arn:aws:iam::123456789012:role/path/name`). */
export function isRoleArn(arn: string): boolean {
  return ROLE_ARN.test(arn);
}

export function parseRoleArn(arn: string): { account: string; path: string; name: string } | null {
  const m = ROLE_ARN.exec(arn);
  if (!m) return null;
  const resource = m[2]!;
  const lastSlash = resource.lastIndexOf('/');
  return { account: m[1]!, path: resource.slice(0, lastSlash + 1), name: resource.slice(lastSlash + 1) };
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * The principals of the trust policy's Allow statements, or null when the document cannot be
 * read (then the role is not taken to be service-only: a person reviews it).
 */
export function trustPrincipals(document: string | undefined | null): TrustPrincipal[] | null {
  if (!document) return null;
  let policy: unknown;
  try {
    policy = JSON.parse(decodePolicyDocument(document));
  } catch {
    return null;
  }
  if (typeof policy !== 'object' || policy === null) return null;
  const out: TrustPrincipal[] = [];
  for (const statement of asList((policy as { Statement?: unknown }).Statement)) {
    if (typeof statement !== 'object' || statement === null) return null;
    const st = statement as { Effect?: unknown; Principal?: unknown; NotPrincipal?: unknown };
    if (st.Effect !== 'Allow') continue;
    // NotPrincipal in an Allow grants everyone but the named: as open as "*".
    if (st.NotPrincipal !== undefined || st.Principal === '*') {
      out.push({ type: '*', value: '*' });
      continue;
    }
    if (typeof st.Principal !== 'object' || st.Principal === null || Array.isArray(st.Principal)) return null;
    for (const [type, values] of Object.entries(st.Principal as Record<string, unknown>)) {
      for (const value of asList(values)) {
        if (typeof value !== 'string') return null;
        const known = type === 'AWS' || type === 'Service' || type === 'Federated' || type === 'CanonicalUser';
        out.push({ type: known ? type : '*', value: value === '*' ? '*' : value });
      }
    }
  }
  return out;
}

/** True when only AWS services may assume the role (every principal of every Allow is a `Service`). */
export function isServiceOnly(principals: TrustPrincipal[] | null): boolean {
  return principals !== null && principals.length > 0 && principals.every((p) => p.type === 'Service');
}

/** Why a role is listed but never flagged, or null (DESIGN §2b). */
export function roleExemptReason(
  role: Pick<AwsRoleIdentity, 'path' | 'serviceLinked' | 'trustPrincipals'>,
): string | null {
  if (role.serviceLinked) return 'service-linked role: AWS manages it, and only its service can delete it';
  if (role.path.startsWith(RESERVED_PATH)) {
    return 'reserved role (path /aws-reserved/): IAM Identity Center manages it; retire it there';
  }
  if (isServiceOnly(role.trustPrincipals)) {
    const services = [...new Set(role.trustPrincipals!.map((p) => p.value))].sort().join(', ');
    return `only AWS services can assume it (trust policy: ${services})`;
  }
  return null;
}

/**
 * RoleLastUsed as a sign-in record. AWS gives no date both for "never used" and "not used in
 * the last 400 days": the two differ only for roles older than that horizon.
 */
export function roleSignIn(lastUsed: Date | undefined, createdAt: string | null, now: Date): SignIn {
  if (lastUsed) return { lastUse: 'used', at: isoSeconds(lastUsed) };
  const trackingSince = isoSeconds(now.getTime() - ROLE_LAST_USED_DAYS * DAY_MS);
  if (createdAt !== null && Date.parse(createdAt) >= Date.parse(trackingSince)) return { lastUse: 'never', at: null };
  return { lastUse: 'before-tracking', at: null, trackingSince };
}

/** True when an inline policy document is dormant's deny-all (so a same-named policy of someone else's does not count). */
export function isQuarantineDocument(document: string | undefined): boolean {
  if (!document) return false;
  try {
    const policy = JSON.parse(decodePolicyDocument(document)) as { Statement?: unknown };
    return asList(policy.Statement).some((s) => {
      const st = s as { Effect?: unknown; Action?: unknown; Resource?: unknown; Condition?: unknown };
      return (
        st?.Effect === 'Deny' &&
        st.Condition === undefined &&
        asList(st.Action).includes('*') &&
        asList(st.Resource).includes('*')
      );
    });
  } catch {
    return false;
  }
}

/** What a role read (GetAccountAuthorizationDetails' RoleDetail or GetRole's Role) gives. */
export interface RoleFacts {
  arn: string;
  name: string;
  path: string | undefined;
  createDate: Date | undefined;
  trustPolicy: string | undefined;
  tags: { Key?: string | undefined; Value?: string | undefined }[] | undefined;
  lastUsed: { LastUsedDate?: Date | undefined; Region?: string | undefined } | undefined;
  quarantined: boolean;
  instanceProfiles?: string[];
}

export function roleIdentity(facts: RoleFacts, now: Date): AwsRoleIdentity {
  const createdAt = facts.createDate ? isoSeconds(facts.createDate) : null;
  const path = facts.path ?? parseRoleArn(facts.arn)?.path ?? '/';
  const signIn = roleSignIn(facts.lastUsed?.LastUsedDate, createdAt, now);
  const tags: Record<string, string> = {};
  for (const t of facts.tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
  const role: AwsRoleIdentity = {
    provider: 'aws',
    account: parseRoleArn(facts.arn)?.account ?? '',
    kind: 'role',
    id: facts.arn,
    name: facts.name,
    path,
    createdAt,
    enabled: !facts.quarantined,
    credentials: [],
    signIn,
    lastSignInAt: signIn.at,
    tags,
    trustPrincipals: trustPrincipals(facts.trustPolicy),
    serviceLinked: path.startsWith(SERVICE_LINKED_PATH),
    ...(facts.instanceProfiles ? { instanceProfiles: facts.instanceProfiles } : {}),
    lastUsedRegion: facts.lastUsed?.LastUsedDate ? (facts.lastUsed.Region ?? null) : null,
    quarantined: facts.quarantined,
  };
  role.exemptReason = roleExemptReason(role);
  return role;
}
