// Part of the Entra ID / Microsoft Graph fake (see ../graphFake.ts): one tenant's directory:
// app registrations, users (live and soft-deleted), groups, activated directory roles, service
// principals and app role assignments, licences (SKUs), sign-in logs, and the revocations made.
//
// Users are kept in creation order in an array sorted by a sequence number, so a page of
// /users costs a binary search plus the page itself, whatever the number of users.
import { X509Certificate, createHash, randomBytes, randomUUID } from 'node:crypto';
import type * as MSGraph from '@microsoft/microsoft-graph-types';
import {
  GRAPH_APP_ID,
  ROLE_TEMPLATES,
  USER_ON_PREM_MASTERED,
  type GraphSignInActivity,
  type UserProperty,
} from './shapes.js';

type DateLike = string | Date;

/** Graph's DateTimeOffset form for directory objects: seconds, "Z". */
export function iso(d: DateLike): string {
  const date = typeof d === 'string' ? new Date(d) : d;
  if (Number.isNaN(date.getTime())) throw new Error(`graph fake: bad date ${String(d)}`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isoOrNull(d: DateLike | null | undefined): string | null {
  return d === null || d === undefined ? null : iso(d);
}

// ---- seeds (what tests pass in) ------------------------------------------------------------

type UserDateProperty =
  | 'createdDateTime'
  | 'deletedDateTime'
  | 'externalUserStateChangeDateTime'
  | 'lastPasswordChangeDateTime'
  | 'onPremisesLastSyncDateTime'
  | 'signInSessionsValidFromDateTime'
  | 'employeeHireDate'
  | 'employeeLeaveDateTime'
  | 'signInActivity';

/**
 * A user as a test describes it: any Graph v1.0 user property (dates as Date or ISO strings),
 * plus the manager's id. Everything not given gets a realistic default.
 */
export interface FakeUserSeed extends Partial<Pick<MSGraph.User, Exclude<UserProperty, UserDateProperty>>> {
  createdDateTime?: DateLike;
  externalUserStateChangeDateTime?: DateLike | null;
  lastPasswordChangeDateTime?: DateLike | null;
  onPremisesLastSyncDateTime?: DateLike | null;
  signInSessionsValidFromDateTime?: DateLike | null;
  employeeHireDate?: DateLike | null;
  employeeLeaveDateTime?: DateLike | null;
  /** null: never signed in (or no data); a partial object fills the rest with null. */
  signInActivity?: Partial<Record<keyof GraphSignInActivity, DateLike | null>> | null;
  /** The manager's user id. */
  manager?: string | null;
}

export interface FakeGroupSeed {
  id?: string;
  displayName: string;
  description?: string | null;
  mailEnabled?: boolean;
  securityEnabled?: boolean;
  mail?: string | null;
  groupTypes?: string[];
  /** A dynamic group: members are computed, so writes to members are refused. */
  membershipRule?: string | null;
  /** Synced from on-premises AD: memberships are mastered there. */
  onPremisesSyncEnabled?: boolean | null;
  isAssignableToRole?: boolean | null;
  createdDateTime?: DateLike;
  /** User or group ids. */
  members?: string[];
}

export interface FakeDirectoryRoleSeed {
  id?: string;
  /** e.g. "Global Administrator"; the template id is looked up in ROLE_TEMPLATES if not given. */
  displayName: string;
  roleTemplateId?: string;
  description?: string;
  /** User ids, or ids of (role-assignable) groups. */
  members?: string[];
}

/** A PIM eligibility (unifiedRoleEligibilityScheduleInstance) for a directory role. */
export interface FakeRoleEligibilitySeed {
  id?: string;
  /** A user or group id. */
  principalId: string;
  /** The role's template id (PIM's roleDefinitionId), or give roleName. */
  roleDefinitionId?: string;
  /** e.g. "Global Administrator", looked up in ROLE_TEMPLATES. */
  roleName?: string;
  directoryScopeId?: string;
  startDateTime?: DateLike;
  endDateTime?: DateLike | null;
}

export interface RoleEligibilityRecord {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId: string;
  startDateTime: string;
  endDateTime: string | null;
}

export interface FakeServicePrincipalSeed {
  id?: string;
  appId?: string;
  displayName: string;
  appRoles?: { id?: string; value: string; displayName?: string }[];
}

export interface FakeAppRoleAssignmentSeed {
  id?: string;
  principalId: string;
  /** The resource service principal's id; or give resourceDisplayName to have one made. */
  resourceId?: string;
  resourceDisplayName?: string;
  /** Default: the default access role 00000000-0000-0000-0000-000000000000. */
  appRoleId?: string;
  createdDateTime?: DateLike;
}

export interface FakeSignInSeed {
  id?: string;
  userId: string;
  createdDateTime: DateLike;
  appDisplayName?: string;
  appId?: string;
  ipAddress?: string;
  clientAppUsed?: string;
  isInteractive?: boolean;
  resourceDisplayName?: string;
  resourceId?: string;
  location?: Partial<MSGraph.SignInLocation>;
  status?: Partial<MSGraph.SignInStatus>;
  deviceDetail?: Partial<MSGraph.DeviceDetail>;
  conditionalAccessStatus?: MSGraph.ConditionalAccessStatus;
}

export interface FakeSkuSeed {
  skuId?: string;
  skuPartNumber: string;
}

export interface FakeAppSeed {
  clientId?: string;
  displayName?: string;
  /** The client secret value; null/absent: no secret registered. */
  secret?: string | null;
  secretExpiresAt?: Date;
  /** Public certificates (PEM) registered on the app; validity comes from each certificate. */
  certificates?: string[];
  /** Granted (admin-consented) Graph application permissions, e.g. "User.Read.All". */
  roles?: string[];
}

export interface FakeTenantSeed {
  tenantId?: string;
  displayName?: string;
  /** Verified domains; the first is the default (…onmicrosoft.com). */
  domains?: string[];
  /** Entra ID P1/P2 present (signInActivity and sign-in logs need it). Default true. */
  premium?: boolean;
  /**
   * Cap on the page size when signInActivity is selected (the reference once documented 120);
   * default: none, pages follow $top like any other.
   */
  signInActivityPageLimit?: number;
}

// ---- records -------------------------------------------------------------------------------

export interface RegisteredCertificate {
  pem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  publicKey: X509Certificate['publicKey'];
  startDateTime: Date;
  endDateTime: Date;
}

export interface RegisteredApp {
  clientId: string;
  displayName: string;
  /** The app's service principal in this tenant (the token's oid). */
  servicePrincipalId: string;
  secret: string | null;
  secretExpiresAt: Date | null;
  certificates: RegisteredCertificate[];
  roles: string[];
}

export interface UserRecord {
  seq: number;
  id: string;
  props: Record<string, unknown>;
  managerId: string | null;
  groups: Set<string>;
  roles: Set<string>;
  appRoles: AppRoleAssignmentRecord[];
  deleted: { at: Date; restorableGroups: string[] } | null;
}

export interface GroupRecord {
  id: string;
  props: Record<string, unknown>;
  members: Set<string>;
}

export interface RoleRecord {
  id: string;
  props: Record<string, unknown>;
  members: Set<string>;
}

export interface ServicePrincipalRecord {
  id: string;
  appId: string;
  displayName: string;
  appRoles: { id: string; value: string; displayName: string }[];
}

export interface AppRoleAssignmentRecord {
  id: string;
  appRoleId: string;
  createdDateTime: string;
  principalId: string;
  resourceId: string;
}

export interface SignInRecord {
  at: number;
  props: Record<string, unknown>;
}

export interface Revocation {
  userId: string;
  /** The directory clock's time of the call. */
  at: Date;
  clientId: string | null;
}

export const DEFAULT_ACCESS_ROLE = '00000000-0000-0000-0000-000000000000';

/** Thrown by directory operations; the API layer turns it into a Graph error response. */
export class DirectoryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (id: string) =>
  new DirectoryError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const ON_PREM_MASTERED_MESSAGE =
  'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.';

function appRoleAssignmentId(): string {
  // Real ids are 43-character base64url strings.
  return randomBytes(32).toString('base64url').slice(0, 43);
}

function lowerBound(order: UserRecord[], seq: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (order[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class FakeTenant {
  readonly tenantId: string;
  readonly displayName: string;
  readonly domains: string[];
  /** Entra ID P1/P2 present. Change it while running to see the 403s. */
  premium: boolean;
  signInActivityPageLimit: number | null;
  readonly apps = new Map<string, RegisteredApp>();
  readonly groups = new Map<string, GroupRecord>();
  readonly directoryRoles = new Map<string, RoleRecord>();
  /** PIM eligibilities (roleEligibilityScheduleInstances), in creation order. */
  readonly roleEligibilities: RoleEligibilityRecord[] = [];
  readonly servicePrincipals = new Map<string, ServicePrincipalRecord>();
  readonly skus = new Map<string, { skuId: string; skuPartNumber: string }>();
  /** revokeSignInSessions calls that succeeded, in order. */
  readonly revocations: Revocation[] = [];
  /** When each user was soft-deleted, to the millisecond (Graph's deletedDateTime has whole seconds). */
  readonly deletions = new Map<string, Date>();
  /** Ids of soft-deleted users purged after the retention period. */
  readonly purged: string[] = [];

  private readonly live = new Map<string, UserRecord>();
  private readonly deleted = new Map<string, UserRecord>();
  private readonly byUpn = new Map<string, string>();
  /** Live users sorted by seq (creation order). */
  private readonly order: UserRecord[] = [];
  private seq = 0;
  private readonly signIns = new Map<string, SignInRecord[]>();
  private readonly unsortedSignIns = new Set<string>();

  constructor(
    seed: FakeTenantSeed,
    private readonly now: () => Date,
    private readonly retentionDays: number,
  ) {
    this.tenantId = (seed.tenantId ?? randomUUID()).toLowerCase();
    this.displayName = seed.displayName ?? 'Contoso';
    this.domains = seed.domains ?? [
      `${this.displayName.toLowerCase().replace(/[^a-z0-9]/g, '')}${this.tenantId.slice(0, 4)}.onmicrosoft.com`,
    ];
    this.premium = seed.premium ?? true;
    this.signInActivityPageLimit = seed.signInActivityPageLimit ?? null;
  }

  get defaultDomain(): string {
    return this.domains[0]!;
  }

  /** Whether `name` (a GUID or a verified domain) names this tenant. */
  matches(name: string): boolean {
    const n = name.toLowerCase();
    return n === this.tenantId || this.domains.some((d) => d.toLowerCase() === n);
  }

  // ---- apps ----------------------------------------------------------------------------------

  addApp(seed: FakeAppSeed = {}): RegisteredApp {
    const clientId = (seed.clientId ?? randomUUID()).toLowerCase();
    if (this.apps.has(clientId)) throw new Error(`graph fake: app ${clientId} already registered`);
    const certificates = (seed.certificates ?? []).map((pem): RegisteredCertificate => {
      const x = new X509Certificate(pem);
      return {
        pem,
        thumbprintSha1: createHash('sha1').update(x.raw).digest('hex').toUpperCase(),
        thumbprintSha256: createHash('sha256').update(x.raw).digest('hex').toUpperCase(),
        publicKey: x.publicKey,
        startDateTime: new Date(x.validFrom),
        endDateTime: new Date(x.validTo),
      };
    });
    const app: RegisteredApp = {
      clientId,
      displayName: seed.displayName ?? 'dormant',
      servicePrincipalId: randomUUID(),
      secret: seed.secret ?? null,
      secretExpiresAt: seed.secretExpiresAt ?? null,
      certificates,
      roles: [...(seed.roles ?? [])],
    };
    this.apps.set(clientId, app);
    return app;
  }

  /** Change an app's granted permissions (tokens issued before keep their old roles, as in Entra). */
  setAppRoles(clientId: string, roles: string[]): void {
    const app = this.apps.get(clientId.toLowerCase());
    if (!app) throw new Error(`graph fake: no app ${clientId}`);
    app.roles = [...roles];
  }

  // ---- users ---------------------------------------------------------------------------------

  addUser(seed: FakeUserSeed = {}): MSGraph.User {
    const r = this.insertUser(seed);
    return this.userView(r);
  }

  /**
   * Adds `count` synthetic users quickly (no per-user copies returned). `make(i)` may override
   * any property; by default users are enabled members created a year ago who signed in
   * `i % 400` days ago, with licences and a usage location.
   */
  addUsers(count: number, make?: (i: number) => FakeUserSeed): string[] {
    const ids: string[] = [];
    const now = this.now().getTime();
    for (let i = 0; i < count; i++) {
      const base: FakeUserSeed = {
        displayName: `Synthetic User ${this.seq + 1}`,
        userPrincipalName: `synthetic.${this.seq + 1}@${this.defaultDomain}`,
        createdDateTime: new Date(now - 365 * 86_400_000),
        signInActivity: {
          lastSignInDateTime: new Date(now - (i % 400) * 86_400_000),
          lastNonInteractiveSignInDateTime: new Date(now - (i % 400) * 86_400_000),
          lastSuccessfulSignInDateTime: new Date(now - (i % 400) * 86_400_000),
        },
        usageLocation: 'US',
      };
      ids.push(this.insertUser({ ...base, ...(make ? make(i) : {}) }).id);
    }
    return ids;
  }

  private insertUser(seed: FakeUserSeed): UserRecord {
    const id = (seed.id ?? randomUUID()).toLowerCase();
    if (this.live.has(id) || this.deleted.has(id)) throw new Error(`graph fake: user ${id} already exists`);
    const n = ++this.seq;
    const userType = seed.userType ?? 'Member';
    if (userType !== 'Member' && userType !== 'Guest')
      throw new Error(`graph fake: userType is Member or Guest, not ${userType}`);
    if (![undefined, null, 'PendingAcceptance', 'Accepted'].includes(seed.externalUserState)) {
      throw new Error(
        `graph fake: externalUserState is PendingAcceptance, Accepted or null (Graph's values), not ${String(seed.externalUserState)}`,
      );
    }
    const guest = userType === 'Guest';
    const upn =
      seed.userPrincipalName ??
      (guest ? `guest${n}_example.com#EXT#@${this.defaultDomain}` : `user${n}@${this.defaultDomain}`);
    const upnKey = upn.toLowerCase();
    if (this.byUpn.has(upnKey)) throw new Error(`graph fake: userPrincipalName ${upn} already in use`);
    const { manager, signInActivity, ...rest } = seed;
    const props: Record<string, unknown> = {
      businessPhones: [],
      displayName: `User ${n}`,
      givenName: null,
      surname: null,
      jobTitle: null,
      mail: guest ? `guest${n}@example.com` : upn,
      mailNickname: upn.split('@')[0]!.replace(/[^A-Za-z0-9._-]/g, '_'),
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
      accountEnabled: true,
      userType,
      creationType: guest ? 'Invitation' : null,
      externalUserState: guest ? 'Accepted' : null,
      externalUserStateChangeDateTime: null,
      onPremisesSyncEnabled: null,
      assignedLicenses: [],
      usageLocation: null,
      identities: [{ signInType: 'userPrincipalName', issuer: this.defaultDomain, issuerAssignedId: upn }],
      deletedDateTime: null,
      signInSessionsValidFromDateTime: null,
      ...rest,
      id,
      userPrincipalName: upn,
    };
    for (const k of [
      'createdDateTime',
      'externalUserStateChangeDateTime',
      'lastPasswordChangeDateTime',
      'onPremisesLastSyncDateTime',
      'signInSessionsValidFromDateTime',
      'employeeHireDate',
      'employeeLeaveDateTime',
    ] as const) {
      if (props[k] !== undefined) props[k] = isoOrNull(props[k] as DateLike | null);
    }
    props.createdDateTime ??= iso(this.now());
    props.signInSessionsValidFromDateTime ??= props.createdDateTime;
    if (guest && props.externalUserState !== null) props.externalUserStateChangeDateTime ??= props.createdDateTime;
    props.signInActivity =
      signInActivity === undefined || signInActivity === null
        ? null
        : {
            lastSignInDateTime: isoOrNull(signInActivity.lastSignInDateTime),
            lastSignInRequestId:
              signInActivity.lastSignInRequestId ?? (signInActivity.lastSignInDateTime ? randomUUID() : null),
            lastNonInteractiveSignInDateTime: isoOrNull(signInActivity.lastNonInteractiveSignInDateTime),
            lastNonInteractiveSignInRequestId:
              signInActivity.lastNonInteractiveSignInRequestId ??
              (signInActivity.lastNonInteractiveSignInDateTime ? randomUUID() : null),
            lastSuccessfulSignInDateTime: isoOrNull(signInActivity.lastSuccessfulSignInDateTime),
            lastSuccessfulSignInRequestId:
              signInActivity.lastSuccessfulSignInRequestId ??
              (signInActivity.lastSuccessfulSignInDateTime ? randomUUID() : null),
          };
    const licences = (props.assignedLicenses as MSGraph.AssignedLicense[]).map((l) => ({
      disabledPlans: [...(l.disabledPlans ?? [])],
      skuId: String(l.skuId).toLowerCase(),
    }));
    props.assignedLicenses = licences;
    for (const l of licences)
      if (!this.skus.has(l.skuId)) this.skus.set(l.skuId, { skuId: l.skuId, skuPartNumber: l.skuId });

    const r: UserRecord = {
      seq: n,
      id,
      props,
      managerId: manager ? manager.toLowerCase() : null,
      groups: new Set(),
      roles: new Set(),
      appRoles: [],
      deleted: null,
    };
    this.live.set(id, r);
    this.byUpn.set(upnKey, id);
    this.order.push(r); // seq only grows, so the array stays sorted
    return r;
  }

  /** A live user by id or userPrincipalName (case-insensitive). */
  liveUser(idOrUpn: string): UserRecord | undefined {
    const k = idOrUpn.toLowerCase();
    return this.live.get(k) ?? this.live.get(this.byUpn.get(k) ?? '');
  }

  deletedRecord(id: string): UserRecord | undefined {
    this.purgeExpired();
    return this.deleted.get(id.toLowerCase());
  }

  get userCount(): number {
    return this.live.size;
  }

  /** Up to `top` live users after the one with sequence `afterSeq` (null: from the start). */
  usersPage(afterSeq: number | null, top: number): { users: UserRecord[]; more: boolean } {
    const start = afterSeq === null ? 0 : lowerBound(this.order, afterSeq + 1);
    const users = this.order.slice(start, start + top);
    return { users, more: start + top < this.order.length };
  }

  /** All live users (for filtered queries; O(users)). */
  allUsers(): UserRecord[] {
    return this.order;
  }

  deletedUsers(): UserRecord[] {
    this.purgeExpired();
    return [...this.deleted.values()].sort((a, b) => a.seq - b.seq);
  }

  /** A copy of a live user's Graph properties, or undefined. */
  user(idOrUpn: string): MSGraph.User | undefined {
    const r = this.liveUser(idOrUpn);
    return r ? this.userView(r) : undefined;
  }

  /** A copy of a soft-deleted user's Graph properties (with deletedDateTime), or undefined. */
  deletedUser(id: string): MSGraph.User | undefined {
    const r = this.deletedRecord(id);
    return r ? this.userView(r) : undefined;
  }

  /** Copies of all soft-deleted users still restorable. */
  deletedItems(): MSGraph.User[] {
    return this.deletedUsers().map((r) => this.userView(r));
  }

  private userView(r: UserRecord): MSGraph.User {
    return structuredClone(r.props) as MSGraph.User;
  }

  /** Change a live user's properties directly (test setup; no Graph rules applied). */
  updateUser(id: string, patch: FakeUserSeed): void {
    const r = this.liveUser(id);
    if (!r) throw new Error(`graph fake: no live user ${id}`);
    const { manager, signInActivity, ...rest } = patch;
    if (manager !== undefined) r.managerId = manager ? manager.toLowerCase() : null;
    if (signInActivity !== undefined) {
      const tmp = this.scratchUser({ signInActivity });
      r.props.signInActivity = tmp.signInActivity;
    }
    for (const [k, v] of Object.entries(rest)) {
      r.props[k] = v instanceof Date ? iso(v) : v;
    }
    if (rest.userPrincipalName !== undefined) this.reindexUpn();
  }

  private scratchUser(seed: FakeUserSeed): Record<string, unknown> {
    // Normalises a seed's dates the way insertUser does, without storing anything.
    const sia = seed.signInActivity;
    return {
      signInActivity:
        sia === null || sia === undefined
          ? null
          : {
              lastSignInDateTime: isoOrNull(sia.lastSignInDateTime),
              lastSignInRequestId: sia.lastSignInRequestId ?? (sia.lastSignInDateTime ? randomUUID() : null),
              lastNonInteractiveSignInDateTime: isoOrNull(sia.lastNonInteractiveSignInDateTime),
              lastNonInteractiveSignInRequestId:
                sia.lastNonInteractiveSignInRequestId ?? (sia.lastNonInteractiveSignInDateTime ? randomUUID() : null),
              lastSuccessfulSignInDateTime: isoOrNull(sia.lastSuccessfulSignInDateTime),
              lastSuccessfulSignInRequestId:
                sia.lastSuccessfulSignInRequestId ?? (sia.lastSuccessfulSignInDateTime ? randomUUID() : null),
            },
    };
  }

  private reindexUpn(): void {
    this.byUpn.clear();
    for (const r of this.order) this.byUpn.set(String(r.props.userPrincipalName).toLowerCase(), r.id);
  }

  /** The live manager of a user, or null. */
  managerOf(userId: string): UserRecord | null {
    const r = this.liveUser(userId);
    if (!r || !r.managerId) return null;
    return this.live.get(r.managerId) ?? null;
  }

  // ---- Graph writes (with the service's rules) -------------------------------------------------

  /** PATCH /users/{id}: validated by the API layer; applies a JSON patch. */
  patchUser(r: UserRecord, patch: Record<string, unknown>): void {
    if (r.props.onPremisesSyncEnabled === true && Object.keys(patch).some((k) => USER_ON_PREM_MASTERED.has(k))) {
      throw new DirectoryError(400, 'Request_BadRequest', ON_PREM_MASTERED_MESSAGE);
    }
    if (typeof patch.userPrincipalName === 'string') {
      const other = this.byUpn.get(patch.userPrincipalName.toLowerCase());
      if (other && other !== r.id) {
        throw new DirectoryError(
          400,
          'Request_BadRequest',
          'Another object with the same value for property userPrincipalName already exists.',
        );
      }
    }
    Object.assign(r.props, patch);
    if (patch.userPrincipalName !== undefined) this.reindexUpn();
  }

  revokeSessions(r: UserRecord, clientId: string | null): void {
    const at = this.now();
    r.props.signInSessionsValidFromDateTime = iso(at);
    this.revocations.push({ userId: r.id, at, clientId });
  }

  /**
   * DELETE /users/{id}: a soft delete. Directory role memberships, app role assignments and the
   * manager links (both ways) go; cloud group memberships are remembered for a restore, those
   * of synced or dynamic groups are not.
   */
  softDelete(r: UserRecord): void {
    if (r.props.onPremisesSyncEnabled === true) {
      throw new DirectoryError(400, 'Request_BadRequest', ON_PREM_MASTERED_MESSAGE);
    }
    const restorableGroups: string[] = [];
    for (const gid of r.groups) {
      const g = this.groups.get(gid);
      if (!g) continue;
      g.members.delete(r.id);
      if (g.props.onPremisesSyncEnabled !== true && !g.props.membershipRule) restorableGroups.push(gid);
    }
    for (const rid of r.roles) this.directoryRoles.get(rid)?.members.delete(r.id);
    r.groups.clear();
    r.roles.clear();
    r.appRoles = [];
    r.managerId = null;
    for (const other of this.order) if (other.managerId === r.id) other.managerId = null;
    const at = this.now();
    r.props.deletedDateTime = iso(at);
    this.deletions.set(r.id, typeof at === 'string' ? new Date(at) : at);
    r.deleted = { at, restorableGroups };
    this.live.delete(r.id);
    this.byUpn.delete(String(r.props.userPrincipalName).toLowerCase());
    const idx = lowerBound(this.order, r.seq);
    if (this.order[idx] === r) this.order.splice(idx, 1);
    this.deleted.set(r.id, r);
  }

  /** POST /directory/deletedItems/{id}/restore */
  restore(id: string): UserRecord {
    const r = this.deletedRecord(id);
    if (!r) throw notFound(id);
    const upnKey = String(r.props.userPrincipalName).toLowerCase();
    if (this.byUpn.has(upnKey)) {
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        'Another object with the same value for property userPrincipalName already exists.',
      );
    }
    const restorable = r.deleted?.restorableGroups ?? [];
    this.deleted.delete(r.id);
    r.deleted = null;
    r.props.deletedDateTime = null;
    for (const gid of restorable) {
      const g = this.groups.get(gid);
      if (!g) continue;
      g.members.add(r.id);
      r.groups.add(gid);
    }
    this.live.set(r.id, r);
    this.byUpn.set(upnKey, r.id);
    this.order.splice(lowerBound(this.order, r.seq), 0, r);
    return r;
  }

  /** DELETE /directory/deletedItems/{id} */
  permanentlyDelete(id: string): void {
    const r = this.deletedRecord(id);
    if (!r) throw notFound(id);
    this.deleted.delete(r.id);
    this.signIns.delete(r.id);
  }

  /** Purges soft-deleted users older than the retention period (by the directory clock). */
  purgeExpired(): void {
    if (this.deleted.size === 0) return;
    const limit = this.now().getTime() - this.retentionDays * 86_400_000;
    for (const [id, r] of this.deleted) {
      if (r.deleted && r.deleted.at.getTime() <= limit) {
        this.deleted.delete(id);
        this.signIns.delete(id);
        this.purged.push(id);
      }
    }
  }

  assignLicenses(r: UserRecord, add: { skuId: string; disabledPlans: string[] }[], remove: string[]): void {
    const current = (r.props.assignedLicenses as { skuId: string; disabledPlans: string[] }[]).map((l) => ({ ...l }));
    for (const skuId of [...add.map((a) => a.skuId), ...remove]) {
      if (!this.skus.has(skuId)) {
        throw new DirectoryError(
          400,
          'Request_BadRequest',
          `License ${skuId} does not correspond to a valid company License.`,
        );
      }
    }
    if (add.length > 0 && !r.props.usageLocation) {
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        'License assignment cannot be done for user with invalid usage location.',
      );
    }
    for (const skuId of remove) {
      const i = current.findIndex((l) => l.skuId === skuId);
      if (i === -1) {
        throw new DirectoryError(
          400,
          'Request_BadRequest',
          `User does not have a corresponding license (skuId ${skuId}) to remove.`,
        );
      }
      current.splice(i, 1);
    }
    for (const a of add) {
      const i = current.findIndex((l) => l.skuId === a.skuId);
      if (i === -1) current.push({ disabledPlans: [...a.disabledPlans], skuId: a.skuId });
      else current[i] = { disabledPlans: [...a.disabledPlans], skuId: a.skuId };
    }
    r.props.assignedLicenses = current;
  }

  setManager(r: UserRecord, managerId: string): void {
    const m = this.live.get(managerId.toLowerCase());
    if (!m) throw notFound(managerId);
    if (m.id === r.id) throw new DirectoryError(400, 'Request_BadRequest', 'A user cannot be their own manager.');
    r.managerId = m.id;
  }

  removeManager(r: UserRecord): void {
    if (!r.managerId || !this.live.has(r.managerId)) throw notFound('manager');
    r.managerId = null;
  }

  // ---- groups --------------------------------------------------------------------------------

  addGroup(seed: FakeGroupSeed): MSGraph.Group {
    const id = (seed.id ?? randomUUID()).toLowerCase();
    if (this.groups.has(id)) throw new Error(`graph fake: group ${id} already exists`);
    const props: Record<string, unknown> = {
      id,
      deletedDateTime: null,
      classification: null,
      createdDateTime: iso(seed.createdDateTime ?? this.now()),
      description: seed.description ?? null,
      displayName: seed.displayName,
      expirationDateTime: null,
      groupTypes: seed.groupTypes ?? (seed.membershipRule ? ['DynamicMembership'] : []),
      isAssignableToRole: seed.isAssignableToRole ?? null,
      mail: seed.mail ?? null,
      mailEnabled: seed.mailEnabled ?? false,
      mailNickname: seed.displayName.replace(/[^A-Za-z0-9]/g, '').slice(0, 64) || 'group',
      membershipRule: seed.membershipRule ?? null,
      membershipRuleProcessingState: seed.membershipRule ? 'On' : null,
      onPremisesSyncEnabled: seed.onPremisesSyncEnabled ?? null,
      proxyAddresses: [],
      securityEnabled: seed.securityEnabled ?? true,
      securityIdentifier: `S-1-12-1-${randomBytes(4).readUInt32BE()}`,
      visibility: null,
    };
    const g: GroupRecord = { id, props, members: new Set() };
    this.groups.set(id, g);
    for (const m of seed.members ?? []) this.addMemberDirect(g, m);
    return structuredClone(props) as MSGraph.Group;
  }

  /** Test setup: add a member without Graph's rules (but the member must exist). */
  addMemberDirect(g: GroupRecord | string, memberId: string): void {
    const group = typeof g === 'string' ? this.groups.get(g.toLowerCase()) : g;
    if (!group) throw new Error(`graph fake: no group ${String(g)}`);
    const id = memberId.toLowerCase();
    const user = this.live.get(id);
    if (user) {
      group.members.add(id);
      user.groups.add(group.id);
      return;
    }
    if (this.groups.has(id)) {
      group.members.add(id);
      return;
    }
    throw new Error(`graph fake: no user or group ${memberId} to add to ${group.id}`);
  }

  /** POST /groups/{id}/members/$ref */
  addGroupMember(groupId: string, memberId: string): void {
    const g = this.groups.get(groupId.toLowerCase());
    if (!g) throw notFound(groupId);
    const id = memberId.toLowerCase();
    if (!this.live.has(id) && !this.groups.has(id)) throw notFound(memberId);
    if (g.props.onPremisesSyncEnabled === true)
      throw new DirectoryError(400, 'Request_BadRequest', ON_PREM_MASTERED_MESSAGE);
    if (g.props.membershipRule) {
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        'Insufficient privileges to complete the operation. Members of a dynamic group are managed by its membership rule.',
      );
    }
    if (g.members.has(id)) {
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    }
    this.addMemberDirect(g, id);
  }

  /** DELETE /groups/{id}/members/{memberId}/$ref */
  removeGroupMember(groupId: string, memberId: string): void {
    const g = this.groups.get(groupId.toLowerCase());
    if (!g) throw notFound(groupId);
    const id = memberId.toLowerCase();
    if (!g.members.has(id)) throw notFound(memberId);
    if (g.props.onPremisesSyncEnabled === true)
      throw new DirectoryError(400, 'Request_BadRequest', ON_PREM_MASTERED_MESSAGE);
    g.members.delete(id);
    this.live.get(id)?.groups.delete(g.id);
  }

  /** Live member users of a group, through nested groups. */
  transitiveUsers(g: GroupRecord): { users: UserRecord[]; groups: GroupRecord[] } {
    const users = new Map<string, UserRecord>();
    const groups = new Map<string, GroupRecord>();
    const queue = [g];
    const seen = new Set([g.id]);
    while (queue.length > 0) {
      const cur = queue.shift()!;
      for (const m of cur.members) {
        const u = this.live.get(m);
        if (u) users.set(u.id, u);
        const sub = this.groups.get(m);
        if (sub && !seen.has(sub.id)) {
          seen.add(sub.id);
          groups.set(sub.id, sub);
          queue.push(sub);
        }
      }
    }
    return {
      users: [...users.values()].sort((a, b) => a.seq - b.seq),
      groups: [...groups.values()],
    };
  }

  /** Ids of a group's direct members. */
  groupMembers(groupId: string): string[] {
    return [...(this.groups.get(groupId.toLowerCase())?.members ?? [])];
  }

  // ---- directory roles -----------------------------------------------------------------------

  addDirectoryRole(seed: FakeDirectoryRoleSeed): MSGraph.DirectoryRole {
    const templateId = seed.roleTemplateId ?? (ROLE_TEMPLATES as Record<string, string | undefined>)[seed.displayName];
    if (!templateId) throw new Error(`graph fake: no roleTemplateId for ${seed.displayName}`);
    const id = (seed.id ?? randomUUID()).toLowerCase();
    const props = {
      id,
      deletedDateTime: null,
      description: seed.description ?? `Members of this role: ${seed.displayName}.`,
      displayName: seed.displayName,
      roleTemplateId: templateId,
    };
    const role: RoleRecord = { id, props, members: new Set() };
    this.directoryRoles.set(id, role);
    for (const m of seed.members ?? []) this.addRoleMemberDirect(role, m);
    return structuredClone(props);
  }

  private addRoleMemberDirect(role: RoleRecord, memberId: string): void {
    const id = memberId.toLowerCase();
    // A role-assignable group holds the role for its members (test setup does not check isAssignableToRole).
    if (this.groups.has(id)) {
      role.members.add(id);
      return;
    }
    const u = this.live.get(id);
    if (!u) throw new Error(`graph fake: no user or group ${memberId} for role ${role.props.displayName as string}`);
    role.members.add(u.id);
    u.roles.add(role.id);
  }

  /** Test setup: add many users to a role at once (ids as addUsers returns them). */
  addRoleMembers(roleId: string, memberIds: string[]): void {
    const role = this.findRole(roleId);
    if (!role) throw new Error(`graph fake: no role ${roleId}`);
    for (const m of memberIds) this.addRoleMemberDirect(role, m);
  }

  /** The groups a live user is in, directly or through nested groups. */
  transitiveGroupsOf(userId: string): GroupRecord[] {
    const u = this.live.get(userId.toLowerCase());
    if (!u) return [];
    const out = new Map<string, GroupRecord>();
    const queue = [...u.groups];
    while (queue.length > 0) {
      const gid = queue.shift()!;
      if (out.has(gid)) continue;
      const g = this.groups.get(gid);
      if (!g) continue;
      out.set(gid, g);
      for (const parent of this.groups.values()) if (parent.members.has(gid)) queue.push(parent.id);
    }
    return [...out.values()];
  }

  /** The directory roles a live user holds, directly or through a (role-assignable) group. */
  transitiveRolesOf(userId: string): RoleRecord[] {
    const u = this.live.get(userId.toLowerCase());
    if (!u) return [];
    const via = new Set([u.id, ...this.transitiveGroupsOf(u.id).map((g) => g.id)]);
    return [...this.directoryRoles.values()].filter((r) => [...r.members].some((m) => via.has(m)));
  }

  /** PIM: make a user or group eligible for a directory role. */
  addRoleEligibility(seed: FakeRoleEligibilitySeed): RoleEligibilityRecord {
    const roleDefinitionId = (
      seed.roleDefinitionId ??
      (seed.roleName ? (ROLE_TEMPLATES as Record<string, string | undefined>)[seed.roleName] : undefined)
    )?.toLowerCase();
    if (!roleDefinitionId) throw new Error(`graph fake: no roleDefinitionId for ${seed.roleName ?? '?'}`);
    const principalId = seed.principalId.toLowerCase();
    if (!this.live.has(principalId) && !this.groups.has(principalId)) {
      throw new Error(`graph fake: no user or group ${seed.principalId} to make eligible`);
    }
    const r: RoleEligibilityRecord = {
      id: seed.id ?? randomUUID(),
      principalId,
      roleDefinitionId,
      directoryScopeId: seed.directoryScopeId ?? '/',
      startDateTime: iso(seed.startDateTime ?? this.now()),
      endDateTime: isoOrNull(seed.endDateTime ?? null),
    };
    this.roleEligibilities.push(r);
    return r;
  }

  /** POST /directoryRoles/{id}/members/$ref */
  addDirectoryRoleMember(roleId: string, memberId: string): void {
    const role = this.findRole(roleId);
    if (!role) throw notFound(roleId);
    const u = this.live.get(memberId.toLowerCase());
    if (!u) throw notFound(memberId);
    if (role.members.has(u.id)) {
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    }
    this.addRoleMemberDirect(role, u.id);
  }

  /** DELETE /directoryRoles/{id}/members/{memberId}/$ref */
  removeDirectoryRoleMember(roleId: string, memberId: string): void {
    const role = this.findRole(roleId);
    if (!role) throw notFound(roleId);
    const id = memberId.toLowerCase();
    if (!role.members.has(id)) throw notFound(memberId);
    role.members.delete(id);
    this.live.get(id)?.roles.delete(role.id);
  }

  /** A role by its id, or by roleTemplateId (Graph accepts roleTemplateId=… and the id). */
  findRole(idOrTemplate: string): RoleRecord | undefined {
    const k = idOrTemplate.toLowerCase();
    return this.directoryRoles.get(k) ?? [...this.directoryRoles.values()].find((r) => r.props.roleTemplateId === k);
  }

  roleMembers(roleId: string): string[] {
    return [...(this.findRole(roleId)?.members ?? [])];
  }

  // ---- service principals and app role assignments -------------------------------------------

  addServicePrincipal(seed: FakeServicePrincipalSeed): ServicePrincipalRecord {
    const sp: ServicePrincipalRecord = {
      id: (seed.id ?? randomUUID()).toLowerCase(),
      appId: (seed.appId ?? randomUUID()).toLowerCase(),
      displayName: seed.displayName,
      appRoles: (seed.appRoles ?? []).map((r) => ({
        id: (r.id ?? randomUUID()).toLowerCase(),
        value: r.value,
        displayName: r.displayName ?? r.value,
      })),
    };
    this.servicePrincipals.set(sp.id, sp);
    return sp;
  }

  /** Test setup: an app role assignment for a user (resource made on the fly if needed). */
  addAppRoleAssignment(seed: FakeAppRoleAssignmentSeed): MSGraph.AppRoleAssignment {
    const u = this.live.get(seed.principalId.toLowerCase());
    if (!u) throw new Error(`graph fake: no user ${seed.principalId}`);
    let sp = seed.resourceId ? this.servicePrincipals.get(seed.resourceId.toLowerCase()) : undefined;
    if (!sp) {
      if (seed.resourceId) throw new Error(`graph fake: no service principal ${seed.resourceId}`);
      const name = seed.resourceDisplayName ?? 'Example App';
      sp =
        [...this.servicePrincipals.values()].find((s) => s.displayName === name) ??
        this.addServicePrincipal({ displayName: name });
    }
    const a: AppRoleAssignmentRecord = {
      id: seed.id ?? appRoleAssignmentId(),
      appRoleId: (seed.appRoleId ?? DEFAULT_ACCESS_ROLE).toLowerCase(),
      createdDateTime: iso(seed.createdDateTime ?? this.now()),
      principalId: u.id,
      resourceId: sp.id,
    };
    if (a.appRoleId !== DEFAULT_ACCESS_ROLE && !sp.appRoles.some((r) => r.id === a.appRoleId)) {
      sp.appRoles.push({ id: a.appRoleId, value: `role.${sp.appRoles.length + 1}`, displayName: 'Role' });
    }
    u.appRoles.push(a);
    return this.appRoleAssignmentView(a);
  }

  /** POST /users/{id}/appRoleAssignments */
  assignAppRole(
    r: UserRecord,
    body: { principalId: string; resourceId: string; appRoleId: string },
  ): AppRoleAssignmentRecord {
    if (body.principalId.toLowerCase() !== r.id) {
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        'The principalId in the request body must match the user in the URL.',
      );
    }
    const sp = this.servicePrincipals.get(body.resourceId.toLowerCase());
    if (!sp) throw notFound(body.resourceId);
    const appRoleId = body.appRoleId.toLowerCase();
    if (appRoleId !== DEFAULT_ACCESS_ROLE && !sp.appRoles.some((x) => x.id === appRoleId)) {
      throw new DirectoryError(400, 'Request_BadRequest', 'Permission being assigned was not found on application');
    }
    if (r.appRoles.some((x) => x.resourceId === sp.id && x.appRoleId === appRoleId)) {
      throw new DirectoryError(400, 'Request_BadRequest', 'Permission being assigned already exists on the object');
    }
    const a: AppRoleAssignmentRecord = {
      id: appRoleAssignmentId(),
      appRoleId,
      createdDateTime: iso(this.now()),
      principalId: r.id,
      resourceId: sp.id,
    };
    r.appRoles.push(a);
    return a;
  }

  removeAppRoleAssignment(r: UserRecord, assignmentId: string): void {
    const i = r.appRoles.findIndex((a) => a.id === assignmentId);
    if (i === -1) throw notFound(assignmentId);
    r.appRoles.splice(i, 1);
  }

  appRoleAssignmentView(a: AppRoleAssignmentRecord): MSGraph.AppRoleAssignment {
    const u = this.live.get(a.principalId) ?? this.deleted.get(a.principalId);
    return {
      id: a.id,
      deletedDateTime: null,
      appRoleId: a.appRoleId,
      createdDateTime: a.createdDateTime,
      principalDisplayName: (u?.props.displayName as string | undefined) ?? null,
      principalId: a.principalId,
      principalType: 'User',
      resourceDisplayName: this.servicePrincipals.get(a.resourceId)?.displayName ?? null,
      resourceId: a.resourceId,
    };
  }

  /** Copies of a live user's app role assignments. */
  appRoleAssignments(userId: string): MSGraph.AppRoleAssignment[] {
    return (this.liveUser(userId)?.appRoles ?? []).map((a) => this.appRoleAssignmentView(a));
  }

  /** Ids of the groups / roles a live user is a direct member of. */
  memberOf(userId: string): { groups: string[]; roles: string[] } {
    const r = this.liveUser(userId);
    return { groups: [...(r?.groups ?? [])], roles: [...(r?.roles ?? [])] };
  }

  // ---- licences --------------------------------------------------------------------------------

  addSku(seed: FakeSkuSeed): { skuId: string; skuPartNumber: string } {
    const sku = { skuId: (seed.skuId ?? randomUUID()).toLowerCase(), skuPartNumber: seed.skuPartNumber };
    this.skus.set(sku.skuId, sku);
    return sku;
  }

  // ---- sign-in logs --------------------------------------------------------------------------

  addSignIn(seed: FakeSignInSeed): MSGraph.SignIn {
    const userId = seed.userId.toLowerCase();
    const u = this.live.get(userId) ?? this.deleted.get(userId);
    const at = new Date(seed.createdDateTime);
    const props: Record<string, unknown> = {
      id: seed.id ?? randomUUID(),
      createdDateTime: iso(at),
      userDisplayName: (u?.props.displayName as string | undefined) ?? null,
      userPrincipalName: (u?.props.userPrincipalName as string | undefined) ?? null,
      userId,
      appId: seed.appId ?? randomUUID(),
      appDisplayName: seed.appDisplayName ?? 'Office 365 Exchange Online',
      ipAddress: seed.ipAddress ?? '203.0.113.10',
      clientAppUsed: seed.clientAppUsed ?? 'Browser',
      correlationId: randomUUID(),
      conditionalAccessStatus: seed.conditionalAccessStatus ?? 'notApplied',
      isInteractive: seed.isInteractive ?? true,
      riskDetail: 'none',
      riskLevelAggregated: 'none',
      riskLevelDuringSignIn: 'none',
      riskState: 'none',
      riskEventTypes: [],
      riskEventTypes_v2: [],
      resourceDisplayName: seed.resourceDisplayName ?? 'Office 365 Exchange Online',
      resourceId: seed.resourceId ?? '00000002-0000-0ff1-ce00-000000000000',
      status: { errorCode: 0, failureReason: null, additionalDetails: null, ...seed.status },
      deviceDetail: {
        deviceId: '',
        displayName: null,
        operatingSystem: 'Windows 10',
        browser: 'Edge 120.0.0',
        isCompliant: false,
        isManaged: false,
        trustType: null,
        ...seed.deviceDetail,
      },
      location: {
        city: 'Redmond',
        state: 'Washington',
        countryOrRegion: 'US',
        geoCoordinates: { altitude: null, latitude: 47.67, longitude: -122.12 },
        ...seed.location,
      },
      appliedConditionalAccessPolicies: [],
    };
    const list = this.signIns.get(userId) ?? [];
    list.push({ at: at.getTime(), props });
    this.signIns.set(userId, list);
    this.unsortedSignIns.add(userId);
    return structuredClone(props) as MSGraph.SignIn;
  }

  /** A user's sign-ins, newest first. */
  signInsOf(userId: string): SignInRecord[] {
    const k = userId.toLowerCase();
    const list = this.signIns.get(k) ?? [];
    if (this.unsortedSignIns.has(k)) {
      list.sort((a, b) => b.at - a.at);
      this.unsortedSignIns.delete(k);
    }
    return list;
  }

  /** Every sign-in, newest first (O(sign-ins)). */
  allSignIns(): SignInRecord[] {
    const all: SignInRecord[] = [];
    for (const k of this.signIns.keys()) all.push(...this.signInsOf(k));
    return all.sort((a, b) => b.at - a.at);
  }
}

/** The resources Graph tokens may be asked for. */
export function isGraphResource(resource: string, origins: string[]): boolean {
  const r = resource.replace(/\/+$/, '').toLowerCase();
  return r === 'https://graph.microsoft.com' || r === GRAPH_APP_ID || origins.some((o) => o.toLowerCase() === r);
}
