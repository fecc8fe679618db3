// Part of the Entra ID / Microsoft Graph fake (see ../graphFake.ts): the Graph v1.0 routes.
// Each handler checks the request the way Graph does (permissions in the token's roles,
// $select against the type's properties, $top bounds, the page token, the body) and answers
// in Graph's shapes, or throws a DirectoryError that becomes Graph's error body.
import { createHash } from 'node:crypto';
import type { AccessTokenClaims } from './auth.js';
import {
  DirectoryError,
  notFound,
  type FakeTenant,
  type GroupRecord,
  type RoleRecord,
  type SignInRecord,
  type UserRecord,
} from './directory.js';
import { GRAPH_PERMISSIONS, type GraphOperation } from './permissions.js';
import {
  DIRECTORY_ROLE_PROPERTIES,
  GROUP_COLLECTIONS,
  GROUP_DEFAULT_SELECT,
  GROUP_PROPERTIES,
  APP_ROLE_ASSIGNMENT_PROPERTIES,
  SIGN_IN_PROPERTIES,
  USER_COLLECTIONS,
  USER_DEFAULT_SELECT,
  USER_PROPERTIES,
  USER_READ_ONLY,
  USER_SINGLE_ONLY,
  parseSelect,
  project,
} from './shapes.js';

export interface GraphRequestContext {
  method: string;
  /** Path segments after /v1.0, URL-decoded. */
  segments: string[];
  /** The request's pathname as received (e.g. /v1.0/users). */
  pathname: string;
  params: URLSearchParams;
  body: Buffer;
  contentType: string;
  origin: string;
  tenant: FakeTenant;
  claims: AccessTokenClaims;
}

export interface GraphResult {
  status: number;
  body?: unknown;
  /** For the list-users fault hooks: the page number of this /users page (1 = first). */
  usersPage?: number;
}

const USER_PROPS: ReadonlySet<string> = new Set(USER_PROPERTIES);
/** Graph's cap on an $expand of directory objects (no nextLink beyond it). */
export const EXPAND_LIMIT = 20;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const bad = (message: string, code = 'Request_BadRequest') => new DirectoryError(400, code, message);
const denied = () =>
  new DirectoryError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
const nonPremium = () =>
  new DirectoryError(
    403,
    'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    "Neither tenant is B2C or tenant doesn't have premium license",
  );
const notImplemented = (what: string) =>
  new DirectoryError(501, 'NotImplemented', `The Microsoft Graph fake does not implement ${what}.`);
const methodNotAllowed = () =>
  new DirectoryError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request uri.');

function requirePermission(ctx: GraphRequestContext, op: GraphOperation): void {
  const anyOf: readonly string[] = GRAPH_PERMISSIONS[op].anyOf;
  if (!ctx.claims.roles.some((r) => anyOf.includes(r))) throw denied();
}

// ---- query options -------------------------------------------------------------------------

const KNOWN_OPTIONS = new Set([
  'select',
  'top',
  'skiptoken',
  'expand',
  'filter',
  'orderby',
  'count',
  'search',
  'skip',
  'format',
]);

/** OData system query options, by lower-case name without "$" (v1.0 makes the "$" optional). */
function options(ctx: GraphRequestContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of ctx.params) {
    const name = k.toLowerCase().replace(/^\$/, '');
    if (!KNOWN_OPTIONS.has(name)) continue;
    if (out.has(name))
      throw bad(
        `Query option '$${name}' was specified more than once, but it must be specified at most once.`,
        'BadRequest',
      );
    out.set(name, v);
  }
  return out;
}

function rejectOptions(opts: Map<string, string>, names: string[], where: string): void {
  for (const n of names) if (opts.has(n)) throw notImplemented(`$${n} on ${where}`);
}

function parseTop(opts: Map<string, string>, fallback: number, max: number): number {
  const raw = opts.get('top');
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw bad(`Invalid value '${raw}' for query option '$top'.`, 'BadRequest');
  const n = Number(raw);
  if (n < 1 || n > max) {
    throw bad(
      `Invalid page size specified: '${raw}'. Must be between 1 and ${max} inclusive.`,
      'Request_UnsupportedQuery',
    );
  }
  return n;
}

function checkSelect(select: string[], known: ReadonlySet<string>, type: string): void {
  for (const p of select) {
    if (p === '*') continue;
    if (!known.has(p)) throw bad(`Could not find a property named '${p}' on type '${type}'.`);
  }
}

// ---- $filter (the small subset the fake understands) ---------------------------------------

type FilterValue = string | number | boolean | null;
interface Clause {
  path: string;
  op: 'eq' | 'ne' | 'ge' | 'gt' | 'le' | 'lt';
  value: FilterValue;
}

