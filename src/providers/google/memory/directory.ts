/**
 * The in-memory Admin SDK Directory API (users, aliases, groups, members) and Reports API (login
 * audit) of one Workspace tenant, as routes for the core in google-memory.ts. Requests are checked
 * the way Google does (scopes per method, `maxResults` bounds, `pageToken`, userKey = id, primary
 * email or alias) and answered in Google's shapes and errors (`Resource Not Found: userKey`,
 * `Entity already exists.`, `Not Authorized to access this resource/api`).
 */
import type { admin_directory_v1 as dir } from '@googleapis/admin';
import { googleError, page, type FakeRequest, type FakeResponse, type FakeRoute } from './fake-types.js';
import type { WorkspaceState } from './workspace-state.js';

export { NEVER, UNDELETE_DAYS, WorkspaceState, type WorkspaceUserSeed } from './workspace-state.js';

const A = 'https://www.googleapis.com/auth/admin.';
/** Each method's accepted scopes, as its reference page lists them. */
export const DIRECTORY_SCOPES = {
  userRead: [`${A}directory.user`, `${A}directory.user.readonly`, 'https://www.googleapis.com/auth/cloud-platform'],
  userWrite: [`${A}directory.user`],
  aliasRead: [
    `${A}directory.user`,
    `${A}directory.user.alias`,
    `${A}directory.user.alias.readonly`,
    `${A}directory.user.readonly`,
  ],
  aliasWrite: [`${A}directory.user`, `${A}directory.user.alias`],
  groupRead: [`${A}directory.group`, `${A}directory.group.readonly`],
  memberRead: [
    `${A}directory.group`,
    `${A}directory.group.member`,
    `${A}directory.group.member.readonly`,
    `${A}directory.group.readonly`,
  ],
  memberWrite: [`${A}directory.group`, `${A}directory.group.member`],
  reports: [`${A}reports.audit.readonly`],
} as const;

const D = '/admin/directory/v1';
const ok = (body: unknown): FakeResponse => ({ status: 200, body });
const notFound = (what: string) => googleError(404, `Resource Not Found: ${what}`, 'notFound');
const invalid = (message: string) => googleError(400, message, 'invalid');
const key = (m: RegExpExecArray, i = 1) => decodeURIComponent(m[i] ?? '');

/** `maxResults` as Google checks it: an integer in [1, max], or the default. */
function maxResults(req: FakeRequest, max: number, fallback: number): number | FakeResponse {
  const raw = req.url.searchParams.get('maxResults');
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    return invalid(`Invalid value '${raw}'. Values must be within the range: [1, ${max}]`);
  return n;
}

function paged<T>(
  req: FakeRequest,
  items: readonly T[],
  size: number,
): { items: T[]; nextPageToken?: string } | FakeResponse {
  try {
    return page(items, req.url.searchParams.get('pageToken'), size);
  } catch {
    return invalid('Invalid Input: pageToken');
  }
}

const isResponse = (v: unknown): v is FakeResponse =>
  typeof v === 'object' && v !== null && 'status' in v && !('items' in v);

const USER_FIELDS = new Set(
  (
    'addresses agreedToTerms aliases archivalTime archived changePasswordAtNextLogin creationTime customerId customSchemas deletionTime ' +
    'emails etag externalIds gender guestAccountInfo hashFunction id ims includeInGlobalAddressList ipWhitelisted isAdmin ' +
    'isDelegatedAdmin isEnforcedIn2Sv isEnrolledIn2Sv isGuestUser isMailboxSetup keywords kind languages lastLoginTime locations ' +
    'name nonEditableAliases notes organizations orgUnitPath password phones posixAccounts primaryEmail recoveryEmail ' +
    'recoveryPhone relations sshPublicKeys suspended suspensionReason suspensionTime thumbnailPhotoEtag thumbnailPhotoUrl websites'
  ).split(' '),
);
/** What users.update/patch change; the rest is output only, and Google ignores it. */
const WRITABLE = [
  'name',
  'suspended',
  'archived',
  'orgUnitPath',
  'changePasswordAtNextLogin',
  'includeInGlobalAddressList',
  'recoveryEmail',
  'recoveryPhone',
  'ipWhitelisted',
];

