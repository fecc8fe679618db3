/**
 * The state of the in-memory Google Workspace tenant (DESIGN §2d, §6): users (live, and deleted
 * for 20 days), aliases, groups and their members, and the login audit of the Reports API. Tests
 * and the demo seed it; the routes of ./directory.ts read and change it. Resources follow the
 * Admin SDK `users`, `groups` and `activities` references field by field (@googleapis/admin types).
 */
import type { admin_directory_v1 as dir, admin_reports_v1 as rep } from '@googleapis/admin';

/** Google's "never signed in": the epoch, not a date. */
export const NEVER = '1970-01-01T00:00:00.000Z';
/** Google keeps a deleted user this long; after that it is purged and cannot be undeleted. */
export const UNDELETE_DAYS = 20;
const DAY_MS = 86_400_000;

type DateLike = string | Date;
const iso = (d: DateLike) => new Date(d).toISOString();

/** A user as a test describes it; everything not given gets a realistic default. */
export interface WorkspaceUserSeed {
  primaryEmail: string;
  id?: string;
  givenName?: string;
  familyName?: string;
  isAdmin?: boolean;
  isDelegatedAdmin?: boolean;
  /** null: never signed in (Google's 1970-01-01T00:00:00.000Z). Default: never. */
  lastLoginTime?: DateLike | null;
  creationTime?: DateLike;
  suspended?: boolean;
  suspensionReason?: 'ADMIN' | 'WEB_LOGIN_REQUIRED' | 'UNDER13' | 'ABUSE';
  archived?: boolean;
  orgUnitPath?: string;
  aliases?: string[];
  nonEditableAliases?: string[];
  isEnrolledIn2Sv?: boolean;
  isEnforcedIn2Sv?: boolean;
  isMailboxSetup?: boolean;
  recoveryEmail?: string;
}

interface DeletedUser {
  user: dir.Schema$User;
  deletionTime: string;
}

interface GroupRecord {
  group: dir.Schema$Group;
  /** User id → role. */
  members: Map<string, 'OWNER' | 'MANAGER' | 'MEMBER'>;
}

/** One Workspace customer's directory and login audit. */
export class WorkspaceState {
  readonly customerId: string;
  readonly domain: string;
  private readonly clock: () => Date;
  private readonly users = new Map<string, dir.Schema$User>();
  private readonly deleted = new Map<string, DeletedUser>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly logins: rep.Schema$Activity[] = [];
  private readonly reportsDenied = new Set<string>();
  private seq = 0;

  constructor(options: { customerId?: string; domain?: string; clock?: () => Date } = {}) {
    this.customerId = options.customerId ?? 'C03az79cb';
    this.domain = options.domain ?? 'example.com';
    this.clock = options.clock ?? (() => new Date());
  }

  private etag(): string {
    this.seq += 1;
    return `"${Buffer.from(`etag-${this.seq}`).toString('base64url')}/${this.seq.toString(36)}"`;
  }

  addUser(seed: WorkspaceUserSeed): dir.Schema$User {
    this.seq += 1;
    const id = seed.id ?? String(100000000000000000000n + BigInt(this.seq * 7919));
    if (this.lookup(seed.primaryEmail) || this.users.has(id))
      throw new Error(`directory fake: ${seed.primaryEmail} exists`);
    const local = seed.primaryEmail.split('@')[0] ?? 'user';
    const givenName = seed.givenName ?? local.charAt(0).toUpperCase() + local.slice(1);
    const familyName = seed.familyName ?? 'Example';
    const user: dir.Schema$User = {
      kind: 'admin#directory#user',
      id,
      etag: this.etag(),
      primaryEmail: seed.primaryEmail,
      name: { givenName, familyName, fullName: `${givenName} ${familyName}` },
      isAdmin: seed.isAdmin ?? false,
      isDelegatedAdmin: seed.isDelegatedAdmin ?? false,
      lastLoginTime: seed.lastLoginTime ? iso(seed.lastLoginTime) : NEVER,
      creationTime: iso(seed.creationTime ?? this.clock()),
      agreedToTerms: !!seed.lastLoginTime,
      suspended: seed.suspended ?? false,
      ...(seed.suspended ? { suspensionReason: seed.suspensionReason ?? 'ADMIN' } : {}),
      archived: seed.archived ?? false,
      changePasswordAtNextLogin: false,
      ipWhitelisted: false,
      emails: [{ address: seed.primaryEmail, primary: true }],
      aliases: [...(seed.aliases ?? [])],
      ...(seed.nonEditableAliases ? { nonEditableAliases: seed.nonEditableAliases } : {}),
      customerId: this.customerId,
      orgUnitPath: seed.orgUnitPath ?? '/',
      isMailboxSetup: seed.isMailboxSetup ?? true,
      isEnrolledIn2Sv: seed.isEnrolledIn2Sv ?? false,
      isEnforcedIn2Sv: seed.isEnforcedIn2Sv ?? false,
      includeInGlobalAddressList: true,
      ...(seed.recoveryEmail ? { recoveryEmail: seed.recoveryEmail } : {}),
    };
    this.users.set(id, user);
    return structuredClone(user);
  }

  addGroup(seed: { email: string; name?: string; description?: string; id?: string }): dir.Schema$Group {
    this.seq += 1;
    const id = seed.id ?? `0${(1_000_000_000_000 + this.seq * 104729).toString(36)}`;
    const group: dir.Schema$Group = {
      kind: 'admin#directory#group',
      id,
      etag: this.etag(),
      email: seed.email,
      name: seed.name ?? seed.email.split('@')[0],
      description: seed.description ?? '',
      adminCreated: true,
    };
    this.groups.set(id, { group, members: new Map() });
    return structuredClone(group);
  }