/** `a eq 'x' and b ge 2024-01-01T00:00:00Z and c eq true`; anything else is unsupported. */
function parseFilter(raw: string): Clause[] {
  const unsupported = () => bad('Unsupported Query.', 'Request_UnsupportedQuery');
  const clauses: Clause[] = [];
  const re =
    /^\s*([A-Za-z_][\w/]*)\s+(eq|ne|ge|gt|le|lt)\s+('(?:[^']|'')*'|true|false|null|-?\d+(?:\.\d+)?|\d{4}-\d{2}-\d{2}T[\d:.]+Z)\s*/i;
  let rest = raw;
  for (;;) {
    const m = re.exec(rest);
    if (!m) throw unsupported();
    const lit = m[3]!;
    let value: FilterValue;
    if (lit.startsWith("'")) value = lit.slice(1, -1).replace(/''/g, "'");
    else if (/^(true|false)$/i.test(lit)) value = lit.toLowerCase() === 'true';
    else if (/^null$/i.test(lit)) value = null;
    else if (/^\d{4}-/.test(lit)) value = lit;
    else value = Number(lit);
    clauses.push({ path: m[1]!, op: m[2]!.toLowerCase() as Clause['op'], value });
    rest = rest.slice(m[0].length);
    if (rest.length === 0) return clauses;
    const and = /^and\s+/i.exec(rest);
    if (!and) throw unsupported();
    rest = rest.slice(and[0].length);
  }
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('/')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function matchClause(obj: Record<string, unknown>, c: Clause): boolean {
  const v = getPath(obj, c.path) ?? null;
  const isDate = typeof c.value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(c.value);
  const a = isDate && typeof v === 'string' ? Date.parse(v) : typeof v === 'string' ? v.toLowerCase() : v;
  const b = isDate ? Date.parse(c.value as string) : typeof c.value === 'string' ? c.value.toLowerCase() : c.value;
  switch (c.op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    default: {
      if (a === null || b === null || typeof a === 'boolean' || typeof b === 'boolean') return false;
      if (c.op === 'ge') return (a as number | string) >= (b as number | string);
      if (c.op === 'gt') return (a as number | string) > (b as number | string);
      if (c.op === 'le') return (a as number | string) <= (b as number | string);
      return (a as number | string) < (b as number | string);
    }
  }
}

function checkFilterPaths(clauses: Clause[], allowed: ReadonlySet<string>): void {
  for (const c of clauses) {
    if (!allowed.has(c.path.split('/')[0]!)) throw bad('Unsupported Query.', 'Request_UnsupportedQuery');
  }
}

// ---- paging --------------------------------------------------------------------------------

interface PageState {
  /** Users collection: the seq of the last user returned. */
  c?: number;
  /** Computed lists: the offset of the next item. */
  o?: number;
  /** This page's number (1 = first). */
  n: number;
}

function queryKey(ctx: GraphRequestContext): string {
  const entries = [...ctx.params].filter(([k]) => k.toLowerCase().replace(/^\$/, '') !== 'skiptoken');
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(`${ctx.tenant.tenantId}\n${ctx.pathname.toLowerCase()}\n${JSON.stringify(entries)}`)
    .digest('base64url')
    .slice(0, 16);
}

function readPage(ctx: GraphRequestContext, opts: Map<string, string>): PageState | null {
  const raw = opts.get('skiptoken');
  if (raw === undefined) return null;
  const expired = () =>
    new DirectoryError(
      400,
      'Directory_ExpiredPageToken',
      'The specified page token value has expired and can no longer be included in your request.',
    );
  try {
    const data = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageState & { k: string };
    if (data.k !== queryKey(ctx) || typeof data.n !== 'number') throw expired();
    return data;
  } catch {
    throw expired();
  }
}

function nextLink(ctx: GraphRequestContext, state: PageState): string {
  const token = Buffer.from(JSON.stringify({ k: queryKey(ctx), ...state })).toString('base64url');
  const kept = new URLSearchParams();
  for (const [k, v] of ctx.params) if (k.toLowerCase().replace(/^\$/, '') !== 'skiptoken') kept.append(k, v);
  const qs = kept.toString().replace(/%24/g, '$').replace(/%2C/gi, ',');
  return `${ctx.origin}${ctx.pathname}?${qs ? `${qs}&` : ''}$skiptoken=${token}`;
}

function context(ctx: GraphRequestContext, suffix: string): string {
  return `${ctx.origin}/v1.0/$metadata#${suffix}`;
}

/** A page of a computed list, with offset paging. */
function listPage<T>(
  ctx: GraphRequestContext,
  opts: Map<string, string>,
  all: T[],
  top: number,
  view: (item: T) => Record<string, unknown>,
  contextSuffix: string,
): GraphResult {
  const state = readPage(ctx, opts);
  const offset = state?.o ?? 0;
  const n = state?.n ?? 1;
  const items = all.slice(offset, offset + top);
  const body: Record<string, unknown> = { '@odata.context': context(ctx, contextSuffix) };
  if (offset + top < all.length) body['@odata.nextLink'] = nextLink(ctx, { o: offset + top, n: n + 1 });
  body.value = items.map(view);
  return { status: 200, body };
}

// ---- bodies --------------------------------------------------------------------------------

