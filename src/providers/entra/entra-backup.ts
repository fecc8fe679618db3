/**
 * The Entra backup envelope (version 1): the user's properties, group memberships, directory
 * roles, app role assignments, licences and manager, taken before the first change and
 * validated with its schema when read back.
 */
import { z } from 'zod';
import type { BackupEnvelope } from '../../model/backup.js';
import { envelopeReader } from '../backup-envelope.js';
import type { IdentityRef } from '../provider.js';
import type { EntraContext } from './entra-collect.js';
import { GraphRequestError, pages, parseBody } from './entra-graph.js';

export const ENTRA_BACKUP_VERSION = 1;

/** The user properties kept (usageLocation matters: Graph refuses a licence without it). */
export const BACKUP_USER_SELECT = [
  'id',
  'userPrincipalName',
  'displayName',
  'mail',
  'mailNickname',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'usageLocation',
  'userType',
  'accountEnabled',
  'createdDateTime',
  'onPremisesSyncEnabled',
  'externalUserState',
  'assignedLicenses',
] as const;

const nullableString = z.string().nullable().optional().default(null);

const licenseSchema = z.object({ skuId: z.string().min(1), disabledPlans: z.array(z.string()).default([]) });

const userPropertiesSchema = z.object({
  id: z.string().min(1),
  userPrincipalName: z.string().min(1),
  displayName: nullableString,
  mail: nullableString,
  mailNickname: nullableString,
  givenName: nullableString,
  surname: nullableString,
  jobTitle: nullableString,
  department: nullableString,
  usageLocation: nullableString,
  userType: nullableString,
  accountEnabled: z.boolean().nullable(),
  createdDateTime: nullableString,
  onPremisesSyncEnabled: z.boolean().nullable().optional().default(null),
  externalUserState: nullableString,
});

export const entraBackupDataSchema = z.strictObject({
  user: userPropertiesSchema,
  groups: z.array(z.strictObject({ id: z.string().min(1), displayName: z.string().nullable() })),
  directoryRoles: z.array(
    z.strictObject({
      id: z.string().min(1),
      displayName: z.string().nullable(),
      roleTemplateId: z.string().nullable(),
    }),
  ),
  appRoleAssignments: z.array(
    z.strictObject({
      id: z.string().min(1),
      resourceId: z.string().min(1),
      appRoleId: z.string().min(1),
      resourceDisplayName: z.string().nullable(),
    }),
  ),
  assignedLicenses: z.array(z.strictObject({ skuId: z.string().min(1), disabledPlans: z.array(z.string()) })),
  manager: z.strictObject({ id: z.string().min(1), userPrincipalName: z.string().nullable() }).nullable(),
});

export type EntraBackupData = z.infer<typeof entraBackupDataSchema>;

/** Validates a stored envelope; a field that does not fit is named in one line (exit 3). */
export const readEntraBackup = envelopeReader<EntraBackupData>({
  provider: 'entra',
  kinds: ['user', 'guest'],
  version: ENTRA_BACKUP_VERSION,
  what: 'an Entra backup',
  data: entraBackupDataSchema,
});

const memberOfSchema = z.object({
  '@odata.type': z.string().optional(),
  id: z.string().min(1),
  displayName: z.string().nullable().optional(),
  roleTemplateId: z.string().nullable().optional(),
});

const appRoleAssignmentSchema = z.object({
  id: z.string().min(1),
  resourceId: z.string().min(1),
  appRoleId: z.string().min(1),
  resourceDisplayName: z.string().nullable().optional(),
});

const managerSchema = z.object({ id: z.string().min(1), userPrincipalName: z.string().nullable().optional() });

const userWithLicensesSchema = userPropertiesSchema.extend({ assignedLicenses: z.array(licenseSchema).default([]) });

export type MemberOf = z.infer<typeof memberOfSchema>;
export type AppRoleAssignment = z.infer<typeof appRoleAssignmentSchema>;

async function collectAll<T>(ctx: EntraContext, path: string, schema: z.ZodType<T>, what: string): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages(ctx.transport, path, schema, what, ctx.origin)) out.push(...page);
  return out;
}

export async function readUserProperties(ctx: EntraContext, id: string) {
  const body = await ctx.transport.send(
    'GET',
    `/users/${encodeURIComponent(id)}?$select=${BACKUP_USER_SELECT.join(',')}`,
  );
  return parseBody(userWithLicensesSchema, body, `user ${id}`);
}

export async function readMemberOf(ctx: EntraContext, id: string): Promise<MemberOf[]> {
  return collectAll(
    ctx,
    `/users/${encodeURIComponent(id)}/memberOf?$select=id,displayName`,
    memberOfSchema,
    `memberships of ${id}`,
  );
}

export async function readAppRoleAssignments(ctx: EntraContext, id: string): Promise<AppRoleAssignment[]> {
  return collectAll(
    ctx,
    `/users/${encodeURIComponent(id)}/appRoleAssignments`,
    appRoleAssignmentSchema,
    `app role assignments of ${id}`,
  );
}

export async function readManager(
  ctx: EntraContext,
  id: string,
): Promise<{ id: string; userPrincipalName: string | null } | null> {
  try {
    const body = await ctx.transport.send(
      'GET',
      `/users/${encodeURIComponent(id)}/manager?$select=id,userPrincipalName`,
    );
    const m = parseBody(managerSchema, body, `manager of ${id}`);
    return { id: m.id, userPrincipalName: m.userPrincipalName ?? null };
  } catch (err) {
    // No manager is a 404, not an empty answer.
    if (err instanceof GraphRequestError && err.status === 404) return null;
    throw err;
  }
}

export const isGroup = (m: MemberOf) => (m['@odata.type'] ?? '') === '#microsoft.graph.group';
export const isDirectoryRole = (m: MemberOf) => (m['@odata.type'] ?? '') === '#microsoft.graph.directoryRole';

/** A full snapshot of one user, read live. */
export async function takeEntraBackup(
  ctx: EntraContext,
  target: IdentityRef,
  now: Date,
): Promise<BackupEnvelope<EntraBackupData>> {
  const id = target.id;
  const [user, memberOf, appRoles, manager] = await Promise.all([
    readUserProperties(ctx, id),
    readMemberOf(ctx, id),
    readAppRoleAssignments(ctx, id),
    readManager(ctx, id),
  ]);
  const { assignedLicenses, ...properties } = user;
  const data: EntraBackupData = {
    user: properties,
    groups: memberOf.filter(isGroup).map((g) => ({ id: g.id, displayName: g.displayName ?? null })),
    directoryRoles: memberOf
      .filter(isDirectoryRole)
      .map((r) => ({ id: r.id, displayName: r.displayName ?? null, roleTemplateId: r.roleTemplateId ?? null })),
    appRoleAssignments: appRoles.map((a) => ({
      id: a.id,
      resourceId: a.resourceId,
      appRoleId: a.appRoleId,
      resourceDisplayName: a.resourceDisplayName ?? null,
    })),
    assignedLicenses: assignedLicenses.map((l) => ({ skuId: l.skuId, disabledPlans: l.disabledPlans })),
    manager,
  };
  return {
    provider: 'entra',
    kind: user.userType?.toLowerCase() === 'guest' ? 'guest' : 'user',
    version: ENTRA_BACKUP_VERSION,
    takenAt: now.toISOString(),
    account: target.account,
    identityId: id,
    identityName: user.userPrincipalName,
    data,
  };
}
