/**
 * Tags of the users with findings, in as few calls as the account allows (DESIGN §7):
 * GetAccountAuthorizationDetails filtered to users carries every user's tags, 1,000 users a
 * page, so it beats one ListUserTags per flagged user as soon as there are more flagged users
 * than pages. Denied (or unsupported), the caller falls back to ListUserTags per user.
 */
import { paginateGetAccountAuthorizationDetails } from '@aws-sdk/client-iam';
import type { Identity } from '../../model/identity.js';
import type { AwsClients } from './aws-client.js';
import { errorName, isAccessDenied, isUnsupportedOperation, toCloudError, unsupportedReason } from './aws-errors.js';

const OPERATION = 'iam:GetAccountAuthorizationDetails';

/** GAAD pages needed for `users` users (at least one call). */
export function gaadPages(users: number): number {
  return Math.max(1, Math.ceil(users / 1000));
}

/** Every user's tags by user name (a user with no tags maps to {}). Throws the SDK's error as is. */
export async function tagsFromAuthorizationDetails(
  aws: Pick<AwsClients, 'iam'>,
): Promise<Map<string, Record<string, string>>> {
  const byName = new Map<string, Record<string, string>>();
  for await (const page of paginateGetAccountAuthorizationDetails(
    // A marker handed out twice would page for ever.
    { client: aws.iam, pageSize: 1000, stopOnSameToken: true },
    { Filter: ['User'] },
  )) {
    for (const u of page.UserDetailList ?? []) {
      if (!u.UserName) continue;
      const tags: Record<string, string> = {};
      for (const t of u.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
      byName.set(u.UserName, tags);
    }
  }
  return byName;
}

/**
 * Set the tags of `users` from GAAD pages when that is fewer calls than one ListUserTags each
 * (`userCount`: the inventory's users, which decides the page count). Returns the users whose
 * tags are still to read with ListUserTags: all of them when GAAD is not worth it or refused,
 * else those GAAD did not list (created after the report: ListUserTags says what they are).
 */
export async function tagsInBulk(
  aws: Pick<AwsClients, 'iam' | 'settings'>,
  users: Identity[],
  userCount: number,
): Promise<{ remaining: Identity[]; warnings: string[] }> {
  if (users.length <= gaadPages(userCount)) return { remaining: users, warnings: [] };
  try {
    const byName = await tagsFromAuthorizationDetails(aws);
    for (const identity of users) {
      const tags = byName.get(identity.name);
      if (tags) identity.tags = tags;
    }
    return { remaining: users.filter((i) => !byName.has(i.name)), warnings: [] };
  } catch (err) {
    if (isAccessDenied(err)) {
      const warning = `AWS denied ${OPERATION} (${errorName(err)}): read the tags of ${users.length} user(s) with iam:ListUserTags instead (one call each); grant it ('dormant permissions')`;
      return { remaining: users, warnings: [warning] };
    }
    if (isUnsupportedOperation(err, aws.settings)) {
      const warning = `${unsupportedReason(OPERATION, err)}: read the tags of ${users.length} user(s) with iam:ListUserTags instead`;
      return { remaining: users, warnings: [warning] };
    }
    throw toCloudError(err, OPERATION, aws.settings);
  }
}