function jsonBody(ctx: GraphRequestContext): Record<string, unknown> {
  const invalid = () =>
    bad(
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      'BadRequest',
    );
  if (!ctx.contentType.toLowerCase().includes('application/json')) throw invalid();
  let v: unknown;
  try {
    v = JSON.parse(ctx.body.toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid();
  return v as Record<string, unknown>;
}

/** The object id in a $ref body {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}. */
function refId(ctx: GraphRequestContext): string {
  const body = jsonBody(ctx);
  const ref = body['@odata.id'];
  if (typeof ref !== 'string') throw bad("The request body must contain an '@odata.id' reference.");
  let path: string;
  try {
    path = new URL(ref).pathname;
  } catch {
    throw bad(`Invalid object identifier '${ref}'.`);
  }
  const m = /^\/(?:v1\.0|beta)\/(?:directoryObjects|users|groups|servicePrincipals|devices)\/([^/]+)$/i.exec(path);
  if (!m || !GUID.test(decodeURIComponent(m[1]!))) throw bad(`Invalid object identifier '${ref}'.`);
  return decodeURIComponent(m[1]!).toLowerCase();
}

// ---- views ---------------------------------------------------------------------------------

const GROUP_PROPS: ReadonlySet<string> = new Set(GROUP_PROPERTIES);
const ROLE_PROPS: ReadonlySet<string> = new Set(DIRECTORY_ROLE_PROPERTIES);
const DIRECTORY_OBJECT_PROPS: ReadonlySet<string> = new Set([
  ...USER_PROPERTIES,
  ...GROUP_PROPERTIES,
  ...DIRECTORY_ROLE_PROPERTIES,
]);

function userView(r: UserRecord, select: readonly string[] | null, typed: boolean): Record<string, unknown> {
  const sel = select === null || select.includes('*') ? USER_DEFAULT_SELECT : select;
  const out = project(r.props, sel, USER_COLLECTIONS);
  return typed ? { '@odata.type': '#microsoft.graph.user', ...out } : out;
}

function groupView(g: GroupRecord, select: readonly string[] | null, typed: boolean): Record<string, unknown> {
  const sel = select === null || select.includes('*') ? GROUP_DEFAULT_SELECT : select.filter((p) => GROUP_PROPS.has(p));
  const out = project(g.props, sel, GROUP_COLLECTIONS);
  return typed ? { '@odata.type': '#microsoft.graph.group', ...out } : out;
}

function roleView(r: RoleRecord, select: readonly string[] | null, typed: boolean): Record<string, unknown> {
  const sel =
    select === null || select.includes('*') ? DIRECTORY_ROLE_PROPERTIES : select.filter((p) => ROLE_PROPS.has(p));
  const out = project(r.props, sel, new Set());
  return typed ? { '@odata.type': '#microsoft.graph.directoryRole', ...out } : out;
}

function directoryObjectView(
  tenant: FakeTenant,
  id: string,
  select: readonly string[] | null,
): Record<string, unknown> | null {
  const u = tenant.liveUser(id);
  if (u) return userView(u, select?.filter((p) => USER_PROPS.has(p)) ?? null, true);
  const g = tenant.groups.get(id);
  if (g) return groupView(g, select, true);
  return null;
}

function selectLabel(select: string[] | null): string {
  return select ? `(${select.join(',')})` : '';
}

// ---- routes --------------------------------------------------------------------------------

export function handleGraph(ctx: GraphRequestContext): GraphResult {
  ctx.tenant.purgeExpired();
  const seg = ctx.segments;
  const s0 = seg[0]?.toLowerCase();
  const m = ctx.method;

  if (s0 === 'users') return users(ctx, seg.slice(1));
  if (s0 === 'groups') return groups(ctx, seg.slice(1));
  if (s0 === 'directoryroles' || s0?.startsWith('directoryroles(')) return directoryRoles(ctx, seg);
  if (s0 === 'auditlogs' && seg[1]?.toLowerCase() === 'signins') {
    if (m !== 'GET') throw methodNotAllowed();
    return signIns(ctx, seg.slice(2));
  }
  if (s0 === 'directory' && seg[1]?.toLowerCase() === 'deleteditems') return deletedItems(ctx, seg.slice(2));
  if (
    s0 === 'rolemanagement' &&
    seg[1]?.toLowerCase() === 'directory' &&
    seg[2]?.toLowerCase() === 'roleeligibilityscheduleinstances' &&
    seg.length === 3
  ) {
    if (m !== 'GET') throw methodNotAllowed();
    return roleEligibilities(ctx);
  }
  throw bad(`Resource not found for the segment '${seg[0] ?? ''}'.`, 'BadRequest');
}

// /users ...
function users(ctx: GraphRequestContext, rest: string[]): GraphResult {
  const m = ctx.method;
  const opts = options(ctx);
  if (rest.length === 0) {
    if (m !== 'GET') throw m === 'POST' ? notImplemented('creating users') : methodNotAllowed();
    return listUsers(ctx, opts);
  }
  const key = rest[0]!;
  const r = ctx.tenant.liveUser(key);
  const sub = rest[1]?.toLowerCase();

  if (rest.length === 1) {
    if (m === 'GET') {
      requirePermission(ctx, 'getUser');
      rejectOptions(opts, ['expand', 'filter', 'orderby', 'search', 'count', 'top', 'skip'], 'a single user');
      const select = parseSelect(opts.get('select') ?? null);
      if (select) checkSelect(select, USER_PROPS, 'microsoft.graph.user');
      if (select?.includes('signInActivity')) {
        if (!GUID.test(key)) throw bad('Get By Key only supports UserId and the key has to be a valid Guid');
        if (!ctx.tenant.premium) throw nonPremium();
        if (!ctx.claims.roles.includes('AuditLog.Read.All')) throw denied();
      }
      if (!r) throw notFound(key);
      return {
        status: 200,
        body: { '@odata.context': context(ctx, `users${selectLabel(select)}/$entity`), ...userView(r, select, false) },
      };
    }
    if (m === 'PATCH') return patchUser(ctx, key, r);
    if (m === 'DELETE') {
      requirePermission(ctx, 'deleteUser');
      if (!r) throw notFound(key);
      ctx.tenant.softDelete(r);
      return { status: 204 };
    }
    throw methodNotAllowed();
  }

  switch (sub) {
    case 'revokesigninsessions': {
      if (rest.length !== 2) break;
      if (m !== 'POST') throw methodNotAllowed();
      requirePermission(ctx, 'revokeSignInSessions');
      if (!r) throw notFound(key);
      ctx.tenant.revokeSessions(r, ctx.claims.appid);
      return { status: 200, body: { '@odata.context': context(ctx, 'Edm.Boolean'), value: true } };
    }
    case 'checkmembergroups': {
      if (rest.length !== 2) break;
      if (m !== 'POST') throw methodNotAllowed();
      requirePermission(ctx, 'checkMemberGroups');
      const body = jsonBody(ctx);
      const ids = body.groupIds;
      if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
        throw bad("The request body must contain 'groupIds', an array of group ids.");
      }
      if (ids.length > 20) throw bad('At most 20 groupIds can be checked in one request.');
      if (!r) throw notFound(key);
      const mine = new Set(ctx.tenant.transitiveGroupsOf(r.id).map((g) => g.id));
      return {
        status: 200,
        body: {
          '@odata.context': context(ctx, 'Collection(Edm.String)'),
          value: (ids as string[]).filter((g) => mine.has(g.toLowerCase())),
        },
      };
    }
    case 'transitivememberof': {
      if (m !== 'GET') throw methodNotAllowed();
      requirePermission(ctx, 'listUserTransitiveMemberOf');
      rejectOptions(opts, ['expand', 'orderby', 'search', 'count', 'skip', 'filter'], 'transitiveMemberOf');
      const cast = rest[2]?.toLowerCase();
      if (rest.length > 3 || (cast && cast !== 'microsoft.graph.group' && cast !== 'microsoft.graph.directoryrole'))
        break;
      if (!r) throw notFound(key);
      const select = parseSelect(opts.get('select') ?? null);
      if (select) checkSelect(select, DIRECTORY_OBJECT_PROPS, 'microsoft.graph.directoryObject');
      const items: (GroupRecord | RoleRecord)[] = [];
      if (cast !== 'microsoft.graph.directoryrole') items.push(...ctx.tenant.transitiveGroupsOf(r.id));
      if (cast !== 'microsoft.graph.group') items.push(...ctx.tenant.transitiveRolesOf(r.id));
      return listPage(
        ctx,
        opts,
        items,
        parseTop(opts, 100, 999),
        (x) =>
          ctx.tenant.groups.has(x.id)
            ? groupView(x as GroupRecord, select, !cast)
            : roleView(x as RoleRecord, select, !cast),
        `directoryObjects${selectLabel(select)}`,
      );
    }
    case 'memberof': {
      if (m !== 'GET') throw methodNotAllowed();
      requirePermission(ctx, 'listUserMemberOf');
      rejectOptions(opts, ['expand', 'orderby', 'search', 'count', 'skip'], 'memberOf');
      if (!r) throw notFound(key);
      const cast = rest[2]?.toLowerCase();
      if (rest.length > 3 || (cast && cast !== 'microsoft.graph.group' && cast !== 'microsoft.graph.directoryrole'))
        break;
      const select = parseSelect(opts.get('select') ?? null);
      if (select) checkSelect(select, DIRECTORY_OBJECT_PROPS, 'microsoft.graph.directoryObject');
      const items: (GroupRecord | RoleRecord)[] = [];
      if (cast !== 'microsoft.graph.directoryrole')
        for (const gid of r.groups) {
          const g = ctx.tenant.groups.get(gid);
          if (g) items.push(g);
        }
      if (cast !== 'microsoft.graph.group')
        for (const rid of r.roles) {
          const role = ctx.tenant.directoryRoles.get(rid);
          if (role) items.push(role);
        }
      const top = parseTop(opts, 100, 999);
      return listPage(
        ctx,
        opts,
        items,
        top,
        (x) =>
          ctx.tenant.groups.has(x.id)
            ? groupView(x as GroupRecord, select, true)
            : roleView(x as RoleRecord, select, true),
        `directoryObjects${selectLabel(select)}`,
      );
    }
    case 'approleassignments': {
      if (rest.length === 2 && m === 'GET') {
        requirePermission(ctx, 'listUserAppRoleAssignments');
        rejectOptions(opts, ['expand', 'orderby', 'search', 'count', 'skip', 'filter'], 'appRoleAssignments');
        if (!r) throw notFound(key);
        const select = parseSelect(opts.get('select') ?? null);
        if (select) checkSelect(select, new Set(APP_ROLE_ASSIGNMENT_PROPERTIES), 'microsoft.graph.appRoleAssignment');
        const top = parseTop(opts, 100, 999);
        return listPage(
          ctx,
          opts,
          r.appRoles,
          top,
          (a) => {
            const v = ctx.tenant.appRoleAssignmentView(a) as Record<string, unknown>;
            return select ? project(v, select, new Set()) : v;
          },
          `users('${r.id}')/appRoleAssignments${selectLabel(select)}`,
        );
      }
      if (rest.length === 2 && m === 'POST') {
        requirePermission(ctx, 'assignAppRole');
        if (!r) throw notFound(key);
        const body = jsonBody(ctx);
        for (const f of ['principalId', 'resourceId', 'appRoleId'] as const) {
          if (typeof body[f] !== 'string' || !GUID.test(body[f])) {
            throw bad(`Invalid value specified for property '${f}' of resource 'AppRoleAssignment'.`);
          }
        }
        const a = ctx.tenant.assignAppRole(r, body as { principalId: string; resourceId: string; appRoleId: string });
        return {
          status: 201,
          body: {
            '@odata.context': context(ctx, `users('${r.id}')/appRoleAssignments/$entity`),
            ...ctx.tenant.appRoleAssignmentView(a),
          },
        };
      }
      if (rest.length === 3 && m === 'DELETE') {
        requirePermission(ctx, 'removeAppRoleAssignment');
        if (!r) throw notFound(key);
        ctx.tenant.removeAppRoleAssignment(r, rest[2]!);
        return { status: 204 };
      }
      if (rest.length <= 3) throw methodNotAllowed();
      break;
    }
    case 'manager': {
      const ref = rest[2] === '$ref';
      if (rest.length === 2 && m === 'GET') {
        requirePermission(ctx, 'getUserManager');
        if (!r) throw notFound(key);
        const select = parseSelect(opts.get('select') ?? null);
        if (select) checkSelect(select, USER_PROPS, 'microsoft.graph.user');
        const mgr = ctx.tenant.managerOf(r.id);
        if (!mgr) throw notFound('manager');
        return {
          status: 200,
          body: { '@odata.context': context(ctx, 'directoryObjects/$entity'), ...userView(mgr, select, true) },
        };
      }
      if (ref && rest.length === 3 && m === 'PUT') {
        requirePermission(ctx, 'setManager');
        if (!r) throw notFound(key);
        ctx.tenant.setManager(r, refId(ctx));
        return { status: 204 };
      }
      if (ref && rest.length === 3 && m === 'DELETE') {
        requirePermission(ctx, 'removeManager');
        if (!r) throw notFound(key);
        ctx.tenant.removeManager(r);
        return { status: 204 };
      }
      if (rest.length <= 3) throw methodNotAllowed();
      break;
    }
    case 'assignlicense': {
      if (rest.length !== 2) break;
      if (m !== 'POST') throw methodNotAllowed();
      requirePermission(ctx, 'assignLicense');
      if (!r) throw notFound(key);
      const body = jsonBody(ctx);
      const add = body.addLicenses;
      const remove = body.removeLicenses;
      if (!Array.isArray(add) || !Array.isArray(remove)) {
        throw bad("Both 'addLicenses' and 'removeLicenses' are required (use [] for none).");
      }
      const adds = add.map((a: unknown) => {
        const o = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
        if (typeof o.skuId !== 'string' || !GUID.test(o.skuId)) {
          throw bad("Invalid value specified for property 'skuId' of resource 'AssignedLicense'.");
        }
        const plans = o.disabledPlans ?? [];
        if (!Array.isArray(plans) || plans.some((p) => typeof p !== 'string')) {
          throw bad("Invalid value specified for property 'disabledPlans' of resource 'AssignedLicense'.");
        }
        return { skuId: o.skuId.toLowerCase(), disabledPlans: plans as string[] };
      });
      const removes = remove.map((x: unknown) => {
        if (typeof x !== 'string' || !GUID.test(x)) throw bad("Invalid value specified for 'removeLicenses'.");
        return x.toLowerCase();
      });
      ctx.tenant.assignLicenses(r, adds, removes);
      return { status: 200, body: { '@odata.context': context(ctx, 'users/$entity'), ...userView(r, null, false) } };
    }
  }
  throw bad(`Resource not found for the segment '${rest[1] ?? ''}'.`, 'BadRequest');
}

function listUsers(ctx: GraphRequestContext, opts: Map<string, string>): GraphResult {
  requirePermission(ctx, 'listUsers');
  rejectOptions(opts, ['expand', 'orderby', 'search', 'count'], '/users');
  if (opts.has('skip')) throw bad("'$skip' is not supported by the service.", 'Request_BadRequest');
  const select = parseSelect(opts.get('select') ?? null);
  if (select) {
    checkSelect(select, USER_PROPS, 'microsoft.graph.user');
    for (const p of select) {
      if (USER_SINGLE_ONLY.has(p)) {
        throw new DirectoryError(
          501,
          'NotImplemented',
          `The property '${p}' does not support being returned in a collection; read it on a single user.`,
        );
      }
    }
  }
  const withActivity = select?.includes('signInActivity') ?? false;
  if (withActivity) {
    if (!ctx.tenant.premium) throw nonPremium();
    if (!ctx.claims.roles.includes('AuditLog.Read.All')) throw denied();
  }
  let top = parseTop(opts, 100, 999);
  if (withActivity && ctx.tenant.signInActivityPageLimit !== null)
    top = Math.min(top, ctx.tenant.signInActivityPageLimit);
  const label = `users${selectLabel(select)}`;
  const filter = opts.get('filter');
  if (filter !== undefined) {
    const clauses = parseFilter(filter);
    checkFilterPaths(clauses, USER_PROPS);
    const all = ctx.tenant.allUsers().filter((u) => clauses.every((c) => matchClause(u.props, c)));
    const res = listPage(ctx, opts, all, top, (u) => userView(u, select, false), label);
    return { ...res, usersPage: readPage(ctx, opts)?.n ?? 1 };
  }
  const state = readPage(ctx, opts);
  const n = state?.n ?? 1;
  const { users, more } = ctx.tenant.usersPage(state?.c ?? null, top);
  const body: Record<string, unknown> = { '@odata.context': context(ctx, label) };
  if (more && users.length > 0) body['@odata.nextLink'] = nextLink(ctx, { c: users[users.length - 1]!.seq, n: n + 1 });
  body.value = users.map((u) => userView(u, select, false));
  return { status: 200, body, usersPage: n };
}

function patchUser(ctx: GraphRequestContext, key: string, r: UserRecord | undefined): GraphResult {
  const body = jsonBody(ctx);
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@odata.')) continue;
    if (!USER_PROPS.has(k)) throw bad(`Property '${k}' does not exist as a declared property or extension property.`);
    if (USER_READ_ONLY.has(k)) throw bad(`Property '${k}' is read-only and cannot be set.`);
    if (k === 'accountEnabled' && typeof v !== 'boolean') {
      throw bad("Invalid value specified for property 'accountEnabled' of resource 'User'.");
    }
    patch[k] = v;
  }
  const keys = Object.keys(patch);
  requirePermission(
    ctx,
    keys.length > 0 && keys.every((k) => k === 'accountEnabled') ? 'updateUserAccountEnabled' : 'updateUser',
  );
  if (!r) throw notFound(key);
  ctx.tenant.patchUser(r, patch);
  return { status: 204 };
}

