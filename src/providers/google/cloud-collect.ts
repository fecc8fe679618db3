/**
 * The Google Cloud inventory (DESIGN §2d): per project, `google.cloud.concurrency` at once, every
 * service account (100 a page, to the end), each one's user-managed keys (one call per account,
 * none per key), and both Policy Analyzer last-authentication activity types once per project,
 * paged to the end. A project that cannot be listed is a failure; a Policy Analyzer query that is
 * refused or fails makes that project's last uses `unknown`, with one warning naming the fix.
 */
import { UsageError } from '../../errors.js';
import pLimit from 'p-limit';
import type { Identity, ScanFailure } from '../../model/identity.js';
import { CloudError } from '../../errors.js';
import {
  ACCOUNT_ACTIVITY,
  activityPageSchema,
  AuthIndex,
  isUserManaged,
  KEY_ACTIVITY,
  keyIdOf,
  keyListSchema,
  serviceAccountIdentity,
  serviceAccountPageSchema,
  serviceAccountSchema,
  type ActivityType,
  type CloudMarks,
  type ServiceAccount,
  type ServiceAccountKey,
} from './cloud-identity.js';
import { cloudProjects, isFatal, parseCloudPage } from './cloud-projects.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure, googleReason, googleStatus } from './google-errors.js';

export interface CloudCollection {
  identities: Identity[];
  /** The projects read whole. */
  accounts: string[];
  warnings: string[];
  failures: ScanFailure[];
}

/** Policy Analyzer pages are at most 1000 activities. */
const ACTIVITY_PAGE_SIZE = 1000;
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RESOURCE_EXHAUSTED']);

/** Every service account of a project, 100 a page (IAM's maximum), to the end. */
export async function listServiceAccounts(ctx: GoogleContext, projectId: string): Promise<ServiceAccount[]> {
  const out: ServiceAccount[] = [];
  let pageToken: string | undefined;
  const seen = new Set<string>();
  do {
    const res = await ctx.apis
      .iam()
      .projects.serviceAccounts.list({ name: `projects/${projectId}`, pageSize: 100, pageToken });
    const page = parseCloudPage(
      serviceAccountPageSchema,
      res.data,
      `listing the service accounts of project ${projectId}`,
    );
    out.push(...(page.accounts ?? []));
    pageToken = page.nextPageToken || undefined;
    if (pageToken && seen.has(pageToken))
      throw new CloudError(
        `Google repeated a page token while listing the service accounts of project ${projectId}`,
        'UnexpectedAnswer',
      );
    if (pageToken) seen.add(pageToken);
  } while (pageToken);
  return out;
}

/** The user-managed keys of one account (keys.list has no paging); null when the account is gone. */
export async function listUserManagedKeys(
  ctx: GoogleContext,
  accountName: string,
): Promise<ServiceAccountKey[] | null> {
  try {
    const res = await ctx.apis
      .iam()
      .projects.serviceAccounts.keys.list({ name: accountName, keyTypes: ['USER_MANAGED'] });
    return parseCloudPage(keyListSchema, res.data, `listing the keys of ${accountName}`).keys ?? [];
  } catch (err) {
    if (googleStatus(err) === 404) return null;
    throw err;
  }
}

/** One activity type of one project, paged to the end (pages may be short, or empty with a token). */
export async function queryActivities(
  ctx: GoogleContext,
  projectId: string,
  type: ActivityType,
  index: AuthIndex,
  filter?: string,
): Promise<void> {
  const path = `/v1/projects/${encodeURIComponent(projectId)}/locations/global/activityTypes/${type}/activities:query`;
  const seen = new Set<string>();
  let pageToken: string | undefined;
  do {
    const body = await ctx.apis.cloudRequest('policyAnalyzer', path, {
      params: { pageSize: ACTIVITY_PAGE_SIZE, pageToken, filter },
    });
    const what = `reading ${type} activities of project ${projectId}`;
    const page = parseCloudPage(activityPageSchema, body, what);
    try {
      index.add(type, page.activities ?? []);
    } catch (err) {
      throw new CloudError(
        `Google sent an unexpected activity while ${what} (${err instanceof Error ? err.message.split('\n')[0] : 'bad shape'})`,
        'UnexpectedAnswer',
      );
    }
    pageToken = page.nextPageToken || undefined;
    if (pageToken && seen.has(pageToken))
      throw new CloudError(`Google repeated a page token while ${what}`, 'UnexpectedAnswer');
    if (pageToken) seen.add(pageToken);
  } while (pageToken);
}

