/**
 * A Workspace user (Admin SDK Directory API `users` resource) as a provider-neutral Identity
 * (DESIGN §2d): the sign-in record (`1970-01-01T00:00:00.000Z` is "never", not a date), suspended
 * or archived as disabled, super and delegated admins protected, and the exemptions of
 * google.workspace (globs on email, alias or id; org units and everything below them).
 */
import { z } from 'zod';
import { globToRegExp } from '../../engine/glob.js';
import { CloudError } from '../../errors.js';
import type { Identity, SignIn } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';

const googleTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 time');

/**
 * The fields dormant reads; the rest of the resource passes through untouched (backups keep it).
 * isAdmin and isDelegatedAdmin decide protection, so an answer without them is refused, not guessed.
 */
export const workspaceUserSchema = z.looseObject({
  id: z.string().min(1),
  primaryEmail: z.string().min(1),
  name: z
    .looseObject({
      givenName: z.string().nullish(),
      familyName: z.string().nullish(),
      fullName: z.string().nullish(),
    })
    .nullish(),
  isAdmin: z.boolean(),
  isDelegatedAdmin: z.boolean(),
  lastLoginTime: googleTime.nullish(),
  creationTime: googleTime.nullish(),
  suspended: z.boolean().nullish(),
  suspensionReason: z.string().nullish(),
  archived: z.boolean().nullish(),
  orgUnitPath: z.string().nullish(),
  customerId: z.string().nullish(),
  aliases: z.array(z.string()).nullish(),
  nonEditableAliases: z.array(z.string()).nullish(),
  isEnrolledIn2Sv: z.boolean().nullish(),
  deletionTime: googleTime.nullish(),
});

/** One page of users.list; Google leaves `users` out of an empty page. */
export const usersPageSchema = z.looseObject({
  users: z.array(workspaceUserSchema).nullish(),
  nextPageToken: z.string().nullish(),
});

export type WorkspaceUser = z.infer<typeof workspaceUserSchema>;

export interface WorkspaceIdentityContext {
  /** The account for users whose resource names no customerId: google.customer. */
  customer: string;
  /** google.workspace.exemptUsers: globs on primary email, alias or user id. */
  exemptUsers: readonly string[];
  /** google.workspace.exemptOrgUnits: paths; a user in one of them or below it is exempt. */
  exemptOrgUnits: readonly string[];
  /** google.subject: the admin dormant acts as (it is marked as the caller). */
  subject?: string | null;
}

/** Google's "never": the epoch (any time at or before it is no sign-in). */
export function isNeverTime(time: string): boolean {
  return Date.parse(time) <= 0;
}

/** The sign-in record: `lastLoginTime`, with the epoch read as "never" and a missing one as unknown. */
export function signInOf(user: WorkspaceUser): SignIn {
  const t = user.lastLoginTime;
  if (!t) return { lastUse: 'unknown', at: null };
  if (isNeverTime(t)) return { lastUse: 'never', at: null };
  return { lastUse: 'used', at: isoSeconds(new Date(t)) };
}

/** An org unit path as compared: no trailing slash (but `/` itself), case-insensitive like Google's. */
function normalizePath(path: string): string {
  const p = path.trim().replace(/\/+$/, '');
  return (p === '' ? '/' : p).toLowerCase();
}

/** Is `path` the org unit `unit` or below it? */
export function inOrgUnit(path: string, unit: string): boolean {
  const p = normalizePath(path);
  const u = normalizePath(unit);
  return u === '/' || p === u || p.startsWith(`${u}/`);
}

/** Compiled google.workspace exemptions: why a user is exempt, or null. */
export function workspaceExemption(
  exemptUsers: readonly string[],
  exemptOrgUnits: readonly string[],
): (user: WorkspaceUser) => string | null {
  // Case-insensitive: email addresses are.
  const globs = exemptUsers.map((p) => ({ p, re: new RegExp(globToRegExp(p).source, 'i') }));
  return (user) => {
    const names = [user.primaryEmail, ...(user.aliases ?? []), ...(user.nonEditableAliases ?? []), user.id];
    for (const { p, re } of globs) {
      if (names.some((n) => re.test(n))) return `matches google.workspace.exemptUsers pattern '${p}'`;
    }
    const path = user.orgUnitPath ?? '/';
    const unit = exemptOrgUnits.find((u) => inOrgUnit(path, u));
    return unit === undefined
      ? null
      : `in the exempt org unit ${unit}${normalizePath(path) === normalizePath(unit) ? '' : ` (${path})`}`;
  };
}

/** Why a user must never be acted on: dormant's own admin, a super admin, a delegated admin. */
export function workspaceProtection(user: WorkspaceUser, subject?: string | null): string | null {
  if (subject && user.primaryEmail.toLowerCase() === subject.toLowerCase()) return 'the identity dormant runs as';
  if (user.isAdmin) return 'a Workspace super admin';
  if (user.isDelegatedAdmin) return 'a Workspace delegated admin';
  return null;
}

function displayNameOf(user: WorkspaceUser): string | null {
  const n = user.name;
  if (!n) return null;
  return n.fullName || [n.givenName, n.familyName].filter(Boolean).join(' ') || null;
}

/** Builds identities for one customer; the exemptions are compiled once. */
export function workspaceIdentityMapper(ctx: WorkspaceIdentityContext): (user: WorkspaceUser) => Identity {
  const exempt = workspaceExemption(ctx.exemptUsers, ctx.exemptOrgUnits);
  return (user) => {
    const signIn = signInOf(user);
    const identity: Identity = {
      provider: 'google',
      account: user.customerId || ctx.customer,
      kind: 'user',
      id: user.id,
      name: user.primaryEmail,
      path: user.orgUnitPath || '/',
      displayName: displayNameOf(user),
      mail: user.primaryEmail,
      createdAt: user.creationTime ? isoSeconds(new Date(user.creationTime)) : null,
      // Suspended and archived users cannot sign in: the rules do not flag them again.
      enabled: user.suspended !== true && user.archived !== true,
      credentials: [],
      lastSignInAt: signIn.at,
      signIn,
      protectedReason: workspaceProtection(user, ctx.subject),
      exemptReason: exempt(user),
      notifyOnlyReason: null,
    };
    if (typeof user.isEnrolledIn2Sv === 'boolean') identity.mfaActive = user.isEnrolledIn2Sv;
    if (ctx.subject && user.primaryEmail.toLowerCase() === ctx.subject.toLowerCase()) identity.isCaller = true;
    return identity;
  };
}

/** Validates an answer from Google; a field that does not fit is named in one line (exit 3). */
export function parseWorkspace<T>(schema: z.ZodType<T>, data: unknown, what: string, fix: string): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  throw new CloudError(
    `Google returned ${what} dormant cannot read (${field}${issue?.message ?? 'unexpected shape'}); check google.rootUrls.directory points at the Admin SDK, then ${fix}`,
    'MalformedResponse',
  );
}