// /groups ...
function groups(ctx: GraphRequestContext, rest: string[]): GraphResult {
  const m = ctx.method;
  const opts = options(ctx);
  const select = parseSelect(opts.get('select') ?? null);
  if (rest.length === 0) {
    if (m !== 'GET') throw methodNotAllowed();
    requirePermission(ctx, 'listGroups');
    rejectOptions(opts, ['expand', 'orderby', 'search', 'count', 'skip'], '/groups');
    if (select) checkSelect(select, GROUP_PROPS, 'microsoft.graph.group');
    let all = [...ctx.tenant.groups.values()];
    const filter = opts.get('filter');
    if (filter !== undefined) {
      const clauses = parseFilter(filter);
      checkFilterPaths(clauses, GROUP_PROPS);
      all = all.filter((g) => clauses.every((c) => matchClause(g.props, c)));
    }
    return listPage(
      ctx,
      opts,
      all,
      parseTop(opts, 100, 999),
      (g) => groupView(g, select, false),
      `groups${selectLabel(select)}`,
    );
  }
  const gid = rest[0]!.toLowerCase();
  const g = ctx.tenant.groups.get(gid);
  const sub = rest[1]?.toLowerCase();
  if (rest.length === 1) {
    if (m !== 'GET') throw methodNotAllowed();
    requirePermission(ctx, 'getGroup');
    if (select) checkSelect(select, GROUP_PROPS, 'microsoft.graph.group');
    if (!g) throw notFound(rest[0]!);
    return {
      status: 200,
      body: { '@odata.context': context(ctx, `groups${selectLabel(select)}/$entity`), ...groupView(g, select, false) },
    };
  }
  if (sub === 'members' && rest[2] === '$ref' && rest.length === 3) {
    if (m !== 'POST') throw methodNotAllowed();
    requirePermission(ctx, 'addGroupMember');
    const id = refId(ctx);
    ctx.tenant.addGroupMember(gid, id);
    return { status: 204 };
  }
  if (sub === 'members' && rest.length === 4 && rest[3] === '$ref') {
    if (m !== 'DELETE') throw methodNotAllowed();
    requirePermission(ctx, 'removeGroupMember');
    ctx.tenant.removeGroupMember(gid, rest[2]!);
    return { status: 204 };
  }
  if ((sub === 'members' || sub === 'transitivemembers') && rest.length <= 3) {
    if (m !== 'GET') throw methodNotAllowed();
    requirePermission(ctx, sub === 'members' ? 'listGroupMembers' : 'listGroupTransitiveMembers');
    rejectOptions(opts, ['expand', 'orderby', 'search', 'count', 'skip', 'filter'], sub);
    const cast = rest[2]?.toLowerCase();
    if (cast && cast !== 'microsoft.graph.user' && cast !== 'microsoft.graph.group') {
      throw bad(`Resource not found for the segment '${rest[2]!}'.`, 'BadRequest');
    }
    if (select)
      checkSelect(
        select,
        cast === 'microsoft.graph.user' ? USER_PROPS : DIRECTORY_OBJECT_PROPS,
        cast === 'microsoft.graph.user' ? 'microsoft.graph.user' : 'microsoft.graph.directoryObject',
      );
    if (!g) throw notFound(rest[0]!);
    let ids: string[];
    if (sub === 'members') ids = [...g.members];
    else {
      const t = ctx.tenant.transitiveUsers(g);
      ids = [...t.users.map((u) => u.id), ...t.groups.map((x) => x.id)];
    }
    const objects = ids.filter((id) => {
      if (cast === 'microsoft.graph.user') return ctx.tenant.liveUser(id) !== undefined;
      if (cast === 'microsoft.graph.group') return ctx.tenant.groups.has(id);
      return ctx.tenant.liveUser(id) !== undefined || ctx.tenant.groups.has(id);
    });
    const top = parseTop(opts, 100, 999);
    return listPage(
      ctx,
      opts,
      objects,
      top,
      (id) => {
        if (cast === 'microsoft.graph.user') return userView(ctx.tenant.liveUser(id)!, select, false);
        if (cast === 'microsoft.graph.group') return groupView(ctx.tenant.groups.get(id)!, select, false);
        return directoryObjectView(ctx.tenant, id, select) ?? {};
      },
      cast === 'microsoft.graph.user' ? `users${selectLabel(select)}` : `directoryObjects${selectLabel(select)}`,
    );
  }
  throw bad(`Resource not found for the segment '${rest[1] ?? ''}'.`, 'BadRequest');
}