function update(state: WorkspaceState, req: FakeRequest, m: RegExpExecArray): FakeResponse {
  const u = state.lookup(key(m));
  if (!u) return notFound('userKey');
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return googleError(400, 'Invalid Input', 'invalid');
  const patch = body as Record<string, unknown>;
  const unknown = Object.keys(patch).find((k) => !USER_FIELDS.has(k));
  if (unknown)
    return googleError(400, `Invalid JSON payload received. Unknown name "${unknown}": Cannot find field.`, 'invalid');
  for (const field of WRITABLE) {
    if (!(field in patch)) continue;
    const value = patch[field];
    if ((field === 'suspended' || field === 'archived') && typeof value !== 'boolean')
      return invalid(`Invalid value for ${field}`);
    if (field === 'orgUnitPath' && (typeof value !== 'string' || !value.startsWith('/')))
      return invalid('Invalid Input: INVALID_OU_ID');
    if (field === 'name') u.name = { ...u.name, ...(value as object) };
    else (u as Record<string, unknown>)[field] = value;
  }
  if ('suspended' in patch) {
    if (u.suspended) Object.assign(u, { suspensionReason: 'ADMIN', suspensionTime: req.now.toISOString() });
    else {
      delete u.suspensionReason;
      delete u.suspensionTime;
    }
  }
  if (u.name) u.name.fullName = `${u.name.givenName ?? ''} ${u.name.familyName ?? ''}`.trim();
  state.touch(u);
  return ok(state.view(u));
}

function listUsers(state: WorkspaceState, req: FakeRequest): FakeResponse {
  const q = req.url.searchParams;
  const customer = q.get('customer');
  const domain = q.get('domain');
  if (!customer && !domain) return googleError(400, 'Bad Request', 'badRequest');
  if (customer && customer !== 'my_customer' && customer !== state.customerId)
    return googleError(403, 'Not Authorized to access this resource/api', 'forbidden');
  if (!customer && domain?.toLowerCase() !== state.domain)
    return googleError(403, 'Not Authorized to access this resource/api', 'forbidden');
  if (q.has('query')) return invalid('Invalid Input: query (the fake does not search)');
  const projection = q.get('projection') ?? 'basic';
  if (!['basic', 'full', 'custom'].includes(projection)) return invalid(`Invalid value '${projection}' for projection`);
  if (projection === 'custom' && !q.get('customFieldMask')) return invalid('Invalid Input: customFieldMask');
  const size = maxResults(req, 500, 100);
  if (typeof size !== 'number') return size;
  let users = q.get('showDeleted') === 'true' ? state.deletedUsers(req.now) : state.liveUsers();
  const orderBy = q.get('orderBy');
  if (orderBy) {
    const by: Record<string, (u: dir.Schema$User) => string> = {
      email: (u) => u.primaryEmail ?? '',
      givenName: (u) => u.name?.givenName ?? '',
      familyName: (u) => u.name?.familyName ?? '',
    };
    const f = by[orderBy];
    if (!f) return invalid(`Invalid value '${orderBy}' for orderBy`);
    const sign = (q.get('sortOrder') ?? 'ASCENDING').toUpperCase() === 'DESCENDING' ? -1 : 1;
    users = [...users].sort((a, b) => sign * f(a).toLowerCase().localeCompare(f(b).toLowerCase()));
  }
  const p = paged(req, users, size);
  if (isResponse(p)) return p;
  return ok({
    kind: 'admin#directory#users',
    etag: `"${state.customerId}/${p.items.length}"`,
    ...(p.items.length ? { users: p.items.map((u) => state.view(u, projection)) } : {}),
    ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}),
  });
}

