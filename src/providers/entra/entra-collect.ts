/**
 * The Entra inventory (DESIGN §2c): every user from `GET /users` (paged to the end), the holders
 * of protected directory roles (and those eligible for one through PIM), and the members of
 * exempt groups, each read once per scan.
 */
import { z } from 'zod';
import type { Config } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import type { Identity, Inventory } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import type { ProgressSink } from '../provider.js';
import { graphFailure, isSignInActivityRefused } from './entra-errors.js';
import { GraphRequestError, pages, parseBody, type GraphTransport } from './entra-graph.js';
import {
  graphUserSchema,
  graphUserWithoutSignInSchema,
  callerUserId,
  identityMapper,
  USER_SELECT,
  USER_SELECT_WITHOUT_SIGN_IN,
  type EntraMarks,
  type GraphUser,
} from './entra-identity.js';

export type EntraConfig = Config['entra'] & { tenantId: string; clientId: string };

export interface EntraContext {
  transport: GraphTransport;
  entra: EntraConfig;
  /** The Graph origin (`https://graph.microsoft.com`): page links must stay on it. */
  origin: string;
  progress?: ProgressSink;
}

const memberSchema = z.object({ '@odata.type': z.string().optional(), id: z.string().min(1) });

const directoryRoleSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().nullable().optional(),
  roleTemplateId: z.string().nullable().optional(),
});

const eligibilitySchema = z.object({
  principalId: z.string().min(1),
  roleDefinitionId: z.string().nullable().optional(),
  principal: memberSchema.nullable().optional(),
});

const idOnly = z.object({ id: z.string().min(1) });

type DirectoryRole = z.infer<typeof directoryRoleSchema>;

/**
 * The built-in roles that are always protected, whatever entra.protectedRoles says (matched by
 * roleTemplateId, which is the same in every tenant and is the roleDefinitionId of PIM).
 */
export const ALWAYS_PROTECTED_ROLES: Readonly<Record<string, string>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which roles are protected: the built-in two, and entra.protectedRoles (names or template ids). */
export class ProtectedRoles {
  readonly templates = new Map<string, string>(Object.entries(ALWAYS_PROTECTED_ROLES));
  private readonly names = new Set<string>();

  constructor(config: readonly string[]) {
    for (const entry of config) {
      const e = entry.trim().toLowerCase();
      if (GUID.test(e)) {
        if (!this.templates.has(e)) this.templates.set(e, e);
      } else this.names.add(e);
    }
  }

  /** Whether an (activated) directory role is protected: by template id, or by display name. */
  matches(role: DirectoryRole): boolean {
    const t = role.roleTemplateId?.toLowerCase();
    if (t && this.templates.has(t)) return true;
    return (
      role.displayName !== null && role.displayName !== undefined && this.names.has(role.displayName.toLowerCase())
    );
  }

  static label(role: DirectoryRole): string {
    return role.displayName ?? role.roleTemplateId ?? role.id;
  }

  /** The template ids whose PIM eligibilities to read: the configured ones, and those of named roles found activated. */
  eligibilityTemplates(roles: readonly DirectoryRole[]): Map<string, string> {
    const out = new Map(this.templates);
    for (const r of roles) {
      const t = r.roleTemplateId?.toLowerCase();
      if (t && this.matches(r)) out.set(t, ProtectedRoles.label(r));
    }
    return out;
  }
}

async function all<T>(ctx: EntraContext, path: string, schema: z.ZodType<T>, what: string): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages(ctx.transport, path, schema, what, ctx.origin)) out.push(...page);
  return out;
}

async function transitiveUserIds(ctx: EntraContext, groupId: string): Promise<string[]> {
  const path = `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=id&$top=999`;
  return (await all(ctx, path, idOnly, `members of group ${groupId}`)).map((m) => m.id);
}

function add(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

/** Users, and the users of groups (transitively): a role-assignable group passes its role on. */
async function addPrincipal(
  ctx: EntraContext,
  map: Map<string, string[]>,
  member: { '@odata.type'?: string; id: string },
  label: string,
): Promise<void> {
  const type = member['@odata.type'] ?? '#microsoft.graph.user';
  if (type === '#microsoft.graph.group') {
    for (const id of await transitiveUserIds(ctx, member.id)) add(map, id, label);
  } else if (type === '#microsoft.graph.user') add(map, member.id, label);
}

/** Every activated directory role (paged; no $expand: Graph cuts an expansion at 20 without a nextLink). */
export function listDirectoryRoles(ctx: EntraContext): Promise<DirectoryRole[]> {
  return all(ctx, '/directoryRoles?$select=id,displayName,roleTemplateId', directoryRoleSchema, 'directory roles');
}

/** Graph's answer for PIM in a tenant without Entra ID P2: nobody can be eligible there. */
function isPimUnlicensed(err: unknown): boolean {
  return (
    err instanceof GraphRequestError &&
    (err.status === 400 || err.status === 403) &&
    err.code === 'AadPremiumLicenseRequired'
  );
}

/**
 * Who is eligible (PIM) for a protected role, directly or through a group. A refusal (403) is an
 * error naming RoleEligibilitySchedule.Read.Directory: acting on a possibly eligible admin is worse.
 */
export async function loadEligible(ctx: EntraContext, templates: Map<string, string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    [...templates].map(async ([templateId, label]) => {
      const filter = encodeURIComponent(`roleDefinitionId eq '${templateId}'`);
      const path = `/roleManagement/directory/roleEligibilityScheduleInstances?$filter=${filter}&$expand=principal`;
      let items: z.infer<typeof eligibilitySchema>[];
      try {
        items = await all(ctx, path, eligibilitySchema, `eligibilities for ${label}`);
      } catch (err) {
        if (isPimUnlicensed(err)) return;
        throw err;
      }
      for (const e of items) {
        const principal = e.principal ?? { id: e.principalId };
        // An unknown principal type is taken as a user: protecting a non-user costs nothing.
        await addPrincipal(
          ctx,
          out,
          { ...principal, '@odata.type': principal['@odata.type'] ?? '#microsoft.graph.user' },
          label,
        );
      }
    }),
  );
  return out;
}