// /directoryRoles ...
function directoryRoles(ctx: GraphRequestContext, seg: string[]): GraphResult {
  const m = ctx.method;
  const opts = options(ctx);
  const select = parseSelect(opts.get('select') ?? null);
  // directoryRoles(roleTemplateId='…') is the alternate key.
  const alt = /^directoryRoles\(roleTemplateId='([^']+)'\)$/i.exec(seg[0]!);
  const rest = alt ? [alt[1]!, ...seg.slice(1)] : seg.slice(1);
  if (!alt && seg[0]!.toLowerCase() !== 'directoryroles')
    throw bad(`Resource not found for the segment '${seg[0]!}'.`, 'BadRequest');
  const expand = opts.get('expand');
  let expandMembers: { select: string[] | null } | null = null;
  if (expand !== undefined) {
    const e = /^members(?:\(\$select=([^)]*)\))?$/i.exec(expand.trim());
    if (!e) throw bad(`Could not find a property named '${expand}' on type 'microsoft.graph.directoryRole'.`);
    expandMembers = { select: e[1] !== undefined ? parseSelect(e[1]) : null };
    if (expandMembers.select)
      checkSelect(expandMembers.select, DIRECTORY_OBJECT_PROPS, 'microsoft.graph.directoryObject');
  }
  if (select) checkSelect(select, ROLE_PROPS, 'microsoft.graph.directoryRole');
  const view = (role: RoleRecord): Record<string, unknown> => {
    const out = roleView(role, select, false);
    if (expandMembers) {
      // Graph's known issue: $expand on a directory object's relationship returns at most 20
      // objects, with no @odata.nextLink to the rest.
      out.members = [...role.members]
        .map((id) => directoryObjectView(ctx.tenant, id, expandMembers.select))
        .filter((x): x is Record<string, unknown> => x !== null)
        .slice(0, EXPAND_LIMIT);
    }
    return out;
  };
  if (rest.length === 0) {
    if (m !== 'GET') throw m === 'POST' ? notImplemented('activating directory roles') : methodNotAllowed();
    requirePermission(ctx, 'listDirectoryRoles');
    rejectOptions(opts, ['orderby', 'search', 'count', 'skip', 'top'], '/directoryRoles');
    let all = [...ctx.tenant.directoryRoles.values()];
    const filter = opts.get('filter');
    if (filter !== undefined) {
      const clauses = parseFilter(filter);
      checkFilterPaths(clauses, ROLE_PROPS);
      all = all.filter((r) => clauses.every((c) => matchClause(r.props, c)));
    }
    return {
      status: 200,
      body: { '@odata.context': context(ctx, `directoryRoles${selectLabel(select)}`), value: all.map(view) },
    };
  }
  const role = ctx.tenant.findRole(rest[0]!);
  const sub = rest[1]?.toLowerCase();
  if (rest.length === 1) {
    if (m !== 'GET') throw methodNotAllowed();
    requirePermission(ctx, 'listDirectoryRoles');
    if (!role) throw notFound(rest[0]!);
    return { status: 200, body: { '@odata.context': context(ctx, 'directoryRoles/$entity'), ...view(role) } };
  }
  if (sub === 'members' && rest.length === 3 && rest[2] === '$ref') {
    if (m !== 'POST') throw methodNotAllowed();
    requirePermission(ctx, 'addDirectoryRoleMember');
    ctx.tenant.addDirectoryRoleMember(rest[0]!, refId(ctx));
    return { status: 204 };
  }
  if (sub === 'members' && rest.length === 4 && rest[3] === '$ref') {
    if (m !== 'DELETE') throw methodNotAllowed();
    requirePermission(ctx, 'removeDirectoryRoleMember');
    ctx.tenant.removeDirectoryRoleMember(rest[0]!, rest[2]!);
    return { status: 204 };
  }
  if (sub === 'members' && rest.length === 2) {
    if (m !== 'GET') throw methodNotAllowed();
    requirePermission(ctx, 'listDirectoryRoles');
    if (!role) throw notFound(rest[0]!);
    const memberSelect = select;
    return listPage(
      ctx,
      opts,
      [...role.members],
      parseTop(opts, 100, 999),
      (id) => directoryObjectView(ctx.tenant, id, memberSelect) ?? {},
      'directoryObjects',
    );
  }
  throw bad(`Resource not found for the segment '${rest[1] ?? ''}'.`, 'BadRequest');
}

