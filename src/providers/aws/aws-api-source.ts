/**
 * The API source: ListUsers to the last page, then per user ListAccessKeys,
 * GetAccessKeyLastUsed and GetLoginProfile, with bounded concurrency and the SDK's
 * retries. For principals that may not read the credential report, and for live re-checks.
 */
import {
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  paginateListAccessKeys,
  paginateListUsers,
  type AccessKeyMetadata,
  type LoginProfile,
  type User,
} from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { CloudError } from '../../errors.js';
import type { Credential, Identity, LastUse } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import type { ProgressSink } from '../provider.js';
import type { AwsClients } from './aws-client.js';
import { isNoSuchEntity, toCloudError } from './aws-errors.js';
import {
  type AwsIdentity,
  KEY_TRACKING_SINCE,
  PASSWORD_TRACKING_SINCE,
  parseUserArn,
} from './aws-credential-report.js';

/**
 * AWS omits a last-used date both for "never used" and "not used since tracking began";
 * the two differ only for credentials created before tracking began.
 */
export function absentLastUse(
  createdAt: string | null,
  trackingSince: string,
): { lastUse: LastUse; lastUsedAt: null; trackingSince?: string } {
  if (createdAt !== null && Date.parse(createdAt) >= Date.parse(trackingSince)) {
    return { lastUse: 'never', lastUsedAt: null };
  }
  return { lastUse: 'before-tracking', lastUsedAt: null, trackingSince };
}

export async function listAllUsers(aws: AwsClients): Promise<User[]> {
  const users: User[] = [];
  try {
    for await (const page of paginateListUsers({ client: aws.iam, pageSize: 1000 }, {})) {
      users.push(...(page.Users ?? []));
    }
  } catch (err) {
    throw toCloudError(err, 'iam:ListUsers', aws.settings);
  }
  return users;
}

export async function readAccessKeys(aws: AwsClients, userName: string): Promise<Credential[]> {
  return (await readAccessKeysWithMetadata(aws, userName)).keys;
}

async function readAccessKeysWithMetadata(
  aws: AwsClients,
  userName: string,
): Promise<{ keys: Credential[]; metadata: AccessKeyMetadata[] }> {
  const keys: Credential[] = [];
  const metadata: AccessKeyMetadata[] = [];
  try {
    for await (const page of paginateListAccessKeys({ client: aws.iam }, { UserName: userName })) {
      for (const k of page.AccessKeyMetadata ?? []) {
        metadata.push(k);
        const createdAt = k.CreateDate ? isoSeconds(k.CreateDate) : null;
        keys.push({
          kind: 'access-key',
          id: k.AccessKeyId ?? null,
          status: k.Status === 'Active' ? 'Active' : 'Inactive',
          enabled: k.Status === 'Active',
          createdAt,
          lastUse: 'unknown',
          lastUsedAt: null,
        });
      }
    }
  } catch (err) {
    throw toCloudError(err, `iam:ListAccessKeys for ${userName}`, aws.settings);
  }
  for (const key of keys) {
    try {
      const out = await aws.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.id! }));
      const used = out.AccessKeyLastUsed;
      if (used?.LastUsedDate) {
        key.lastUse = 'used';
        key.lastUsedAt = isoSeconds(used.LastUsedDate);
      } else {
        Object.assign(key, absentLastUse(key.createdAt, KEY_TRACKING_SINCE));
      }
      key.lastUsedService = used?.ServiceName && used.ServiceName !== 'N/A' ? used.ServiceName : null;
      key.lastUsedRegion = used?.Region && used.Region !== 'N/A' ? used.Region : null;
    } catch (err) {
      throw toCloudError(err, `iam:GetAccessKeyLastUsed for ${userName}`, aws.settings);
    }
  }
  return { keys, metadata };
}

export async function readPassword(aws: AwsClients, user: User): Promise<Credential | null> {
  return (await readPasswordWithProfile(aws, user)).password;
}

async function readPasswordWithProfile(
  aws: AwsClients,
  user: User,
): Promise<{ password: Credential | null; profile: LoginProfile | null }> {
  const profile = await readLoginProfile(aws, user.UserName!);
  return { password: profile ? passwordOf(profile, user) : null, profile };
}

/** GetLoginProfile, or null when the user has no console password. */
async function readLoginProfile(aws: AwsClients, userName: string): Promise<LoginProfile | null> {
  try {
    const out = await aws.iam.send(new GetLoginProfileCommand({ UserName: userName }));
    return out.LoginProfile ?? { UserName: userName, CreateDate: undefined };
  } catch (err) {
    if (isNoSuchEntity(err)) return null;
    throw toCloudError(err, `iam:GetLoginProfile for ${userName}`, aws.settings);
  }
}

