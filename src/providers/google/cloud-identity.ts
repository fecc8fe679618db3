/**
 * Google Cloud service accounts and their user-managed keys as provider-neutral identities
 * (DESIGN §2d): the schemas of IAM's and Policy Analyzer's answers, the index of last
 * authentications, and the mapper. IAM gives no creation time, so an account's age is its oldest
 * key's; a Policy Analyzer query that failed makes every last use `unknown`, never "never".
 */
import { z } from 'zod';
import type { Credential, Identity, LastUse, SignIn } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';

const rfc3339 = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 time');

/** IAM's ServiceAccount; proto3 JSON leaves out false booleans and empty strings. */
export const serviceAccountSchema = z.object({
  name: z.string().min(1),
  projectId: z.string().min(1),
  uniqueId: z.string().regex(/^\d+$/, 'expected a numeric unique id'),
  email: z.string().min(3),
  displayName: z.string().optional(),
  description: z.string().optional(),
  oauth2ClientId: z.string().optional(),
  disabled: z.boolean().optional(),
  etag: z.string().optional(),
});
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

export const serviceAccountPageSchema = z.object({
  accounts: z.array(serviceAccountSchema).optional(),
  nextPageToken: z.string().optional(),
});

export const serviceAccountKeySchema = z.object({
  name: z.string().regex(/\/keys\/[^/]+$/, 'expected projects/…/serviceAccounts/…/keys/KEY_ID'),
  validAfterTime: rfc3339,
  validBeforeTime: rfc3339.optional(),
  keyAlgorithm: z.string().optional(),
  keyOrigin: z.string().optional(),
  keyType: z.enum(['USER_MANAGED', 'SYSTEM_MANAGED', 'KEY_TYPE_UNSPECIFIED']).optional(),
  disabled: z.boolean().optional(),
});
export type ServiceAccountKey = z.infer<typeof serviceAccountKeySchema>;

export const keyListSchema = z.object({ keys: z.array(serviceAccountKeySchema).optional() });

export const ACCOUNT_ACTIVITY = 'serviceAccountLastAuthentication';
export const KEY_ACTIVITY = 'serviceAccountKeyLastAuthentication';
export type ActivityType = typeof ACCOUNT_ACTIVITY | typeof KEY_ACTIVITY;

const ownerSchema = z.object({
  fullResourceName: z.string().min(1),
  projectNumber: z.string().optional(),
  serviceAccountId: z.string().optional(),
});

/** The `activity` of each type (Policy Analyzer sends it as a free-form object). */
export const accountActivitySchema = z.object({ lastAuthenticatedTime: rfc3339, serviceAccount: ownerSchema });
export const keyActivitySchema = z.object({ lastAuthenticatedTime: rfc3339, serviceAccountKey: ownerSchema });

export const activitySchema = z.object({
  fullResourceName: z.string().optional(),
  activityType: z.string().optional(),
  observationPeriod: z.object({ startTime: rfc3339.optional(), endTime: rfc3339.optional() }).optional(),
  activity: z.record(z.string(), z.unknown()),
});

export const activityPageSchema = z.object({
  activities: z.array(activitySchema).optional(),
  nextPageToken: z.string().optional(),
});
export type ActivityRecord = z.infer<typeof activitySchema>;

/** The last segment of `projects/p/serviceAccounts/e/keys/KEY_ID` (and of full resource names). */
export function keyIdOf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** The email in `//iam.googleapis.com/projects/p/serviceAccounts/EMAIL[/keys/K]`, lower-cased. */
function accountInName(name: string): string | null {
  const m = /\/serviceAccounts\/([^/]+)/.exec(name);
  return m ? decodeURIComponent(m[1]!).toLowerCase() : null;
}

/**
 * Last authentications of one project's accounts and keys, by unique id (or email, when the
 * record names no id) and by `account/keyId`.
 */
export class AuthIndex {
  private readonly accounts = new Map<string, string>();
  private readonly keys = new Map<string, string>();
  /** The end of the observation period (the data lags up to two days). */
  observedUntil: string | null = null;

  private static put(map: Map<string, string>, id: string, at: string): void {
    const prev = map.get(id);
    if (!prev || Date.parse(at) > Date.parse(prev)) map.set(id, at);
  }

  private observed(r: ActivityRecord): void {
    const end = r.observationPeriod?.endTime;
    if (end && (!this.observedUntil || Date.parse(end) > Date.parse(this.observedUntil))) this.observedUntil = end;
  }

