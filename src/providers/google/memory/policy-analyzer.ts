/**
 * The fake Policy Analyzer API v1 (DESIGN §6): `activities:query` for the activity types
 * `serviceAccountLastAuthentication` and `serviceAccountKeyLastAuthentication` on a project,
 * with the `activities.full_resource_name` filter, paging that may give short pages or empty
 * ones with a nextPageToken, Google's SERVICE_DISABLED error when the API is off, and 403 without
 * roles/policyanalyzer.activityAnalysisViewer. Dates are reported at the start of the day in
 * Pacific time, as the real service reports them.
 */
import type { FakeRequest, FakeResponse, FakeRoute } from './fake-types.js';
import { CLOUD_PLATFORM, permissionDenied, rpcError, serviceDisabled, type CloudState } from './cloud.js';

export const ACTIVITY_TYPES = {
  serviceAccountLastAuthentication: 'policyanalyzer.serviceAccountLastAuthenticationActivities.query',
  serviceAccountKeyLastAuthentication: 'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query',
} as const;

const DAY_MS = 86_400_000;
/** Activity Analyzer reports dates in Pacific Standard Time (UTC-8) all year. */
const PACIFIC_MS = 8 * 3_600_000;

/** The start of the Pacific day `at` falls in, as an RFC 3339 instant. */
export function pacificDay(at: Date): string {
  const t = Math.floor((at.getTime() - PACIFIC_MS) / DAY_MS) * DAY_MS + PACIFIC_MS;
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Activity {
  fullResourceName: string;
  activityType: string;
  observationPeriod: { startTime: string; endTime: string };
  activity: Record<string, unknown>;
}

function activities(state: CloudState, projectId: string, type: keyof typeof ACTIVITY_TYPES): Activity[] {
  const project = state.project(projectId)!;
  const end = new Date(state.clock().getTime() - state.lagDays * DAY_MS);
  const observationPeriod = { startTime: pacificDay(state.observationStart), endTime: pacificDay(end) };
  const out: Activity[] = [];
  // Records newer than the end of the observation period are not processed yet (the lag).
  const visible = (at: Date) => at <= end;
  for (const sa of state.serviceAccounts.values()) {
    if (sa.projectId !== project.projectId) continue;
    const accountName = `//iam.googleapis.com/projects/${sa.projectId}/serviceAccounts/${sa.email}`;
    const owner = {
      fullResourceName: accountName,
      projectNumber: project.projectNumber,
      serviceAccountId: sa.uniqueId,
    };
    if (type === 'serviceAccountLastAuthentication') {
      const at = state.accountAuth.get(sa.uniqueId);
      if (!at || !visible(at)) continue;
      out.push({
        fullResourceName: accountName,
        activityType: type,
        observationPeriod,
        activity: { lastAuthenticatedTime: pacificDay(at), serviceAccount: owner },
      });
      continue;
    }
    for (const [id, at] of state.keyAuth) {
      const [uniqueId, keyId] = id.split('/');
      if (uniqueId !== sa.uniqueId || !visible(at)) continue;
      const keyName = `${accountName}/keys/${keyId}`;
      out.push({
        fullResourceName: keyName,
        activityType: type,
        observationPeriod,
        activity: {
          lastAuthenticatedTime: pacificDay(at),
          serviceAccountKey: {
            fullResourceName: keyName,
            projectNumber: project.projectNumber,
            serviceAccountId: sa.uniqueId,
          },
        },
      });
    }
  }
  return out.sort((a, b) => a.fullResourceName.localeCompare(b.fullResourceName));
}

const FILTER_TERM = /^\s*activities\.(?:full_resource_name|fullResourceName)\s*=\s*"([^"]+)"\s*$/;

/**
 * `activities.full_resource_name = "…"` (or `fullResourceName`): the one filter the reference
 * documents, with one name. Anything else, OR included, is refused as Google refuses an
 * unsupported filter. Null for no filter.
 */
function parseFilter(filter: string | null): Set<string> | null | Error {
  if (filter === null || filter.trim() === '') return null;
  const m = FILTER_TERM.exec(filter.trim());
  if (!m) return new Error(`Invalid filter: ${filter}`);
  return new Set([m[1]!]);
}

/** Page tokens: an offset and the number of pages served, opaque to the caller. */
const token = (offset: number, served: number) => Buffer.from(`pa:${offset}:${served}`).toString('base64url');
function readToken(raw: string | null): { offset: number; served: number } | null | Error {
  if (raw === null || raw === '') return null;
  const m = /^pa:(\d+):(\d+)$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m) return new Error('bad token');
  return { offset: Number(m[1]), served: Number(m[2]) };
}

function query(state: CloudState, req: FakeRequest, match: RegExpExecArray): FakeResponse {
  const projectPart = decodeURIComponent(match[1]!);
  const location = decodeURIComponent(match[2]!);
  const type = decodeURIComponent(match[3]!);
  const parent = `projects/${projectPart}/locations/${location}/activityTypes/${type}`;
  const permission = ACTIVITY_TYPES[type as keyof typeof ACTIVITY_TYPES];
  const project = state.project(projectPart);
  if (!project)
    return permissionDenied(
      permission ?? ACTIVITY_TYPES.serviceAccountLastAuthentication,
      `//policyanalyzer.googleapis.com/${parent}`,
    );
  if (project.disabledApis.has('policyanalyzer.googleapis.com')) {
    return serviceDisabled('policyanalyzer.googleapis.com', project.projectNumber);
  }
  if (!permission) return rpcError(400, 'INVALID_ARGUMENT', `Unsupported activity type: ${type}`);
  if (location !== 'global') return rpcError(400, 'INVALID_ARGUMENT', `Unsupported location: ${location}`);
  if (!state.allowed(project.projectId, permission)) {
    return permissionDenied(permission, `//cloudresourcemanager.googleapis.com/projects/${project.projectId}`);
  }
  const filter = parseFilter(req.url.searchParams.get('filter'));
  if (filter instanceof Error) return rpcError(400, 'INVALID_ARGUMENT', filter.message);
  const raw = Number(req.url.searchParams.get('pageSize') ?? '0');
  const pageSize = Number.isInteger(raw) && raw > 0 ? Math.min(raw, 1000) : 1000;
  const at = readToken(req.url.searchParams.get('pageToken'));
  if (at instanceof Error) return rpcError(400, 'INVALID_ARGUMENT', 'Invalid page token.');
  const all = activities(state, project.projectId, type as keyof typeof ACTIVITY_TYPES).filter(
    (a) => !filter || filter.has(a.fullResourceName),
  );
  const { offset, served } = at ?? { offset: 0, served: 0 };
  if (offset > all.length) return rpcError(400, 'INVALID_ARGUMENT', 'Invalid page token.');
  const paging = state.paging;
  if (paging.emptyFirstPage && served === 0) return { status: 200, body: { nextPageToken: token(0, 1) } };
  const size = Math.min(pageSize, paging.maxPerPage ?? pageSize);
  const slice = all.slice(offset, offset + size);
  const next = offset + slice.length;
  const more = next < all.length || (paging.trailingEmptyPage && slice.length > 0);
  return {
    status: 200,
    body: {
      ...(slice.length > 0 ? { activities: slice } : {}),
      ...(more ? { nextPageToken: token(next, served + 1) } : {}),
    },
  };
}

export function policyAnalyzerRoutes(state: CloudState): FakeRoute[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/activityTypes\/([^/]+)\/activities:query$/,
      scopes: [CLOUD_PLATFORM],
      name: 'policyanalyzer.activities.query',
      handle: (req, m) => query(state, req, m),
    },
  ];
}
