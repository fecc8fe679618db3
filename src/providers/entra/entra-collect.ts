/**
 * The Entra inventory (DESIGN §2c): every user from `GET /users` (paged to the end), the holders
 * of protected directory roles, and the members of exempt groups, each read once per scan.
 */
import { z } from 'zod';
import type { Config } from '../../config/config.js';
import { CloudError, UsageError } from '../../errors.js';
import type { Identity, Inventory } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import type { ProgressSink } from '../provider.js';
import { graphFailure, isSignInActivityRefused } from './entra-errors.js';
import { GraphRequestError, pages, type GraphTransport } from './entra-graph.js';
import {
  graphUserSchema,
  graphUserWithoutSignInSchema,
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
  displayName: z.string().nullable(),
  roleTemplateId: z.string().nullable().optional(),
  members: z.array(memberSchema).optional(),
});

const idOnly = z.object({ id: z.string().min(1) });

/** Graph's documented cap on an $expand of directory objects: at the cap the list may be cut short. */
const EXPAND_CAP = 100;

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

/**
 * Who holds a protected directory role (directly, or through a role-assignable group) and who
 * is in an exempt group. A reread asks again, so that apply acts on live marks.
 */
export async function loadMarks(ctx: EntraContext): Promise<EntraMarks> {
  const marks: EntraMarks = { protectedRoles: new Map(), exemptGroups: new Map() };
  const wanted = new Set(ctx.entra.protectedRoles.map((r) => r.toLowerCase()));
  const tasks: Promise<void>[] = [];
  if (wanted.size > 0) {
    tasks.push(
      (async () => {
        const roles = await all(
          ctx,
          '/directoryRoles?$expand=members($select=id)',
          directoryRoleSchema,
          'directory roles',
        );
        for (const role of roles) {
          const name = role.displayName ?? role.roleTemplateId ?? role.id;
          if (!wanted.has(name.toLowerCase()) && !wanted.has((role.roleTemplateId ?? '').toLowerCase())) continue;
          const members = role.members ?? [];
          if (members.length >= EXPAND_CAP) {
            throw new CloudError(
              `the directory role ${name} has ${members.length} or more members, more than Graph lists in one answer; dormant cannot tell who is protected, so it stops`,
              'ProtectedRoleTooLarge',
            );
          }
          for (const m of members) {
            const type = m['@odata.type'] ?? '#microsoft.graph.user';
            if (type === '#microsoft.graph.user') add(marks.protectedRoles, m.id, name);
            else if (type === '#microsoft.graph.group') {
              for (const id of await transitiveUserIds(ctx, m.id)) add(marks.protectedRoles, id, name);
            }
          }
        }
      })(),
    );
  }
  for (const groupId of ctx.entra.exemptGroups) {
    tasks.push(
      (async () => {
        try {
          for (const id of await transitiveUserIds(ctx, groupId)) add(marks.exemptGroups, id, groupId);
        } catch (err) {
          if (err instanceof GraphRequestError && err.status === 404) {
            throw new UsageError(
              `entra.exemptGroups: there is no group ${groupId} in tenant ${ctx.entra.tenantId}; use the group's object id`,
            );
          }
          throw err;
        }
      })(),
    );
  }
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return marks;
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
      caller: null,
      identities,
      warnings,
    };
  } catch (err) {
    throw graphFailure(err, 'scan again');
  }
}