// /roleManagement/directory/roleEligibilityScheduleInstances
function roleEligibilities(ctx: GraphRequestContext): GraphResult {
  const opts = options(ctx);
  requirePermission(ctx, 'listRoleEligibilityScheduleInstances');
  if (!ctx.tenant.premium) {
    throw new DirectoryError(400, 'AadPremiumLicenseRequired', 'The tenant needs an AAD Premium 2 license.');
  }
  rejectOptions(
    opts,
    ['orderby', 'search', 'count', 'skip'],
    '/roleManagement/directory/roleEligibilityScheduleInstances',
  );
  const expand = opts.get('expand');
  if (expand !== undefined && !/^principal$/i.test(expand.trim())) {
    throw bad(
      `Could not find a property named '${expand}' on type 'microsoft.graph.unifiedRoleEligibilityScheduleInstance'.`,
    );
  }
  const props = new Set([
    'id',
    'principalId',
    'roleDefinitionId',
    'directoryScopeId',
    'appScopeId',
    'startDateTime',
    'endDateTime',
    'memberType',
    'roleEligibilityScheduleId',
  ]);
  let list = [...ctx.tenant.roleEligibilities];
  const filter = opts.get('filter');
  if (filter !== undefined) {
    const clauses = parseFilter(filter);
    checkFilterPaths(clauses, props);
    list = list.filter((e) => clauses.every((c) => matchClause(e as unknown as Record<string, unknown>, c)));
  }
  return listPage(
    ctx,
    opts,
    list,
    parseTop(opts, 100, 999),
    (e) => {
      const out: Record<string, unknown> = {
        id: e.id,
        principalId: e.principalId,
        roleDefinitionId: e.roleDefinitionId,
        directoryScopeId: e.directoryScopeId,
        appScopeId: null,
        startDateTime: e.startDateTime,
        endDateTime: e.endDateTime,
        memberType: 'Direct',
        roleEligibilityScheduleId: e.id,
      };
      if (expand !== undefined) out.principal = directoryObjectView(ctx.tenant, e.principalId, ['id', 'displayName']);
      return out;
    },
    'roleManagement/directory/roleEligibilityScheduleInstances',
  );
}

