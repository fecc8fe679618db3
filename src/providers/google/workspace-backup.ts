/**
 * The Workspace user backup envelope (version 1, DESIGN §2d): the user resource as the Directory
 * API returns it (projection full), its org unit and suspension at the time, its aliases and its
 * group memberships with their roles. Taken before the first change; validated when read back.
 */
import { z } from 'zod';
import { CloudError } from '../../errors.js';
import type { BackupEnvelope } from '../../model/backup.js';
import { envelopeReader } from '../backup-envelope.js';
import type { IdentityRef } from '../provider.js';
import type { GoogleContext } from './google-context.js';
import { googleStatus } from './google-errors.js';
import { parseWorkspace, workspaceUserSchema, type WorkspaceUser } from './workspace-identity.js';

export const WORKSPACE_BACKUP_VERSION = 1;

const roleSchema = z.enum(['OWNER', 'MANAGER', 'MEMBER']);

const membershipSchema = z.strictObject({
  id: z.string().min(1),
  email: z.string().nullable(),
  name: z.string().nullable(),
  role: roleSchema,
});

export const workspaceBackupDataSchema = z.strictObject({
  /** The whole resource (fields dormant does not read are kept as they were). */
  user: workspaceUserSchema,
  orgUnitPath: z.string().startsWith('/'),
  /** Suspended before dormant acted: a restore must then leave it suspended. */
  suspended: z.boolean(),
  aliases: z.array(z.string().min(1)),
  groups: z.array(membershipSchema),
});

export type WorkspaceBackupData = z.infer<typeof workspaceBackupDataSchema>;
export type GroupMembership = z.infer<typeof membershipSchema>;

/** Validates a stored envelope; a field that does not fit is named in one line (exit 3). */
export const readWorkspaceBackup = envelopeReader<WorkspaceBackupData>({
  provider: 'google',
  kinds: ['user'],
  version: WORKSPACE_BACKUP_VERSION,
  what: 'a Google Workspace user backup',
  data: workspaceBackupDataSchema,
});

const aliasesSchema = z.looseObject({
  aliases: z.array(z.looseObject({ alias: z.string().min(1) })).nullish(),
});

const groupsPageSchema = z.looseObject({
  groups: z
    .array(z.looseObject({ id: z.string().min(1), email: z.string().nullish(), name: z.string().nullish() }))
    .nullish(),
  nextPageToken: z.string().nullish(),
});

const memberSchema = z.looseObject({ role: roleSchema.nullish() });

const FIX = 'try again';

/** The user by id (projection full), or null when Google does not know it (deleted, or gone). */
export async function readWorkspaceUser(ctx: GoogleContext, id: string): Promise<WorkspaceUser | null> {
  try {
    const res = await ctx.apis.directory('read').users.get({ userKey: id, projection: 'full', viewType: 'admin_view' });
    const user = parseWorkspace(workspaceUserSchema, res.data, `user ${id}`, FIX);
    return user.deletionTime ? null : user;
  } catch (err) {
    if (googleStatus(err) === 404) return null;
    throw err;
  }
}

/** The user's editable aliases (domain aliases, `nonEditableAliases`, follow the domain by themselves). */
export async function readAliases(ctx: GoogleContext, id: string): Promise<string[]> {
  const res = await ctx.apis.directory('read').users.aliases.list({ userKey: id });
  return (parseWorkspace(aliasesSchema, res.data, `the aliases of user ${id}`, FIX).aliases ?? []).map((a) => a.alias);
}

/** The groups the user is a direct member of, every page. */
export async function readGroups(
  ctx: GoogleContext,
  id: string,
): Promise<{ id: string; email: string | null; name: string | null }[]> {
  const directory = ctx.apis.directory('read');
  const out: { id: string; email: string | null; name: string | null }[] = [];
  let pageToken: string | undefined;
  do {
    const res = await directory.groups.list({ userKey: id, maxResults: 200, ...(pageToken ? { pageToken } : {}) });
    const page = parseWorkspace(groupsPageSchema, res.data, `the groups of user ${id}`, FIX);
    for (const g of page.groups ?? []) out.push({ id: g.id, email: g.email ?? null, name: g.name ?? null });
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return out;
}

/** The user's role in a group, or null when it is no longer a member. */
async function roleIn(ctx: GoogleContext, groupId: string, userId: string): Promise<GroupMembership['role'] | null> {
  try {
    const res = await ctx.apis.directory('read').members.get({ groupKey: groupId, memberKey: userId });
    return (
      parseWorkspace(memberSchema, res.data, `the membership of ${userId} in group ${groupId}`, FIX).role ?? 'MEMBER'
    );
  } catch (err) {
    if (googleStatus(err) === 404) return null;
    throw err;
  }
}

/** A full snapshot of one user, read live. Throws NotFound when the user is gone. */
export async function takeWorkspaceBackup(
  ctx: GoogleContext,
  target: IdentityRef,
  now: Date,
): Promise<BackupEnvelope<WorkspaceBackupData>> {
  const user = await readWorkspaceUser(ctx, target.id);
  if (!user) {
    throw new CloudError(
      `Google Workspace user ${target.name} (${target.id}) no longer exists; nothing to back up`,
      'NotFound',
    );
  }
  const [aliases, groups] = await Promise.all([readAliases(ctx, user.id), readGroups(ctx, user.id)]);
  const memberships: GroupMembership[] = [];
  for (const g of groups) {
    const role = await roleIn(ctx, g.id, user.id);
    if (role) memberships.push({ ...g, role });
  }
  return {
    provider: 'google',
    kind: 'user',
    version: WORKSPACE_BACKUP_VERSION,
    takenAt: now.toISOString(),
    account: user.customerId || target.account,
    identityId: user.id,
    identityName: user.primaryEmail,
    data: {
      user,
      orgUnitPath: user.orgUnitPath || '/',
      suspended: user.suspended === true,
      aliases,
      groups: memberships,
    },
  };
}
