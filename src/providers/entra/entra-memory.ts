/**
 * An in-memory Entra tenant behind the same GraphTransport as the real client, so that
 * `dormant demo` (and in-process tests) scan, plan, apply and restore with the provider's own
 * code and no network. It answers the Graph calls dormant makes, in Graph's shapes.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseConfig, type Config } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import { DAY_MS } from '../../model/time.js';
import type { ProviderSession } from '../provider.js';
import { createEntraSession, requireEntraIds } from './entra-entry.js';
import { GraphCallCounter, GraphRequestError, routeOf, type GraphMethod, type GraphTransport } from './entra-graph.js';
import { SOFT_DELETE_DAYS } from './entra-restore.js';
import { type MemoryTenantFile, memoryTenantSchema } from './entra-memory-file.js';

export { memoryTenantSchema, type MemoryTenantFile } from './entra-memory-file.js';

type MemoryUser = MemoryTenantFile['users'][number];

const ORIGIN = 'https://graph.microsoft.com';

/** Graph's cap on an $expand of directory objects: at most 20, and no nextLink to the rest. */
const EXPAND_LIMIT = 20;

function fail(method: GraphMethod, path: string, status: number, code: string, message: string): never {
  throw new GraphRequestError(method, routeOf(path), status, code, message, 1);
}

/** The in-memory tenant: its state is public so a demo can narrate it and tests can age it. */
export class MemoryTenant implements GraphTransport {
  readonly counter = new GraphCallCounter();
  readonly users = new Map<string, MemoryUser>();
  readonly deleted = new Map<string, { user: MemoryUser; deletedAt: number }>();
  readonly revoked = new Map<string, number>();
  /** Every write, in order ("PATCH /users/{id} bob@contoso.com"). */
  readonly writes: string[] = [];

  constructor(
    readonly file: MemoryTenantFile,
    readonly clock: () => Date = () => new Date(file.asOf),
  ) {
    for (const u of file.users) this.users.set(u.id, structuredClone(u));
  }