export type ActivityProblem = 'disabled' | 'denied' | 'failed';

/** Why Policy Analyzer could not be read: the API is off, the role is missing, or something else. */
export function activityProblem(err: unknown): ActivityProblem {
  const reason = googleReason(err);
  if (reason === 'SERVICE_DISABLED' || reason === 'accessNotConfigured') return 'disabled';
  if (googleStatus(err) === 403 && !RATE_REASONS.has(reason ?? '')) return 'denied';
  return 'failed';
}

/** Both activity types of a project, or why they could not be read. */
export async function readAuthIndex(
  ctx: GoogleContext,
  projectId: string,
): Promise<{ index: AuthIndex } | { problem: ActivityProblem; message: string; error: unknown }> {
  const index = new AuthIndex();
  try {
    await Promise.all([
      queryActivities(ctx, projectId, ACCOUNT_ACTIVITY, index),
      queryActivities(ctx, projectId, KEY_ACTIVITY, index),
    ]);
    return { index };
  } catch (err) {
    const failure = googleFailure(err, { what: `querying Policy Analyzer in project ${projectId}`, fix: 'scan again' });
    if (isFatal(failure)) throw failure;
    return { problem: activityProblem(err), message: failure.message, error: err };
  }
}

const list = (projects: string[]) =>
  projects.length === 1 ? `project ${projects[0]}` : `projects ${projects.join(', ')}`;

/** One warning per cause, naming the projects and the fix. */
export function activityWarnings(
  problems: Map<string, { problem: ActivityProblem; message: string }>,
  caller: string | null,
): string[] {
  const by = (p: ActivityProblem) =>
    [...problems]
      .filter(([, v]) => v.problem === p)
      .map(([k]) => k)
      .sort();
  const out: string[] = [];
  const unknown = 'the last use of their service accounts and keys is unknown, so none of them is called unused';
  const disabled = by('disabled');
  if (disabled.length > 0) {
    out.push(
      `Google Cloud: the Policy Analyzer API is not enabled in ${list(disabled)}: ${unknown}; enable policyanalyzer.googleapis.com (gcloud services enable policyanalyzer.googleapis.com --project PROJECT_ID), then scan again`,
    );
  }
  const denied = by('denied');
  if (denied.length > 0) {
    out.push(
      `Google Cloud: Policy Analyzer refused the last-authentication queries in ${list(denied)} (403): ${unknown}; grant ${caller ?? 'the service account dormant runs as'} roles/policyanalyzer.activityAnalysisViewer there, then scan again`,
    );
  }
  for (const p of by('failed'))
    out.push(
      `Google Cloud: Policy Analyzer could not be read in project ${p} (${problems.get(p)!.message}): ${unknown}`,
    );
  return out;
}

/** `//iam.googleapis.com/projects/P/serviceAccounts/EMAIL[/keys/K]`: how Policy Analyzer names them. */
export function fullResourceName(sa: Pick<ServiceAccount, 'projectId' | 'email'>, keyId?: string): string {
  return `//iam.googleapis.com/projects/${sa.projectId}/serviceAccounts/${sa.email}${keyId ? `/keys/${keyId}` : ''}`;
}

/** Policy Analyzer documents one `full_resource_name` per filter (no OR): one query per resource. */
const filterOf = (name: string) => `activities.full_resource_name = "${name}"`;

/**
 * `projects/P/serviceAccounts/UNIQUE_ID`: always with the project the plan or backup names.
 * IAM answers 403 (not 404) for an unknown account under the `-` wildcard, so a gone account
 * could not be told from a refusal there.
 */
export function accountResource(projectId: string, uniqueId: string): string {
  return `projects/${projectId}/serviceAccounts/${uniqueId}`;
}

/** One account by unique id in its project, or null when it is gone. Another project's account is refused. */
export async function getServiceAccount(
  ctx: GoogleContext,
  projectId: string,
  uniqueId: string,
): Promise<ServiceAccount | null> {
  let sa: ServiceAccount;
  try {
    const res = await ctx.apis.iam().projects.serviceAccounts.get({ name: accountResource(projectId, uniqueId) });
    sa = parseCloudPage(serviceAccountSchema, res.data, `reading service account ${uniqueId}`);
  } catch (err) {
    if (googleStatus(err) === 404) return null;
    throw err;
  }
  if (sa.projectId !== projectId || sa.uniqueId !== uniqueId) {
    throw new UsageError(
      `service account ${uniqueId} was planned in project ${projectId}, but IAM answered with ${sa.email} of project ${sa.projectId}; refusing to act on it`,
    );
  }
  return sa;
}