// /auditLogs/signIns ...
function signIns(ctx: GraphRequestContext, rest: string[]): GraphResult {
  const opts = options(ctx);
  if (!ctx.tenant.premium) throw nonPremium();
  requirePermission(ctx, 'listSignIns');
  rejectOptions(opts, ['expand', 'search', 'count', 'skip'], '/auditLogs/signIns');
  const select = parseSelect(opts.get('select') ?? null);
  const signInProps = new Set<string>(SIGN_IN_PROPERTIES);
  if (select) checkSelect(select, signInProps, 'microsoft.graph.signIn');
  const view = (s: SignInRecord) => (select ? project(s.props, select, new Set()) : structuredClone(s.props));
  if (rest.length === 1) {
    const hit = ctx.tenant.allSignIns().find((s) => s.props.id === rest[0]);
    if (!hit) throw notFound(rest[0]!);
    return { status: 200, body: { '@odata.context': context(ctx, 'auditLogs/signIns/$entity'), ...view(hit) } };
  }
  if (rest.length > 1) throw bad(`Resource not found for the segment '${rest[1]!}'.`, 'BadRequest');
  const orderby = opts.get('orderby');
  if (orderby !== undefined && !/^createdDateTime(\s+desc)?$/i.test(orderby.trim())) {
    throw notImplemented(`$orderby=${orderby} on /auditLogs/signIns`);
  }
  let list: SignInRecord[];
  const filter = opts.get('filter');
  if (filter !== undefined) {
    const clauses = parseFilter(filter);
    checkFilterPaths(clauses, signInProps);
    const byUser = clauses.find((c) => c.path === 'userId' && c.op === 'eq' && typeof c.value === 'string');
    const base = byUser ? ctx.tenant.signInsOf(byUser.value as string) : ctx.tenant.allSignIns();
    list = base.filter((s) => clauses.every((c) => matchClause(s.props, c)));
  } else {
    list = ctx.tenant.allSignIns();
  }
  return listPage(ctx, opts, list, parseTop(opts, 1000, 1000), view, `auditLogs/signIns${selectLabel(select)}`);
}

