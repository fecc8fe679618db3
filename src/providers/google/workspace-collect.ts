/**
 * The Workspace half of the Google inventory (DESIGN §2d): every user of `google.customer` from
 * the Directory API's users.list, 500 a page, following `nextPageToken` to the end, each page
 * validated. The account is the customer id the users carry.
 */
import { CloudError } from '../../errors.js';
import type { Identity } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure } from './google-errors.js';
import { parseWorkspace, usersPageSchema, workspaceIdentityMapper } from './workspace-identity.js';

/** Google's largest users.list page. */
export const USERS_PAGE_SIZE = 500;

export interface WorkspaceScan {
  identities: Identity[];
  /** The customer ids seen (google.customer when no user names one). */
  accounts: string[];
  warnings: string[];
  /** When the listing was read. */
  dataAsOf: string;
}

/** The mapper for the configured customer: exemptions and the subject as caller. */
export function workspaceMapperFor(ctx: GoogleContext) {
  return workspaceIdentityMapper({
    customer: ctx.google.customer,
    exemptUsers: ctx.google.workspace.exemptUsers,
    exemptOrgUnits: ctx.google.workspace.exemptOrgUnits,
    subject: ctx.google.subject,
  });
}

/** Every user of the customer. Throws a one-line DormantError rather than return part of them. */
export async function collectWorkspace(ctx: GoogleContext, now: Date = ctx.clock()): Promise<WorkspaceScan> {
  const map = workspaceMapperFor(ctx);
  const identities: Identity[] = [];
  let unknownSignIn = 0;
  try {
    const directory = ctx.apis.directory('read');
    const seen = new Set<string>();
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const res = await directory.users.list({
        customer: ctx.google.customer,
        maxResults: USERS_PAGE_SIZE,
        // basic has every field dormant reads; admin_view has isAdmin and lastLoginTime.
        projection: 'basic',
        viewType: 'admin_view',
        ...(pageToken ? { pageToken } : {}),
      });
      pages += 1;
      const page = parseWorkspace(usersPageSchema, res.data, `a users page (page ${pages})`, 'scan again');
      for (const user of page.users ?? []) {
        const identity = map(user);
        if (identity.signIn?.lastUse === 'unknown') unknownSignIn += 1;
        identities.push(identity);
      }
      ctx.progress?.(`Google Workspace: ${identities.length} users read`);
      pageToken = page.nextPageToken || undefined;
      if (pageToken && seen.has(pageToken)) {
        throw new CloudError(
          `Google returned the same users page token twice (page ${pages}); the listing would never end; scan again`,
          'MalformedResponse',
        );
      }
      if (pageToken) seen.add(pageToken);
    } while (pageToken);
  } catch (err) {
    throw googleFailure(err, {
      what: 'listing Workspace users',
      fix: 'scan again',
      subject: ctx.google.subject,
      serviceAccount: ctx.who?.serviceAccount ?? null,
      clientId: ctx.who?.clientId ?? null,
    });
  }
  const accounts = [...new Set(identities.map((i) => i.account))];
  const warnings: string[] = [];
  if (unknownSignIn > 0) {
    warnings.push(
      `Google Workspace: ${unknownSignIn} user${unknownSignIn === 1 ? ' has' : 's have'} no lastLoginTime; their last sign-in is unknown, so they are not called inactive`,
    );
  }
  return {
    identities,
    accounts: accounts.length > 0 ? accounts : [ctx.google.customer],
    warnings,
    dataAsOf: isoSeconds(now),
  };
}