export interface LiveAccount {
  sa: ServiceAccount;
  keys: ServiceAccountKey[];
  /** Null when Policy Analyzer could not be read (`problem` says why). */
  index: AuthIndex | null;
  problem: string | null;
}

/** One account read live: the account, its user-managed keys, and their last authentications (filtered queries). */
export async function readLiveAccount(
  ctx: GoogleContext,
  projectId: string,
  uniqueId: string,
): Promise<LiveAccount | null> {
  const sa = await getServiceAccount(ctx, projectId, uniqueId);
  if (!sa) return null;
  const keys = await listUserManagedKeys(ctx, accountResource(projectId, uniqueId));
  if (keys === null) return null;
  const index = new AuthIndex();
  const userKeys = keys.filter(isUserManaged);
  try {
    await Promise.all([
      queryActivities(ctx, sa.projectId, ACCOUNT_ACTIVITY, index, filterOf(fullResourceName(sa))),
      ...userKeys.map((k) =>
        queryActivities(ctx, sa.projectId, KEY_ACTIVITY, index, filterOf(fullResourceName(sa, keyIdOf(k.name)))),
      ),
    ]);
    return { sa, keys: userKeys, index, problem: null };
  } catch (err) {
    const failure = googleFailure(err, {
      what: `querying Policy Analyzer in project ${sa.projectId}`,
      fix: 'try again',
    });
    if (isFatal(failure)) throw failure;
    return { sa, keys: userKeys, index: null, problem: failure.message };
  }
}

export type CloudCollectOptions = CloudMarks;

interface ProjectResult {
  identities: Identity[];
  problem: { problem: ActivityProblem; message: string } | null;
}

async function collectProject(
  ctx: GoogleContext,
  projectId: string,
  keyLimit: ReturnType<typeof pLimit>,
  marks: CloudMarks,
  now: Date,
): Promise<ProjectResult> {
  const accounts = await listServiceAccounts(ctx, projectId);
  const [auth, keys] = await Promise.all([
    readAuthIndex(ctx, projectId),
    Promise.all(accounts.map((sa) => keyLimit(() => listUserManagedKeys(ctx, sa.name)))),
  ]);
  const index = 'index' in auth ? auth.index : null;
  const identities: Identity[] = [];
  accounts.forEach((sa, i) => {
    const saKeys = keys[i];
    // Deleted between the list and its keys: it is no longer there to act on.
    if (saKeys === null || saKeys === undefined) return;
    identities.push(serviceAccountIdentity(sa, saKeys, index, marks, now));
  });
  ctx.progress?.(`Google Cloud: project ${projectId}: ${identities.length} service accounts read`);
  return { identities, problem: 'index' in auth ? null : { problem: auth.problem, message: auth.message } };
}

/** The service accounts of every project in scope; the projects that could not be read are `failures`. */
export async function collectCloud(
  ctx: GoogleContext,
  now: Date = new Date(),
  options: CloudCollectOptions = {},
): Promise<CloudCollection> {
  const scope = await cloudProjects(ctx);
  const projectLimit = pLimit(ctx.google.cloud.concurrency);
  const keyLimit = pLimit(ctx.google.cloud.concurrency);
  const failures: ScanFailure[] = [...scope.failures];
  const problems = new Map<string, { problem: ActivityProblem; message: string }>();
  const results = await Promise.all(
    scope.projects.map((projectId) =>
      projectLimit(async () => {
        try {
          const r = await collectProject(ctx, projectId, keyLimit, options, now);
          if (r.problem) problems.set(projectId, r.problem);
          return { projectId, identities: r.identities };
        } catch (err) {
          const failure = googleFailure(err, {
            what: `listing the service accounts and keys of project ${projectId}`,
            fix: 'scan again',
            serviceAccount: options.caller ?? null,
          });
          if (isFatal(failure)) throw failure;
          failures.push({ provider: 'google', account: projectId, reason: failure.message });
          return null;
        }
      }),
    ),
  );
  const read = results.filter((r): r is NonNullable<typeof r> => r !== null);
  return {
    identities: read.flatMap((r) => r.identities),
    accounts: read.map((r) => r.projectId),
    warnings: activityWarnings(problems, options.caller ?? null),
    failures: failures.sort((a, b) => a.account.localeCompare(b.account)),
  };
}