// /directory/deletedItems ...
function deletedItems(ctx: GraphRequestContext, rest: string[]): GraphResult {
  const m = ctx.method;
  const opts = options(ctx);
  const select = parseSelect(opts.get('select') ?? null);
  const withDeleted = (r: UserRecord) => {
    const v = userView(r, select, true);
    if (!select) v.deletedDateTime = r.props.deletedDateTime;
    return v;
  };
  if (rest.length === 0)
    throw bad('Only a derived type of deletedItems can be listed, e.g. microsoft.graph.user.', 'Request_BadRequest');
  const first = rest[0]!.toLowerCase();
  if (rest.length === 1 && first.startsWith('microsoft.graph.')) {
    if (m !== 'GET') throw methodNotAllowed();
    requirePermission(ctx, 'listDeletedUsers');
    rejectOptions(opts, ['expand', 'orderby', 'search', 'count', 'skip', 'filter'], '/directory/deletedItems');
    if (select) checkSelect(select, USER_PROPS, 'microsoft.graph.user');
    if (first !== 'microsoft.graph.user') {
      return { status: 200, body: { '@odata.context': context(ctx, `directoryObjects`), value: [] } };
    }
    return listPage(
      ctx,
      opts,
      ctx.tenant.deletedUsers(),
      parseTop(opts, 100, 999),
      (r) => {
        const v = userView(r, select, false);
        if (!select) v.deletedDateTime = r.props.deletedDateTime;
        return v;
      },
      `directory/deletedItems/microsoft.graph.user${selectLabel(select)}`,
    );
  }
  const id = rest[0]!;
  if (rest.length === 1) {
    if (m === 'GET') {
      requirePermission(ctx, 'getDeletedItem');
      if (select) checkSelect(select, USER_PROPS, 'microsoft.graph.user');
      const r = ctx.tenant.deletedRecord(id);
      if (!r) throw notFound(id);
      return {
        status: 200,
        body: { '@odata.context': context(ctx, 'directory/deletedItems/$entity'), ...withDeleted(r) },
      };
    }
    if (m === 'DELETE') {
      requirePermission(ctx, 'permanentlyDeleteItem');
      ctx.tenant.permanentlyDelete(id);
      return { status: 204 };
    }
    throw methodNotAllowed();
  }
  if (rest.length === 2 && rest[1]!.toLowerCase() === 'restore') {
    if (m !== 'POST') throw methodNotAllowed();
    requirePermission(ctx, 'restoreDeletedItem');
    const r = ctx.tenant.restore(id);
    return {
      status: 200,
      body: { '@odata.context': context(ctx, 'directoryObjects/$entity'), ...userView(r, null, true) },
    };
  }
  throw bad(`Resource not found for the segment '${rest[1]!}'.`, 'BadRequest');
}