  /** Adds one page's records; throws a ZodError when an activity does not fit its type. */
  add(type: ActivityType, records: readonly ActivityRecord[]): void {
    for (const r of records) {
      this.observed(r);
      if (type === ACCOUNT_ACTIVITY) {
        const a = accountActivitySchema.parse(r.activity);
        const at = isoSeconds(new Date(a.lastAuthenticatedTime));
        // By unique id: an email can be reused by a newer account after a delete.
        const id = a.serviceAccount.serviceAccountId ?? accountInName(a.serviceAccount.fullResourceName);
        if (id) AuthIndex.put(this.accounts, id, at);
      } else {
        const a = keyActivitySchema.parse(r.activity);
        const at = isoSeconds(new Date(a.lastAuthenticatedTime));
        const keyId = keyIdOf(a.serviceAccountKey.fullResourceName);
        const id = a.serviceAccountKey.serviceAccountId ?? accountInName(a.serviceAccountKey.fullResourceName);
        if (id) AuthIndex.put(this.keys, `${id}/${keyId}`, at);
      }
    }
  }

  account(sa: Pick<ServiceAccount, 'uniqueId' | 'email'>): string | null {
    return this.accounts.get(sa.uniqueId) ?? this.accounts.get(sa.email.toLowerCase()) ?? null;
  }

  key(sa: Pick<ServiceAccount, 'uniqueId' | 'email'>, keyId: string): string | null {
    return this.keys.get(`${sa.uniqueId}/${keyId}`) ?? this.keys.get(`${sa.email.toLowerCase()}/${keyId}`) ?? null;
  }
}

/** What is known of a last use: an index (the query worked) or null (it failed: unknown). */
function lastUse(at: string | null, known: boolean): { lastUse: LastUse; at: string | null } {
  if (!known) return { lastUse: 'unknown', at: null };
  return at ? { lastUse: 'used', at } : { lastUse: 'never', at: null };
}

/** Keys Google manages are never listed, and never touched: filtered again in case an API sends one. */
export function isUserManaged(key: ServiceAccountKey): boolean {
  // Strict: a key whose type is missing is not known to be user-managed.
  return key.keyType === 'USER_MANAGED';
}

/** A key past its validBeforeTime (an expiry policy) cannot be used any more, like a disabled one. */
export function keyCredential(
  sa: ServiceAccount,
  key: ServiceAccountKey,
  auth: AuthIndex | null,
  now: Date,
): Credential {
  const keyId = keyIdOf(key.name);
  const use = lastUse(auth ? auth.key(sa, keyId) : null, auth !== null);
  const expired = !!key.validBeforeTime && Date.parse(key.validBeforeTime) <= now.getTime();
  return {
    kind: 'key',
    id: keyId,
    status: key.disabled ? 'disabled' : expired ? 'expired' : 'enabled',
    enabled: key.disabled !== true && !expired,
    // validAfterTime is the creation time only for keys Google made: for an uploaded key it is the
    // certificate's notBefore, which its owner chose (and may backdate). Unknown then.
    createdAt: key.keyOrigin === 'GOOGLE_PROVIDED' ? isoSeconds(new Date(key.validAfterTime)) : null,
    lastUsedAt: use.at,
    lastUse: use.lastUse,
  };
}

/** The default accounts Google creates for Compute Engine and App Engine: other services depend on them. */
export function defaultAccountReason(email: string): string | null {
  if (/^\d+-compute@developer\.gserviceaccount\.com$/i.test(email)) return 'the Compute Engine default service account';
  if (/@appspot\.gserviceaccount\.com$/i.test(email)) return 'the App Engine default service account';
  return null;
}

export interface CloudMarks {
  /** The email of the service account dormant runs as, when known. */
  caller?: string | null;
}

/** One service account with its user-managed keys; `auth` null means Policy Analyzer could not be read. */
export function serviceAccountIdentity(
  sa: ServiceAccount,
  keys: readonly ServiceAccountKey[],
  auth: AuthIndex | null,
  marks: CloudMarks,
  now: Date,
): Identity {
  const credentials = keys.filter(isUserManaged).map((k) => keyCredential(sa, k, auth, now));
  const created = credentials
    .map((c) => c.createdAt)
    .filter((c): c is string => c !== null)
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  const use = lastUse(auth ? auth.account(sa) : null, auth !== null);
  const signIn: SignIn = { lastUse: use.lastUse, at: use.at };
  const isCaller = !!marks.caller && marks.caller.toLowerCase() === sa.email.toLowerCase();
  const identity: Identity = {
    provider: 'google',
    account: sa.projectId,
    kind: 'service-account',
    id: sa.uniqueId,
    name: sa.email,
    path: '/',
    displayName: sa.displayName ?? null,
    mail: null,
    // No creation time in IAM: the oldest key is the earliest the account is known to exist.
    createdAt: created[0] ?? null,
    enabled: sa.disabled !== true,
    credentials,
    lastSignInAt: signIn.at,
    signIn,
    protectedReason: isCaller ? 'the identity dormant runs as' : defaultAccountReason(sa.email),
    exemptReason: null,
  };
  if (isCaller) identity.isCaller = true;
  return identity;
}
