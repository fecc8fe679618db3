/**
 * A Graph user as a provider-neutral Identity (DESIGN §2c): kind, sign-in record, invitation,
 * and the provider's marks (protected role holder, exempt, synced from on-premises AD).
 */
import { z } from 'zod';
import { globToRegExp } from '../../engine/glob.js';
import type { Identity, SignIn } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';

/** Entra began recording sign-in activity in April 2020: no record before then is "never". */
export const SIGN_IN_TRACKING_SINCE = '2020-04-01T00:00:00Z';

/** The properties a scan and a re-read ask for (DESIGN §2c). */
export const USER_SELECT = [
  'id',
  'userPrincipalName',
  'displayName',
  'mail',
  'userType',
  'accountEnabled',
  'createdDateTime',
  'signInActivity',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'onPremisesSyncEnabled',
] as const;

export const USER_SELECT_WITHOUT_SIGN_IN = USER_SELECT.filter((p) => p !== 'signInActivity');

const graphDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date');

const signInActivitySchema = z.object({
  lastSignInDateTime: graphDate.nullable().optional(),
  lastNonInteractiveSignInDateTime: graphDate.nullable().optional(),
  lastSuccessfulSignInDateTime: graphDate.nullable().optional(),
});

/** A selected property is always present in Graph's answer (null when unset): absent is malformed. */
const userBase = {
  id: z.string().min(1),
  userPrincipalName: z.string().min(1),
  displayName: z.string().nullable(),
  mail: z.string().nullable(),
  userType: z.string().nullable(),
  accountEnabled: z.boolean().nullable(),
  createdDateTime: graphDate.nullable(),
  externalUserState: z.string().nullable(),
  externalUserStateChangeDateTime: graphDate.nullable(),
  onPremisesSyncEnabled: z.boolean().nullable(),
};

export const graphUserSchema = z.object({ ...userBase, signInActivity: signInActivitySchema.nullable() });
export const graphUserWithoutSignInSchema = z.object(userBase);

export type GraphUser = z.infer<typeof graphUserWithoutSignInSchema> & {
  /** Absent when Graph refused it (no licence or permission): the last sign-in is then unknown. */
  signInActivity?: z.infer<typeof signInActivitySchema> | null;
};

/** What the provider knows about the tenant that marks users (collected once per scan). */
export interface EntraMarks {
  /** User id → the protected directory roles it holds (display names). */
  protectedRoles: Map<string, string[]>;
  /** User id → the exempt groups it is a member of, directly or not (group ids). */
  exemptGroups: Map<string, string[]>;
  /** User id → the protected directory roles it is eligible for through PIM (display names). */
  eligibleRoles?: Map<string, string[]>;
  /** The object id of the user dormant runs as (a user token), or null (an app token). */
  caller?: string | null;
}

/**
 * The object id of the user an access token was issued to, or null for an application (client
 * credentials, managed identity) token: `idtyp: user`, or an `oid` with a `upn` or `scp`.
 */
export function callerUserId(claims: Record<string, unknown> | null | undefined): string | null {
  if (!claims) return null;
  const oid = typeof claims.oid === 'string' && claims.oid ? claims.oid.toLowerCase() : null;
  if (!oid) return null;
  if (claims.idtyp === 'user') return oid;
  if (claims.idtyp === 'app') return null;
  return typeof claims.upn === 'string' || typeof claims.scp === 'string' ? oid : null;
}

const plural = (n: number) => (n > 1 ? 's' : '');

/** Why a user is protected: the caller, a holder of a protected role, or eligible for one. */
export function protectedReasonOf(marks: EntraMarks, userId: string): string | null {
  const id = userId.toLowerCase();
  if (marks.caller && marks.caller === id) return 'the identity dormant runs as';
  const roles = marks.protectedRoles.get(userId) ?? marks.protectedRoles.get(id);
  if (roles) return `a holder of the directory role${plural(roles.length)} ${roles.join(', ')}`;
  const eligible = marks.eligibleRoles?.get(userId) ?? marks.eligibleRoles?.get(id);
  if (eligible) return `eligible (PIM) for the directory role${plural(eligible.length)} ${eligible.join(', ')}`;
  return null;
}