  addMember(groupKey: string, userKey: string, role: 'OWNER' | 'MANAGER' | 'MEMBER' = 'MEMBER'): void {
    const g = this.group(groupKey);
    const u = this.lookup(userKey);
    if (!g || !u?.id) throw new Error(`directory fake: no group ${groupKey} or user ${userKey}`);
    g.members.set(u.id, role);
  }

  /** A login audit event; a successful one also moves the user's lastLoginTime forward. */
  addLogin(
    userKey: string,
    e: { at: DateLike; name?: string; ipAddress?: string; loginType?: string; isSuspicious?: boolean },
  ): rep.Schema$Activity {
    const u = this.lookup(userKey);
    if (!u?.id) throw new Error(`directory fake: no user ${userKey}`);
    const name = e.name ?? 'login_success';
    this.seq += 1;
    const activity: rep.Schema$Activity = {
      kind: 'admin#reports#activity',
      id: {
        time: iso(e.at),
        uniqueQualifier: String(-4_000_000_000_000_000_000n + BigInt(this.seq * 611953)),
        applicationName: 'login',
        customerId: this.customerId,
      },
      etag: this.etag(),
      actor: { callerType: 'USER', email: u.primaryEmail!, profileId: u.id },
      ipAddress: e.ipAddress ?? '203.0.113.10',
      events: [
        {
          type: name === 'logout' ? 'logout' : 'login',
          name,
          parameters: [
            { name: 'login_type', value: e.loginType ?? 'google_password' },
            { name: 'login_challenge_method', multiValue: ['password'] },
            { name: 'is_suspicious', boolValue: e.isSuspicious ?? false },
          ],
        },
      ],
    };
    this.logins.push(activity);
    if (name === 'login_success' && Date.parse(iso(e.at)) > Date.parse(u.lastLoginTime ?? NEVER)) {
      u.lastLoginTime = iso(e.at);
      u.agreedToTerms = true;
    }
    return structuredClone(activity);
  }

  /** Who the core lets act through domain-wide delegation: a live, unsuspended super or delegated admin. */
  isAdmin(email: string): boolean {
    const u = this.lookup(email);
    return !!u && !u.suspended && (u.isAdmin === true || u.isDelegatedAdmin === true);
  }

  /** Does a live user have this address (a `sub` that does not is refused at the token endpoint)? */
  userExists(email: string): boolean {
    return this.lookup(email) !== undefined;
  }

  /** An admin whose role lacks the Reports privilege: the Reports API refuses it (403). */
  denyReports(email: string): void {
    this.reportsDenied.add(email.toLowerCase());
  }

  /** A live user by id, primary email or alias (emails case-insensitive), as stored (tests may edit it). */
  lookup(key: string): dir.Schema$User | undefined {
    const byId = this.users.get(key);
    if (byId) return byId;
    const k = key.toLowerCase();
    for (const u of this.users.values()) {
      if (u.primaryEmail?.toLowerCase() === k || u.aliases?.some((a) => a.toLowerCase() === k)) return u;
    }
    return undefined;
  }

  /** A deleted user still within its 20 days, by id. */
  deletedUser(id: string, now: Date = this.clock()): DeletedUser | undefined {
    const d = this.deleted.get(id);
    if (d && now.getTime() - Date.parse(d.deletionTime) > UNDELETE_DAYS * DAY_MS) this.deleted.delete(id);
    return this.deleted.get(id);
  }

  liveGroups(): GroupRecord[] {
    return [...this.groups.values()];
  }

  group(key: string): GroupRecord | undefined {
    const k = key.toLowerCase();
    return this.groups.get(key) ?? [...this.groups.values()].find((g) => g.group.email?.toLowerCase() === k);
  }

  /** The user ids and roles of a group's members. */
  membersOf(groupKey: string): Map<string, string> {
    return new Map(this.group(groupKey)?.members ?? []);
  }

  /** The user resource as the API returns it (aliases only when there are some, like Google). */
  view(u: dir.Schema$User, projection = 'basic'): dir.Schema$User {
    const out = structuredClone(u);
    out.emails = [{ address: u.primaryEmail, primary: true }, ...(u.aliases ?? []).map((a) => ({ address: a }))];
    if (!out.aliases?.length) delete out.aliases;
    if (projection === 'basic') delete out.customSchemas;
    return out;
  }

  liveUsers(): dir.Schema$User[] {
    return [...this.users.values()];
  }

  deletedUsers(now: Date): dir.Schema$User[] {
    return [...this.deleted.keys()].flatMap((id) => {
      const d = this.deletedUser(id, now);
      return d ? [{ ...d.user, deletionTime: d.deletionTime }] : [];
    });
  }

  /** DELETE: the user leaves its groups and frees its aliases (undelete brings neither back). */
  remove(u: dir.Schema$User, now: Date): void {
    this.users.delete(u.id!);
    for (const g of this.groups.values()) g.members.delete(u.id!);
    this.deleted.set(u.id!, { user: { ...structuredClone(u), aliases: [] }, deletionTime: now.toISOString() });
  }

  undelete(id: string, orgUnitPath: string): void {
    const d = this.deleted.get(id)!;
    this.deleted.delete(id);
    this.users.set(id, { ...d.user, orgUnitPath, etag: this.etag() });
  }

  touch(u: dir.Schema$User): void {
    u.etag = this.etag();
  }

  loginEvents(): rep.Schema$Activity[] {
    return this.logins;
  }

  reportsAllowed(subject: string | null): boolean {
    return !subject || !this.reportsDenied.has(subject.toLowerCase());
  }
}