function listLogins(state: WorkspaceState, req: FakeRequest, m: RegExpExecArray): FakeResponse {
  if (!state.reportsAllowed(req.principal.subject))
    return googleError(403, 'Not Authorized to access this resource/api', 'forbidden');
  const userKey = key(m);
  const app = key(m, 2);
  const known = [
    'access_transparency',
    'admin',
    'calendar',
    'chat',
    'drive',
    'gcp',
    'groups',
    'login',
    'meet',
    'mobile',
    'saml',
    'token',
    'user_accounts',
  ];
  if (!known.includes(app)) return invalid(`Invalid value '${app}' for applicationName`);
  const size = maxResults(req, 1000, 1000);
  if (typeof size !== 'number') return size;
  let profileId: string | null = null;
  if (userKey !== 'all') {
    const u = state.lookup(userKey);
    if (!u) return googleError(400, 'Bad Request', 'badRequest');
    profileId = u.id!;
  }
  const q = req.url.searchParams;
  const start = q.get('startTime') ? Date.parse(q.get('startTime')!) : -Infinity;
  const end = q.get('endTime') ? Date.parse(q.get('endTime')!) : req.now.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) return invalid('Invalid value for startTime/endTime: use RFC 3339');
  const eventName = q.get('eventName');
  const items = (app === 'login' ? state.loginEvents() : [])
    .filter((a) => profileId === null || a.actor?.profileId === profileId)
    .filter((a) => {
      const t = Date.parse(a.id!.time!);
      return t >= start && t <= end;
    })
    .filter((a) => !eventName || a.events?.some((e) => e.name === eventName))
    .sort((a, b) => Date.parse(b.id!.time!) - Date.parse(a.id!.time!));
  const p = paged(req, items, size);
  if (isResponse(p)) return p;
  return ok({
    kind: 'admin#reports#activities',
    etag: `"${state.customerId}/activities"`,
    ...(p.items.length ? { items: p.items.map((a) => structuredClone(a)) } : {}),
    ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}),
  });
}

function aliasView(u: dir.Schema$User, alias: string): dir.Schema$Alias {
  return { kind: 'admin#directory#alias', id: u.id, etag: u.etag, primaryEmail: u.primaryEmail, alias };
}

function memberView(u: dir.Schema$User, role: string): dir.Schema$Member {
  return {
    kind: 'admin#directory#member',
    etag: u.etag,
    id: u.id,
    email: u.primaryEmail,
    role,
    type: 'USER',
    status: 'ACTIVE',
    delivery_settings: 'ALL_MAIL',
  };
}