export interface EntraIdentityContext {
  tenantId: string;
  /** entra.exemptUsers: globs on UPN, mail or object id. */
  exemptUsers: readonly string[];
  marks: EntraMarks;
}

function latest(values: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const v of values) {
    if (!v) continue;
    if (best === null || Date.parse(v) > Date.parse(best)) best = v;
  }
  return best;
}

function normalized(date: string | null | undefined): string | null {
  return date ? isoSeconds(new Date(date)) : null;
}

/** The sign-in record: the latest sign-in of any kind, or why there is none. */
export function signInOf(user: GraphUser): SignIn {
  if (!('signInActivity' in user) || user.signInActivity === undefined) return { lastUse: 'unknown', at: null };
  const a = user.signInActivity;
  const at = latest([a?.lastSignInDateTime, a?.lastNonInteractiveSignInDateTime, a?.lastSuccessfulSignInDateTime]);
  if (at) return { lastUse: 'used', at: normalized(at) };
  if (!user.createdDateTime) return { lastUse: 'unknown', at: null };
  if (Date.parse(user.createdDateTime) < Date.parse(SIGN_IN_TRACKING_SINCE)) {
    return { lastUse: 'before-tracking', at: null, trackingSince: SIGN_IN_TRACKING_SINCE };
  }
  return { lastUse: 'never', at: null };
}

/** Compiled entra.exemptUsers: case-insensitive, because UPNs and mail addresses are. */
export function exemptMatcher(patterns: readonly string[]): (user: GraphUser) => string | null {
  const compiled = patterns.map((p) => ({ p, re: new RegExp(globToRegExp(p).source, 'i') }));
  return (user) => {
    for (const { p, re } of compiled) {
      for (const value of [user.userPrincipalName, user.mail, user.id]) {
        if (value && re.test(value)) return `matches entra.exemptUsers pattern '${p}'`;
      }
    }
    return null;
  };
}

const SYNCED =
  'synced from on-premises AD: disable it there; a cloud-side change would be overwritten by the next sync';

/** Builds identities for one tenant; the exempt globs are compiled once. */
export function identityMapper(ctx: EntraIdentityContext): (user: GraphUser) => Identity {
  const exempt = exemptMatcher(ctx.exemptUsers);
  return (user) => {
    const guest = user.userType?.toLowerCase() === 'guest';
    const signIn = signInOf(user);
    const groups = ctx.marks.exemptGroups.get(user.id);
    const state = user.externalUserState;
    const identity: Identity = {
      provider: 'entra',
      account: ctx.tenantId,
      kind: guest ? 'guest' : 'user',
      id: user.id,
      name: user.userPrincipalName,
      path: '/',
      displayName: user.displayName,
      mail: user.mail,
      createdAt: normalized(user.createdDateTime),
      // Only an explicit false is "disabled": a missing value must not hide a user from the rules.
      enabled: user.accountEnabled !== false,
      credentials: [],
      lastSignInAt: signIn.at,
      signIn,
      protectedReason: protectedReasonOf(ctx.marks, user.id),
      exemptReason:
        exempt(user) ??
        (groups ? `member of the exempt group${groups.length > 1 ? 's' : ''} ${groups.join(', ')}` : null),
      notifyOnlyReason: user.onPremisesSyncEnabled === true ? SYNCED : null,
    };
    if (ctx.marks.caller && ctx.marks.caller === user.id.toLowerCase()) identity.isCaller = true;
    if (guest && (state === 'PendingAcceptance' || state === 'Accepted')) {
      identity.invitation = {
        state: state === 'Accepted' ? 'accepted' : 'pending',
        changedAt: normalized(user.externalUserStateChangeDateTime),
      };
    }
    return identity;
  };
}
