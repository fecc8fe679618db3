/**
 * IAM Access Advisor evidence: the services a user last reached, and when. Asynchronous on
 * AWS's side: GenerateServiceLastAccessedDetails starts a job, GetServiceLastAccessedDetails
 * is polled (with backoff) until it completes, then paged with Marker. Never throws: a
 * denied, failed or slow job becomes "unavailable: reason".
 */
import { GenerateServiceLastAccessedDetailsCommand, GetServiceLastAccessedDetailsCommand } from '@aws-sdk/client-iam';
import type { GetServiceLastAccessedDetailsCommandOutput, ServiceLastAccessed } from '@aws-sdk/client-iam';
import { type EvidenceItem, type EvidenceSection, unavailableSection } from '../../model/evidence.js';
import { type AwsClients, sleep } from './aws-client.js';
import { unavailableReason } from './aws-errors.js';
import { ACCESS_ADVISOR, type SourceResult, available, unavailable } from './aws-evidence-result.js';

/** One service in the Access Advisor report. */
export interface ServiceAccess {
  namespace: string;
  name: string;
  lastAccessedAt: string | null;
  lastAccessedRegion: string | null;
}

export type AccessAdvisorData = { services: ServiceAccess[] };

export interface AccessAdvisorOptions {
  /** Give up on a job not completed after this long. */
  timeoutSeconds: number;
  /** First wait before polling; doubles up to maxPollMs. Default 1000. */
  pollMs?: number;
  /** Default 5000. */
  maxPollMs?: number;
  now?: () => Date;
}

const GENERATE = 'iam:GenerateServiceLastAccessedDetails';
const GET = 'iam:GetServiceLastAccessedDetails';
/** Pages of a completed report, at most (AWS lists a few hundred services). */
const MAX_PAGES = 50;

export function toServiceAccess(s: ServiceLastAccessed): ServiceAccess {
  return {
    namespace: s.ServiceNamespace ?? 'unknown',
    name: s.ServiceName ?? s.ServiceNamespace ?? 'unknown',
    lastAccessedAt: s.LastAuthenticated ? s.LastAuthenticated.toISOString() : null,
    lastAccessedRegion: s.LastAuthenticatedRegion ?? null,
  };
}

/** Reached services first, newest first; then the never-reached ones by namespace. */
function byLastAccess(a: ServiceAccess, b: ServiceAccess): number {
  if (a.lastAccessedAt !== b.lastAccessedAt) {
    if (a.lastAccessedAt === null) return 1;
    if (b.lastAccessedAt === null) return -1;
    return b.lastAccessedAt.localeCompare(a.lastAccessedAt);
  }
  return a.namespace.localeCompare(b.namespace);
}

export async function accessAdvisorEvidence(
  aws: Pick<AwsClients, 'iam'>,
  userArn: string,
  options: AccessAdvisorOptions,
): Promise<SourceResult<AccessAdvisorData>> {
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutSeconds * 1000;
  const maxPollMs = options.maxPollMs ?? 5_000;
  let delay = Math.max(1, options.pollMs ?? 1_000);

  let jobId: string;
  try {
    const started = await aws.iam.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: userArn }));
    if (!started.JobId) return unavailable(`${GENERATE} returned no JobId`, now);
    jobId = started.JobId;
  } catch (err) {
    return unavailable(unavailableReason(err, GENERATE), now);
  }

  try {
    const startedAt = performance.now();
    let page: GetServiceLastAccessedDetailsCommandOutput;
    for (;;) {
      const remaining = timeoutMs - (performance.now() - startedAt);
      if (remaining <= 0) return unavailable(`report not ready after ${options.timeoutSeconds}s`, now);
      await sleep(Math.min(delay, remaining));
      delay = Math.min(delay * 2, maxPollMs);
      page = await aws.iam.send(new GetServiceLastAccessedDetailsCommand({ JobId: jobId }));
      if (page.JobStatus === 'COMPLETED') break;
      if (page.JobStatus === 'FAILED') {
        const detail = [page.Error?.Code, page.Error?.Message].filter(Boolean).join(': ');
        return unavailable(`report job failed${detail ? ` (${detail})` : ''}`, now);
      }
    }

    const services: ServiceAccess[] = (page.ServicesLastAccessed ?? []).map(toServiceAccess);
    for (let pages = 1; page.IsTruncated && page.Marker && pages < MAX_PAGES; pages++) {
      page = await aws.iam.send(new GetServiceLastAccessedDetailsCommand({ JobId: jobId, Marker: page.Marker }));
      services.push(...(page.ServicesLastAccessed ?? []).map(toServiceAccess));
    }
    return available({ services: services.sort(byLastAccess) }, now);
  } catch (err) {
    return unavailable(unavailableReason(err, GET), now);
  }
}

function serviceItem(s: ServiceAccess): EvidenceItem {
  return {
    at: s.lastAccessedAt,
    summary:
      (s.namespace || s.name || 'unknown service') +
      (s.name && s.name !== s.namespace ? ` (${s.name})` : '') +
      ` at ${s.lastAccessedAt ?? 'unknown time'}` +
      (s.lastAccessedRegion ? ` in ${s.lastAccessedRegion}` : ''),
    fields: {
      namespace: s.namespace,
      name: s.name,
      lastAccessedAt: s.lastAccessedAt,
      lastAccessedRegion: s.lastAccessedRegion,
    },
  };
}

/**
 * The neutral section: the service reached last in one line, and the reached services as
 * items (newest first). Services never reached in the period are not activity: not listed.
 */
export function accessAdvisorSection(result: SourceResult<AccessAdvisorData>): EvidenceSection {
  if (result.status !== 'ok') {
    return unavailableSection(ACCESS_ADVISOR.source, ACCESS_ADVISOR.title, result.reason, new Date(result.collectedAt));
  }
  const used = result.data.services
    .filter((s) => s.lastAccessedAt !== null)
    .sort((a, b) => (b.lastAccessedAt ?? '').localeCompare(a.lastAccessedAt ?? ''));
  const latest = used[0];
  return {
    ...ACCESS_ADVISOR,
    status: 'ok',
    collectedAt: result.collectedAt,
    summary: latest
      ? `last service ${latest.namespace} at ${latest.lastAccessedAt}`
      : 'no service accessed in the Access Advisor period',
    items: used.map(serviceItem),
    scope: 'last services used',
  };
}