/** The Directory and Reports routes of one tenant. All act through domain-wide delegation. */
export function directoryRoutes(state: WorkspaceState): FakeRoute[] {
  const S = DIRECTORY_SCOPES;
  const route = (
    method: FakeRoute['method'],
    pattern: RegExp,
    scopes: readonly string[],
    name: string,
    handle: FakeRoute['handle'],
  ): FakeRoute => ({ method, pattern, scopes, name, delegated: true, handle });
  const user = `^${D}/users/([^/]+)`;
  return [
    route('GET', new RegExp(`^${D}/users/?$`), S.userRead, 'directory.users.list', (req) => listUsers(state, req)),
    route('GET', new RegExp(`${user}$`), S.userRead, 'directory.users.get', (req, m) => {
      const u = state.lookup(key(m));
      const projection = req.url.searchParams.get('projection') ?? 'basic';
      return u ? ok(state.view(u, projection)) : notFound('userKey');
    }),
    route('PATCH', new RegExp(`${user}$`), S.userWrite, 'directory.users.patch', (req, m) => update(state, req, m)),
    // users.update has patch semantics too (absent fields are kept), per its reference page.
    route('PUT', new RegExp(`${user}$`), S.userWrite, 'directory.users.update', (req, m) => update(state, req, m)),
    route('DELETE', new RegExp(`${user}$`), S.userWrite, 'directory.users.delete', (req, m) => {
      const u = state.lookup(key(m));
      if (!u) return notFound('userKey');
      state.remove(u, req.now);
      return { status: 204 };
    }),
    route('POST', new RegExp(`${user}/undelete$`), S.userWrite, 'directory.users.undelete', (req, m) => {
      // The "immutable id of the user": an email does not find a deleted user.
      const d = state.deletedUser(key(m), req.now);
      if (!d) return notFound('userKey');
      const body = (req.body ?? {}) as { orgUnitPath?: unknown };
      const ou = body.orgUnitPath === undefined ? '/' : body.orgUnitPath;
      if (typeof ou !== 'string' || !ou.startsWith('/')) return invalid('Invalid Input: INVALID_OU_ID');
      if (state.lookup(d.user.primaryEmail!)) return googleError(409, 'Entity already exists.', 'duplicate');
      state.undelete(key(m), ou);
      return { status: 204 };
    }),
    route('GET', new RegExp(`${user}/aliases$`), S.aliasRead, 'directory.users.aliases.list', (_req, m) => {
      const u = state.lookup(key(m));
      if (!u) return notFound('userKey');
      const aliases = (u.aliases ?? []).map((a) => aliasView(u, a));
      return ok({ kind: 'admin#directory#aliases', etag: u.etag, ...(aliases.length ? { aliases } : {}) });
    }),
    route('POST', new RegExp(`${user}/aliases$`), S.aliasWrite, 'directory.users.aliases.insert', (req, m) => {
      const u = state.lookup(key(m));
      if (!u) return notFound('userKey');
      const alias = (req.body as { alias?: unknown } | null)?.alias;
      if (typeof alias !== 'string' || !alias.includes('@')) return googleError(400, 'Invalid Input: alias', 'invalid');
      if (state.lookup(alias) || state.group(alias)) return googleError(409, 'Entity already exists.', 'duplicate');
      u.aliases = [...(u.aliases ?? []), alias];
      state.touch(u);
      return ok(aliasView(u, alias));
    }),
    route('GET', new RegExp(`^${D}/groups/?$`), S.groupRead, 'directory.groups.list', (req) => {
      const userKey = req.url.searchParams.get('userKey');
      if (!userKey) return googleError(400, 'Bad Request', 'badRequest');
      const u = state.lookup(userKey);
      if (!u) return notFound('userKey');
      const size = maxResults(req, 200, 200);
      if (typeof size !== 'number') return size;
      const groups = state.liveGroups().filter((g) => g.members.has(u.id!));
      const p = paged(req, groups, size);
      if (isResponse(p)) return p;
      return ok({
        kind: 'admin#directory#groups',
        etag: `"${u.id}/groups"`,
        ...(p.items.length
          ? { groups: p.items.map((g) => ({ ...g.group, directMembersCount: String(g.members.size) })) }
          : {}),
        ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}),
      });
    }),
    route(
      'GET',
      new RegExp(`^${D}/groups/([^/]+)/members/([^/]+)$`),
      S.memberRead,
      'directory.members.get',
      (_req, m) => {
        const g = state.group(key(m));
        if (!g) return notFound('groupKey');
        const u = state.lookup(key(m, 2));
        const role = u?.id ? g.members.get(u.id) : undefined;
        return u && role ? ok(memberView(u, role)) : notFound('memberKey');
      },
    ),
    route('POST', new RegExp(`^${D}/groups/([^/]+)/members$`), S.memberWrite, 'directory.members.insert', (req, m) => {
      const g = state.group(key(m));
      if (!g) return notFound('groupKey');
      const body = (req.body ?? {}) as { email?: unknown; id?: unknown; role?: unknown };
      const memberKey = typeof body.id === 'string' ? body.id : typeof body.email === 'string' ? body.email : null;
      if (!memberKey) return googleError(400, 'Missing required field: memberKey', 'required');
      const role = body.role ?? 'MEMBER';
      if (role !== 'OWNER' && role !== 'MANAGER' && role !== 'MEMBER') return invalid('Invalid Input: role');
      const u = state.lookup(memberKey);
      if (!u?.id) return notFound('memberKey');
      if (g.members.has(u.id)) return googleError(409, 'Member already exists.', 'duplicate');
      g.members.set(u.id, role);
      return ok(memberView(u, role));
    }),
    route(
      'GET',
      /^\/admin\/reports\/v1\/activity\/users\/([^/]+)\/applications\/([^/]+)$/,
      S.reports,
      'reports.activities.list',
      (req, m) => listLogins(state, req, m),
    ),
  ];
}