/** The user the access token was issued to (dormant signed in as a user), or null. */
export async function loadCaller(ctx: EntraContext): Promise<string | null> {
  return callerUserId((await ctx.transport.tokenClaims?.()) ?? null);
}

function exemptGroupMissing(ctx: EntraContext, groupId: string): UsageError {
  return new UsageError(
    `entra.exemptGroups: there is no group ${groupId} in tenant ${ctx.entra.tenantId}; use the group's object id`,
  );
}

/**
 * Who holds a protected directory role (directly, or through a role-assignable group), who is
 * eligible for one (PIM), who is in an exempt group, and who dormant runs as.
 */
export async function loadMarks(ctx: EntraContext): Promise<EntraMarks> {
  const marks: EntraMarks = {
    protectedRoles: new Map(),
    exemptGroups: new Map(),
    eligibleRoles: new Map(),
    caller: null,
  };
  const wanted = new ProtectedRoles(ctx.entra.protectedRoles);
  const tasks: Promise<void>[] = [];
  tasks.push(
    (async () => {
      const roles = await listDirectoryRoles(ctx);
      const work: Promise<unknown>[] = [];
      for (const role of roles.filter((r) => wanted.matches(r))) {
        const label = ProtectedRoles.label(role);
        work.push(
          (async () => {
            const path = `/directoryRoles/${encodeURIComponent(role.id)}/members?$select=id`;
            for (const m of await all(ctx, path, memberSchema, `members of the directory role ${label}`)) {
              await addPrincipal(ctx, marks.protectedRoles, m, label);
            }
          })(),
        );
      }
      work.push(
        loadEligible(ctx, wanted.eligibilityTemplates(roles)).then((e) => {
          marks.eligibleRoles = e;
        }),
      );
      await settle(work);
    })(),
  );
  tasks.push(
    loadCaller(ctx).then((c) => {
      marks.caller = c;
    }),
  );
  for (const groupId of ctx.entra.exemptGroups) {
    tasks.push(
      (async () => {
        try {
          for (const id of await transitiveUserIds(ctx, groupId)) add(marks.exemptGroups, id, groupId);
        } catch (err) {
          if (err instanceof GraphRequestError && err.status === 404) throw exemptGroupMissing(ctx, groupId);
          throw err;
        }
      })(),
    );
  }
  await settle(tasks);
  return marks;
}