function passwordOf(profile: LoginProfile, user: User): Credential {
  const createdAt = profile.CreateDate ? isoSeconds(profile.CreateDate) : null;
  const lastUse = user.PasswordLastUsed
    ? { lastUse: 'used' as const, lastUsedAt: isoSeconds(user.PasswordLastUsed) }
    : absentLastUse(createdAt, PASSWORD_TRACKING_SINCE);
  return { kind: 'password', id: null, status: 'enabled', enabled: true, createdAt, ...lastUse };
}

/**
 * What a live read of a user saw besides the identity: the raw answers (GetUser with its tags,
 * ListAccessKeys, GetLoginProfile) that a backup taken right after can use instead of asking again.
 */
export interface UserReadings {
  user: User;
  keys: AccessKeyMetadata[];
  /** Null: the user has no console password. */
  loginProfile: LoginProfile | null;
}

/** Build one identity live from the API (also used for re-verification). */
export async function readIdentity(aws: AwsClients, user: User): Promise<Identity> {
  return (await readIdentityWithReadings(aws, user)).identity;
}

export async function readIdentityWithReadings(
  aws: AwsClients,
  user: User,
): Promise<{ identity: Identity; readings: UserReadings }> {
  const [{ keys, metadata }, { password, profile }] = await Promise.all([
    readAccessKeysWithMetadata(aws, user.UserName!),
    readPasswordWithProfile(aws, user),
  ]);
  return { identity: identityOf(user, keys, password), readings: { user, keys: metadata, loginProfile: profile } };
}

/**
 * A live read for apply's re-check: GetUser, ListAccessKeys (then GetAccessKeyLastUsed per key)
 * and GetLoginProfile at once, so a call's latency is paid about twice, not four times. Null when
 * GetUser says the user does not exist (the other reads' NoSuchEntity then says the same).
 */
export async function readUserLive(
  aws: AwsClients,
  userName: string,
  getUser: () => Promise<User | null>,
): Promise<{ identity: Identity; readings: UserReadings } | null> {
  const [user, keys, profile] = await Promise.allSettled([
    getUser(),
    readAccessKeysWithMetadata(aws, userName),
    readLoginProfile(aws, userName),
  ]);
  if (user.status === 'rejected') throw user.reason;
  if (!user.value) return null;
  if (keys.status === 'rejected') throw keys.reason;
  if (profile.status === 'rejected') throw profile.reason;
  const password = profile.value ? passwordOf(profile.value, user.value) : null;
  return {
    identity: identityOf(user.value, keys.value.keys, password),
    readings: { user: user.value, keys: keys.value.metadata, loginProfile: profile.value },
  };
}

function identityOf(user: User, keys: Credential[], password: Credential | null): Identity {
  const arn = user.Arn!;
  const parsed = parseUserArn(arn);
  return {
    provider: 'aws',
    account: parsed?.account ?? '',
    kind: 'user',
    id: arn,
    name: user.UserName!,
    path: user.Path ?? '/',
    createdAt: user.CreateDate ? isoSeconds(user.CreateDate) : null,
    credentials: password ? [password, ...keys] : keys,
    ...(user.PasswordLastUsed
      ? { lastSignInAt: isoSeconds(user.PasswordLastUsed), passwordLastUsedAt: isoSeconds(user.PasswordLastUsed) }
      : {}),
  } satisfies AwsIdentity;
}

export async function collectFromApi(
  aws: AwsClients,
  progress?: ProgressSink,
): Promise<{ identities: Identity[]; warnings: string[] }> {
  const users = await listAllUsers(aws);
  progress?.(`listed ${users.length} users; reading their credentials`);
  const limit = pLimit(aws.settings.concurrency);
  let done = 0;
  const warnings: string[] = [];
  const read = await Promise.all(
    users.map((user) =>
      limit(async () => {
        try {
          return await readIdentity(aws, user);
        } catch (err) {
          // Deleted between ListUsers and the per-user calls: it is gone, not inactive.
          if (err instanceof CloudError && (err.code === 'NoSuchEntity' || err.code === 'NoSuchEntityException')) {
            warnings.push(`user ${user.UserName} was deleted while the scan ran; left out`);
            return null;
          }
          throw err;
        } finally {
          done++;
          if (done % 250 === 0) progress?.(`read ${done}/${users.length} users`);
        }
      }),
    ),
  );
  return { identities: read.filter((i): i is Identity => i !== null), warnings };
}