  static load(path: string, clock?: () => Date): MemoryTenant {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read the demo tenant ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const parsed = memoryTenantSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new UsageError(`${path}: ${i ? `${i.path.map(String).join('.')}: ${i.message}` : 'invalid tenant'}`);
    }
    return new MemoryTenant(parsed.data, clock);
  }

  private now(): number {
    return this.clock().getTime();
  }

  /** Entra purges a deleted user after 30 days. */
  private purge(): void {
    for (const [id, d] of this.deleted)
      if (this.now() - d.deletedAt >= SOFT_DELETE_DAYS * DAY_MS) this.deleted.delete(id);
  }

  private view(u: MemoryUser, select: string[] | null): Record<string, unknown> {
    const full: Record<string, unknown> = { ...u };
    delete full.manager;
    const keys = select ?? ['id', 'userPrincipalName', 'displayName', 'mail'];
    const out: Record<string, unknown> = { id: u.id };
    for (const k of keys) out[k] = k in full ? structuredClone(full[k]) : null;
    return out;
  }

  private user(method: GraphMethod, path: string, id: string): MemoryUser {
    const u = this.users.get(id) ?? [...this.users.values()].find((x) => x.userPrincipalName === id);
    if (!u)
      fail(
        method,
        path,
        404,
        'Request_ResourceNotFound',
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    return u;
  }

  private refId(body: unknown): string {
    const ref = (body as { '@odata.id'?: unknown } | null)?.['@odata.id'];
    const id = typeof ref === 'string' ? ref.split('/').pop() : undefined;
    if (!id) fail('POST', '/$ref', 400, 'Request_BadRequest', 'Invalid @odata.id');
    return id;
  }

  /** A role's members as Graph lists them: users that exist, and groups. */
  private roleMembers(r: { members: string[] }): { '@odata.type': string; id: string }[] {
    return r.members.flatMap((id) => {
      const o = this.directoryObject(id);
      return o ? [o] : [];
    });
  }

  private directoryObject(id: string): { '@odata.type': string; id: string } | null {
    if (this.users.has(id)) return { '@odata.type': '#microsoft.graph.user', id };
    if (this.file.groups.some((g) => g.id === id)) return { '@odata.type': '#microsoft.graph.group', id };
    return null;
  }

  /** One page of a list, with a $skiptoken nextLink as Graph gives. */
  private page(url: URL, all: unknown[], top: number): Record<string, unknown> {
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
    const next = skip + top < all.length ? new URL(url) : null;
    next?.searchParams.set('$skiptoken', String(skip + top));
    return { value: all.slice(skip, skip + top), ...(next ? { '@odata.nextLink': next.toString() } : {}) };
  }

  async send(method: GraphMethod, path: string, body?: unknown): Promise<unknown> {
    this.counter.request(method, path);
    this.purge();
    const url = new URL(path.startsWith('http') ? path : `${ORIGIN}/v1.0${path}`);
    const seg = url.pathname
      .replace(/^\/v1\.0\//, '')
      .split('/')
      .map(decodeURIComponent);
    const q = url.searchParams;
    const select =
      q
        .get('$select')
        ?.split(',')
        .map((s) => s.trim()) ?? null;
    const top = Number(q.get('$top') ?? '100');
    const key = `${method} ${routeOf(path)}`;
    const conflict = () =>
      fail(
        method,
        path,
        400,
        'Request_BadRequest',
        "One or more added object references already exist for the following modified properties: 'members'.",
      );
    switch (key) {
      case 'GET /users': {
        if (select?.includes('signInActivity') && !this.file.premium) {
          fail(
            method,
            path,
            403,
            'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
            "Neither tenant is B2C or tenant doesn't have premium license",
          );
        }
        const all = [...this.users.values()];
        const skip = Number(q.get('$skiptoken') ?? '0');
        const value = all.slice(skip, skip + top).map((u) => this.view(u, select));
        const next = skip + top < all.length ? new URL(url) : null;
        next?.searchParams.set('$skiptoken', String(skip + top));
        return {
          '@odata.context': `${ORIGIN}/v1.0/$metadata#users`,
          value,
          ...(next ? { '@odata.nextLink': next.toString() } : {}),
        };
      }
      case 'GET /users/{id}': {
        if (select?.includes('signInActivity') && !this.file.premium) {
          fail(
            method,
            path,
            403,
            'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
            "Neither tenant is B2C or tenant doesn't have premium license",
          );
        }
        return this.view(this.user(method, path, seg[1]!), select);
      }
      case 'GET /directoryRoles': {
        const expand = /^members/i.test(q.get('$expand') ?? '');
        return {
          value: this.file.directoryRoles.map((r) => ({
            id: r.id,
            displayName: r.displayName,
            roleTemplateId: r.roleTemplateId,
            ...(expand ? { members: this.roleMembers(r).slice(0, EXPAND_LIMIT) } : {}),
          })),
        };
      }
      case 'GET /directoryRoles/{id}/members': {
        const r = this.file.directoryRoles.find((x) => x.id === seg[1] || x.roleTemplateId === seg[1]);
        if (!r) fail(method, path, 404, 'Request_ResourceNotFound', `Resource '${seg[1]}' does not exist.`);
        return this.page(url, this.roleMembers(r), top);
      }
      case 'GET /roleManagement/directory/roleEligibilityScheduleInstances': {
        const role = /roleDefinitionId eq '([^']+)'/.exec(q.get('$filter') ?? '')?.[1];
        const expand = q.get('$expand') === 'principal';
        const items = this.file.roleEligibilities
          .filter((e) => role === undefined || e.roleDefinitionId === role)
          .map((e, i) => ({
            id: `${e.roleDefinitionId}-${e.principalId}-${i}`,
            principalId: e.principalId,
            roleDefinitionId: e.roleDefinitionId,
            directoryScopeId: '/',
            ...(expand ? { principal: this.directoryObject(e.principalId) } : {}),
          }));
        return this.page(url, items, top);
      }
      case 'GET /users/{id}/transitiveMemberOf/microsoft.graph.directoryRole': {
        const u = this.user(method, path, seg[1]!);
        const via = new Set([u.id, ...this.file.groups.filter((g) => g.members.includes(u.id)).map((g) => g.id)]);
        return this.page(
          url,
          this.file.directoryRoles
            .filter((r) => r.members.some((m) => via.has(m)))
            .map((r) => ({ id: r.id, displayName: r.displayName, roleTemplateId: r.roleTemplateId })),
          top,
        );
      }
      case 'POST /users/{id}/checkMemberGroups': {
        const u = this.user(method, path, seg[1]!);
        const ids = (body as { groupIds?: unknown } | null)?.groupIds;
        if (!Array.isArray(ids) || ids.length > 20)
          fail(method, path, 400, 'Request_BadRequest', 'groupIds must be an array of at most 20 group ids');
        return {
          value: (ids as string[]).filter((id) =>
            this.file.groups.some((g) => g.id === id && g.members.includes(u.id)),
          ),
        };
      }
      case 'GET /groups/{id}': {
        const g = this.file.groups.find((x) => x.id === seg[1]);
        if (!g) fail(method, path, 404, 'Request_ResourceNotFound', `Resource '${seg[1]}' does not exist.`);
        return { id: g.id, displayName: g.displayName };
      }
      case 'GET /groups/{id}/transitiveMembers/microsoft.graph.user': {
        const g = this.file.groups.find((x) => x.id === seg[1]);
        if (!g) fail(method, path, 404, 'Request_ResourceNotFound', `Resource '${seg[1]}' does not exist.`);
        return { value: g.members.filter((m) => this.users.has(m)).map((id) => ({ id })) };
      }
      case 'GET /users/{id}/memberOf': {
        const u = this.user(method, path, seg[1]!);
        return {
          value: [
            ...this.file.groups
              .filter((g) => g.members.includes(u.id))
              .map((g) => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName })),
            ...this.file.directoryRoles
              .filter((r) => r.members.includes(u.id))
              .map((r) => ({ '@odata.type': '#microsoft.graph.directoryRole', id: r.id, displayName: r.displayName })),
          ],
        };
      }
      case 'GET /users/{id}/appRoleAssignments': {
        const u = this.user(method, path, seg[1]!);
        return { value: this.file.appRoleAssignments.filter((a) => a.principalId === u.id) };
      }
      case 'GET /users/{id}/manager': {
        const u = this.user(method, path, seg[1]!);
        const m = u.manager ? this.users.get(u.manager) : undefined;
        if (!m)
          fail(
            method,
            path,
            404,
            'Request_ResourceNotFound',
            `Resource 'manager' does not exist or one of its queried reference-property objects are not present.`,
          );
        return { '@odata.type': '#microsoft.graph.user', id: m.id, userPrincipalName: m.userPrincipalName };
      }
      case 'GET /auditLogs/signIns': {
        if (!this.file.premium)
          fail(
            method,
            path,
            403,
            'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
            "Neither tenant is B2C or tenant doesn't have premium license",
          );
        const userId = /userId eq '([^']+)'/.exec(q.get('$filter') ?? '')?.[1];
        return {
          value: this.file.signIns
            .filter((s) => s.userId === userId)
            .sort((a, b) => Date.parse(b.createdDateTime) - Date.parse(a.createdDateTime))
            .slice(0, top)
            .map((s, i) => ({
              id: `${s.userId}-${i}`,
              createdDateTime: s.createdDateTime,
              appDisplayName: s.appDisplayName,
              ipAddress: s.ipAddress,
              isInteractive: s.isInteractive,
              clientAppUsed: 'Browser',
              location: { city: s.city, state: null, countryOrRegion: s.countryOrRegion },
              status: { errorCode: s.errorCode, failureReason: s.errorCode === 0 ? null : 'Sign-in failed' },
            })),
        };
      }
      case 'GET /directory/deletedItems/{id}': {
        const d = this.deleted.get(seg[2]!);
        if (!d) fail(method, path, 404, 'Request_ResourceNotFound', `Resource '${seg[2]}' does not exist.`);
        return {
          '@odata.type': '#microsoft.graph.user',
          ...this.view(d.user, null),
          deletedDateTime: new Date(d.deletedAt).toISOString(),
        };
      }
      case 'PATCH /users/{id}': {
        const u = this.user(method, path, seg[1]!);
        const patch = body as { accountEnabled?: unknown };
        if (u.onPremisesSyncEnabled) {
          fail(
            method,
            path,
            400,
            'Request_BadRequest',
            'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
          );
        }
        if (typeof patch?.accountEnabled === 'boolean') u.accountEnabled = patch.accountEnabled;
        this.writes.push(`PATCH accountEnabled=${String(patch?.accountEnabled)} ${u.userPrincipalName}`);
        return null;
      }
      case 'POST /users/{id}/revokeSignInSessions': {
        const u = this.user(method, path, seg[1]!);
        this.revoked.set(u.id, this.now());
        this.writes.push(`POST revokeSignInSessions ${u.userPrincipalName}`);
        return { value: true };
      }
      case 'DELETE /users/{id}': {
        const u = this.user(method, path, seg[1]!);
        this.users.delete(u.id);
        this.deleted.set(u.id, { user: u, deletedAt: this.now() });
        // Entra drops directory roles, app role assignments and the manager link of a deleted user.
        for (const r of this.file.directoryRoles) r.members = r.members.filter((m) => m !== u.id);
        this.file.appRoleAssignments = this.file.appRoleAssignments.filter((a) => a.principalId !== u.id);
        u.manager = null;
        this.writes.push(`DELETE ${u.userPrincipalName}`);
        return null;
      }
      case 'POST /directory/deletedItems/{id}/restore': {
        const d = this.deleted.get(seg[2]!);
        if (!d) fail(method, path, 404, 'Request_ResourceNotFound', `Resource '${seg[2]}' does not exist.`);
        this.deleted.delete(d.user.id);
        this.users.set(d.user.id, d.user);
        this.writes.push(`POST restore ${d.user.userPrincipalName}`);
        return this.view(d.user, null);
      }
      case 'POST /groups/{id}/members/$ref': {
        const g = this.file.groups.find((x) => x.id === seg[1]);
        if (!g) fail(method, path, 404, 'Request_ResourceNotFound', `Resource '${seg[1]}' does not exist.`);
        const id = this.refId(body);
        if (g.members.includes(id)) conflict();
        g.members.push(id);
        this.writes.push(`POST group member ${g.displayName} ${id}`);
        return null;
      }
      case 'POST /directoryRoles/{id}/members/$ref': {
        const r = this.file.directoryRoles.find((x) => x.id === seg[1]);
        if (!r) fail(method, path, 404, 'Request_ResourceNotFound', `Resource '${seg[1]}' does not exist.`);
        const id = this.refId(body);
        if (r.members.includes(id)) conflict();
        r.members.push(id);
        this.writes.push(`POST role member ${r.displayName} ${id}`);
        return null;
      }
      case 'POST /users/{id}/appRoleAssignments': {
        const u = this.user(method, path, seg[1]!);
        const b = body as { resourceId: string; appRoleId: string };
        const a = {
          id: randomUUID(),
          principalId: u.id,
          resourceId: b.resourceId,
          appRoleId: b.appRoleId,
          resourceDisplayName: null,
        };
        this.file.appRoleAssignments.push(a);
        this.writes.push(`POST appRoleAssignment ${u.userPrincipalName} ${b.appRoleId}`);
        return a;
      }
      case 'POST /users/{id}/assignLicense': {
        const u = this.user(method, path, seg[1]!);
        const add = (body as { addLicenses: { skuId: string; disabledPlans: string[] }[] }).addLicenses;
        for (const l of add) if (!u.assignedLicenses.some((x) => x.skuId === l.skuId)) u.assignedLicenses.push(l);
        this.writes.push(`POST assignLicense ${u.userPrincipalName}`);
        return this.view(u, null);
      }
      case 'PUT /users/{id}/manager/$ref': {
        const u = this.user(method, path, seg[1]!);
        u.manager = this.refId(body);
        this.writes.push(`PUT manager ${u.userPrincipalName}`);
        return null;
      }
      default:
        return fail(method, path, 400, 'BadRequest', `the demo tenant does not implement ${key}`);
    }
  }
}