/** Waits for all; throws the first failure (none is left running unobserved). */
async function settle(tasks: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** How long the tenant-wide part of a re-read's marks (roles list, eligibility, groups) is kept. */
export const MARKS_TTL_MS = 60_000;

interface SharedMarks {
  at: number;
  roles: Map<string, DirectoryRole>;
  eligible: Map<string, string[]>;
  caller: string | null;
}

/**
 * The marks of one user, for a re-read right before acting: its directory roles read live
 * (transitiveMemberOf, so roles through groups count), exempt groups checked live
 * (checkMemberGroups, transitive); PIM eligibility, the role list and the caller are read once
 * per MARKS_TTL_MS.
 */
export class UserMarks {
  private shared: SharedMarks | null = null;
  private pending: Promise<SharedMarks> | null = null;

  constructor(
    private readonly ctx: EntraContext,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private async loadShared(): Promise<SharedMarks> {
    const wanted = new ProtectedRoles(this.ctx.entra.protectedRoles);
    const ctx = this.ctx;
    const [roles, caller] = await Promise.all([
      listDirectoryRoles(ctx),
      loadCaller(ctx),
      // An exempt group that has gone would silently exempt nobody: check they all exist.
      ...ctx.entra.exemptGroups.map(async (g) => {
        try {
          await ctx.transport.send('GET', `/groups/${encodeURIComponent(g)}?$select=id`);
        } catch (err) {
          if (err instanceof GraphRequestError && err.status === 404) throw exemptGroupMissing(ctx, g);
          throw err;
        }
      }),
    ]);
    const eligible = await loadEligible(ctx, wanted.eligibilityTemplates(roles));
    return { at: this.now(), roles: new Map(roles.map((r) => [r.id.toLowerCase(), r])), eligible, caller };
  }

  private async sharedMarks(): Promise<SharedMarks> {
    if (this.shared && this.now() - this.shared.at < MARKS_TTL_MS) return this.shared;
    this.pending ??= this.loadShared().finally(() => {
      this.pending = null;
    });
    this.shared = await this.pending;
    return this.shared;
  }

  async of(userId: string): Promise<EntraMarks> {
    const ctx = this.ctx;
    const wanted = new ProtectedRoles(ctx.entra.protectedRoles);
    const enc = encodeURIComponent(userId);
    const [shared, heldRoles, groups] = await Promise.all([
      this.sharedMarks(),
      all(
        ctx,
        `/users/${enc}/transitiveMemberOf/microsoft.graph.directoryRole?$select=id,displayName,roleTemplateId`,
        directoryRoleSchema,
        `directory roles of ${userId}`,
      ),
      this.exemptGroupsOf(userId),
    ]);
    const marks: EntraMarks = {
      protectedRoles: new Map(),
      exemptGroups: new Map(),
      eligibleRoles: new Map(),
      caller: shared.caller,
    };
    for (const r of heldRoles) {
      // A role Graph names without its template or name is taken as protected: it cannot be told apart.
      const known = shared.roles.get(r.id.toLowerCase());
      const role = {
        ...r,
        roleTemplateId: r.roleTemplateId ?? known?.roleTemplateId,
        displayName: r.displayName ?? known?.displayName,
      };
      if (wanted.matches(role) || (!role.roleTemplateId && !role.displayName)) {
        add(marks.protectedRoles, userId, ProtectedRoles.label(role));
      }
    }
    if (groups.length > 0) marks.exemptGroups.set(userId, groups);
    const eligible = shared.eligible.get(userId) ?? shared.eligible.get(userId.toLowerCase());
    if (eligible) marks.eligibleRoles!.set(userId, eligible);
    return marks;
  }

  private async exemptGroupsOf(userId: string): Promise<string[]> {
    const groupIds = this.ctx.entra.exemptGroups;
    if (groupIds.length === 0) return [];
    const out: string[] = [];
    // Graph takes at most 20 group ids per checkMemberGroups.
    for (let i = 0; i < groupIds.length; i += 20) {
      const chunk = groupIds.slice(i, i + 20);
      const body = await this.ctx.transport.send('POST', `/users/${encodeURIComponent(userId)}/checkMemberGroups`, {
        groupIds: chunk,
      });
      const value = parseBody(z.object({ value: z.array(z.string()) }), body, `group check of ${userId}`).value.map(
        (v) => v.toLowerCase(),
      );
      for (const g of chunk) if (value.includes(g.toLowerCase())) out.push(g);
    }
    return out;
  }
}

/** The warning for a tenant whose sign-in activity cannot be read, naming what is missing. */
export function signInRefusedWarning(err: GraphRequestError): string {
  const missing =
    err.code === 'Authentication_RequestFromNonPremiumTenantOrB2CTenant'
      ? 'an Entra ID P1 or P2 licence in the tenant'
      : 'the Graph application permission AuditLog.Read.All (with admin consent)';
  return `Entra: Graph refused signInActivity (${err.code}): it needs ${missing}. Every user's last sign-in is unknown, so no Entra user is called inactive.`;
}

export function usersPath(withSignIn: boolean): string {
  return `/users?$select=${(withSignIn ? USER_SELECT : USER_SELECT_WITHOUT_SIGN_IN).join(',')}&$top=999`;
}

async function listUsers(ctx: EntraContext, withSignIn: boolean, map: (u: GraphUser) => Identity): Promise<Identity[]> {
  const identities: Identity[] = [];
  const schema = withSignIn ? graphUserSchema : graphUserWithoutSignInSchema;
  for await (const page of pages<GraphUser>(ctx.transport, usersPath(withSignIn), schema, 'users', ctx.origin)) {
    for (const user of page) identities.push(map(user));
    ctx.progress?.(`Entra: ${identities.length} users read`);
  }
  return identities;
}

/** The whole inventory of one tenant. Throws a one-line DormantError rather than return part of it. */
export async function collectEntra(ctx: EntraContext, now: Date = new Date()): Promise<Inventory> {
  try {
    const marks = await loadMarks(ctx);
    const map = identityMapper({ tenantId: ctx.entra.tenantId, exemptUsers: ctx.entra.exemptUsers, marks });
    const warnings: string[] = [];
    let identities: Identity[];
    try {
      identities = await listUsers(ctx, true, map);
    } catch (err) {
      if (!isSignInActivityRefused(err)) throw err;
      warnings.push(signInRefusedWarning(err));
      identities = await listUsers(ctx, false, map);
    }
    return {
      provider: 'entra',
      source: 'graph',
      accounts: [ctx.entra.tenantId],
      dataAsOf: isoSeconds(now),
      caller: marks.caller ? { arn: marks.caller, account: ctx.entra.tenantId } : null,
      identities,
      warnings,
    };
  } catch (err) {
    throw graphFailure(err, 'scan again');
  }
}