export interface DemoEntraSession extends ProviderSession {
  /** The in-memory tenant, for narration (its `writes`) and tests. */
  readonly tenant: MemoryTenant;
  /** The config the demo scans with: entra enabled, the file's tenant id and exemptions. */
  readonly config: Config;
  /** The instant the demo tenant is evaluated at. */
  readonly asOf: Date;
}

/**
 * Opens the demo tenant from a JSON file (examples/entra/tenant.json): a ProviderSession over
 * an in-memory Graph, with no network. `options.config` is the base the file's Entra settings are merged into.
 */
export async function openDemoEntra(
  path: string,
  options: { config?: Config; clock?: () => Date } = {},
): Promise<DemoEntraSession> {
  const tenant = MemoryTenant.load(path, options.clock);
  const base = options.config ?? parseConfig({});
  const config: Config = {
    ...base,
    entra: {
      ...base.entra,
      enabled: true,
      tenantId: tenant.file.tenantId,
      clientId: base.entra.clientId ?? 'dormant-demo',
      graphUrl: ORIGIN,
      exemptUsers: [...base.entra.exemptUsers, ...tenant.file.entra.exemptUsers],
      exemptGroups: [...base.entra.exemptGroups, ...tenant.file.entra.exemptGroups],
    },
  };
  const session = createEntraSession({ transport: tenant, entra: requireEntraIds(config.entra), clock: tenant.clock });
  return { ...session, tenant, config, asOf: new Date(tenant.file.asOf) };
}
