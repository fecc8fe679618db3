/**
 * CloudTrail evidence: a user's latest events from LookupEvents (the 90-day event history).
 * IAM and console sign-in events are recorded in us-east-1, so it is always looked up, then
 * the configured regions. LookupEvents allows 2 requests per second per account and region:
 * every request, retries included, goes through that region's limiter. A lookup never
 * throws: what cannot be read becomes "unavailable: reason", never "no activity".
 */
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import type { CloudTrailClientConfig, Event as CloudTrailApiEvent } from '@aws-sdk/client-cloudtrail';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from '../../config/config.js';
import { type EvidenceItem, type EvidenceSection, unavailableSection } from '../../model/evidence.js';
import type { AwsSettings, CallCounter } from './aws-client.js';
import { unavailableReason } from './aws-errors.js';
import { CLOUDTRAIL, type SourceResult, available, unavailable } from './aws-evidence-result.js';
import { RateLimiter } from './aws-rate-limiter.js';

/** Where IAM and console sign-in events are recorded. */
export const HOME_REGION = 'us-east-1';
/** LookupEvents returns at most 50 events per page. */
export const MAX_PAGE = 50;
/** Stops a listing whose server keeps handing out tokens. */
const MAX_PAGES_PER_REGION = 100;
/** A filtered lookup (a role's assumptions) reads at most this many pages per region (2 a second). */
const MAX_FILTERED_PAGES_PER_REGION = 10;
const OPERATION = 'cloudtrail:LookupEvents';

/** One LookupEvents event, as kept for reviewers. */
export interface TrailEvent {
  name: string;
  time: string;
  sourceIp: string | null;
  region: string;
  source: string | null;
}

export type CloudTrailData = { regions: string[]; events: TrailEvent[] };

export interface CloudTrailEvidenceOptions {
  /** Looked up besides us-east-1. */
  regions: string[];
  /** How many of the user's latest events to keep (over all regions). */
  depth: number;
  /** Per region; AWS allows 2. */
  maxRequestsPerSecond: number;
  /** Custom CloudTrail endpoint (a fake, a VPC endpoint). Null: the SDK's own resolution. */
  endpointUrl: string | null;
  /** Profile, retries. Its endpointUrl (for IAM/STS) is not used for CloudTrail. */
  aws: Pick<AwsSettings, 'profile' | 'maxAttempts' | 'retryMode'>;
  /** Explicit credentials (tests); otherwise the profile or the default chain. */
  credentials?: CloudTrailClientConfig['credentials'];
  /** Counts LookupEvents calls as "cloudtrail:LookupEvents". */
  calls?: CallCounter;
  /**
   * Limiters by region. Default: shared by the whole process, because the limit is per
   * account and region, not per CloudTrailEvidence (a second instance, e.g. in the next
   * review cycle, must not start with a fresh allowance while the last requests still count).
   */
  limiters?: RegionLimiters;
  now?: () => Date;
}

/** One RateLimiter per region (and rate), created on first use. */
export class RegionLimiters {
  private readonly byKey = new Map<string, RateLimiter>();

  get(region: string, perSecond: number): RateLimiter {
    const key = `${region}@${perSecond}`;
    let limiter = this.byKey.get(key);
    if (!limiter) {
      limiter = new RateLimiter(perSecond);
      this.byKey.set(key, limiter);
    }
    return limiter;
  }
}

/** The process-wide default. */
export const sharedRegionLimiters = new RegionLimiters();

/** The regions looked up: us-east-1 first, then the configured ones, without repeats. */
export function lookupRegions(regions: readonly string[]): string[] {
  return [...new Set([HOME_REGION, ...regions.map((r) => r.trim()).filter((r) => r.length > 0)])];
}

/** Maps one LookupEvents event; the source IP is only in the raw CloudTrailEvent JSON. */
export function toTrailEvent(event: CloudTrailApiEvent, region: string): TrailEvent | null {
  if (!event.EventTime) return null;
  let sourceIp: string | null = null;
  if (event.CloudTrailEvent) {
    try {
      const raw = JSON.parse(event.CloudTrailEvent) as { sourceIPAddress?: unknown };
      if (typeof raw.sourceIPAddress === 'string' && raw.sourceIPAddress.length > 0) sourceIp = raw.sourceIPAddress;
    } catch {
      // A truncated or odd record: keep the event without its IP.
    }
  }
  return {
    name: event.EventName ?? 'unknown',
    time: event.EventTime.toISOString(),
    sourceIp,
    region,
    source: event.EventSource ?? null,
  };
}

/** One LookupEvents attribute, and which of the events it finds to keep. */
interface TrailQuery {
  key: 'Username' | 'ResourceName';
  value: string;
  keep?: (event: TrailEvent) => boolean;
}

interface RegionResult {
  region: string;
  events: (TrailEvent & { id: string | null })[];
  error?: unknown;
}

export class CloudTrailEvidence {
  readonly regions: string[];
  readonly depth: number;
  private readonly clients = new Map<string, CloudTrailClient>();
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly now: () => Date;

  constructor(options: CloudTrailEvidenceOptions) {
    if (!Number.isInteger(options.depth) || options.depth < 1) {
      throw new RangeError(`CloudTrailEvidence: depth must be a positive integer, got ${options.depth}`);
    }
    this.regions = lookupRegions(options.regions);
    this.depth = options.depth;
    this.now = options.now ?? (() => new Date());
    for (const region of this.regions) {
      const limiter = (options.limiters ?? sharedRegionLimiters).get(region, options.maxRequestsPerSecond);
      const client = new CloudTrailClient({
        region,
        maxAttempts: options.aws.maxAttempts,
        retryMode: options.aws.retryMode,
        ...(options.aws.profile ? { profile: options.aws.profile } : {}),
        ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        requestHandler: new NodeHttpHandler({
          connectionTimeout: 5_000,
          requestTimeout: 30_000,
          httpAgent: { keepAlive: true, maxSockets: 4 },
          httpsAgent: { keepAlive: true, maxSockets: 4 },
        }),
      });
      // After the retry middleware, before signing: every attempt waits for the limiter and is
      // signed only when it may go (a long wait never sends a stale signature).
      client.middlewareStack.addRelativeTo(
        ((next: (args: unknown) => Promise<unknown>) => (args: unknown) => limiter.schedule(() => next(args))) as never,
        { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'dormantLookupEventsRateLimit' },
      );
      const calls = options.calls;
      if (calls) {
        client.middlewareStack.add(
          ((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
            calls.add(`cloudtrail:${String(context.commandName ?? 'unknown').replace(/Command$/, '')}`);
            return next(args);
          }) as never,
          { step: 'initialize', name: 'dormantCallCounter' },
        );
      }
      this.clients.set(region, client);
      this.limiters.set(region, limiter);
    }
  }

  /** Null when `evidence.cloudtrail.enabled` is off. */
  static fromConfig(
    settings: Config['evidence']['cloudtrail'],
    aws: Pick<AwsSettings, 'profile' | 'maxAttempts' | 'retryMode'>,
    extra: Pick<CloudTrailEvidenceOptions, 'credentials' | 'calls' | 'now' | 'limiters'> = {},
  ): CloudTrailEvidence | null {
    if (!settings.enabled) return null;
    return new CloudTrailEvidence({
      regions: settings.regions,
      depth: settings.depth,
      maxRequestsPerSecond: settings.maxRequestsPerSecond,
      endpointUrl: settings.endpointUrl,
      aws,
      ...extra,
    });
  }

  /** The limiter of a region (one per region: the limit is per account and region). */
  limiter(region: string): RateLimiter | undefined {
    return this.limiters.get(region);
  }

  /** The user's latest `depth` events over all regions, newest first. Never throws. */
  lookup(userName: string): Promise<SourceResult<CloudTrailData>> {
    return this.lookupBy({ key: 'Username', value: userName });
  }

  /**
   * A role's latest `depth` AssumeRole* events (AssumeRole, AssumeRoleWithSAML,
   * AssumeRoleWithWebIdentity): LookupEvents by ResourceName, which for these events is the
   * role's ARN, keeping only the assumptions (the role's own management events name it too).
   */
  lookupRole(roleArn: string): Promise<SourceResult<CloudTrailData>> {
    return this.lookupBy({ key: 'ResourceName', value: roleArn, keep: (e) => e.name.startsWith('AssumeRole') });
  }

  private async lookupBy(query: TrailQuery): Promise<SourceResult<CloudTrailData>> {
    try {
      const results = await Promise.all(
        this.regions.map((region) =>
          this.lookupRegion(region, query).then(
            (events): RegionResult => ({ region, events }),
            (error: unknown): RegionResult => ({ region, events: [], error }),
          ),
        ),
      );
      const failed = results.filter((r) => r.error !== undefined);
      if (failed.length > 0) {
        // A partial history would show a wrong "last event" or a false "no events": all or nothing.
        return unavailable(failureReason(failed, this.regions.length), this.now);
      }
      const seen = new Set<string>();
      const events: TrailEvent[] = [];
      for (const r of results) {
        for (const { id, ...event } of r.events) {
          if (id !== null) {
            if (seen.has(id)) continue;
            seen.add(id);
          }
          events.push(event);
        }
      }
      events.sort(
        (a, b) => b.time.localeCompare(a.time) || a.region.localeCompare(b.region) || a.name.localeCompare(b.name),
      );
      return available({ regions: [...this.regions], events: events.slice(0, this.depth) }, this.now);
    } catch (err) {
      return unavailable(unavailableReason(err, OPERATION), this.now);
    }
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
  }

  private async lookupRegion(region: string, query: TrailQuery): Promise<RegionResult['events']> {
    const client = this.clients.get(region)!;
    const events: RegionResult['events'] = [];
    let token: string | undefined;
    const maxPages = query.keep ? MAX_FILTERED_PAGES_PER_REGION : MAX_PAGES_PER_REGION;
    for (let page = 0; page < maxPages && events.length < this.depth; page++) {
      const out = await client.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: query.key, AttributeValue: query.value }],
          // A filtered lookup asks for full pages: some of each page may be left out.
          MaxResults: query.keep ? MAX_PAGE : Math.min(MAX_PAGE, this.depth - events.length),
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const e of out.Events ?? []) {
        const mapped = toTrailEvent(e, region);
        if (mapped && (!query.keep || query.keep(mapped)) && events.length < this.depth) {
          events.push({ ...mapped, id: e.EventId ?? null });
        }
      }
      if (!out.NextToken || out.NextToken === token) break;
      token = out.NextToken;
    }
    return events;
  }
}

/** "no permission … (AccessDenied)" when every region failed alike, else the reasons per region. */
function failureReason(failed: RegionResult[], regionCount: number): string {
  const byReason = new Map<string, string[]>();
  for (const f of failed) {
    const reason = unavailableReason(f.error, OPERATION);
    byReason.set(reason, [...(byReason.get(reason) ?? []), f.region]);
  }
  if (byReason.size === 1 && failed.length === regionCount) return [...byReason.keys()][0]!;
  return [...byReason].map(([reason, regions]) => `${reason} in ${regions.join(', ')}`).join('; ');
}

function eventItem(e: TrailEvent): EvidenceItem {
  return {
    at: e.time,
    summary:
      `${e.name} at ${e.time} from ${e.sourceIp ?? 'unknown IP'} in ${e.region || 'unknown region'}` +
      (e.source ? ` (${e.source})` : ''),
    fields: { name: e.name, time: e.time, sourceIp: e.sourceIp, region: e.region, source: e.source },
  };
}

/** The neutral section: the latest event in one line, the events as items (newest first). */
export function cloudTrailSection(result: SourceResult<CloudTrailData>): EvidenceSection {
  if (result.status !== 'ok') {
    return unavailableSection(CLOUDTRAIL.source, CLOUDTRAIL.title, result.reason, new Date(result.collectedAt));
  }
  const { regions, events } = result.data;
  const last = events[0];
  const where = regions.length > 0 ? regions.join(', ') : 'the looked-up regions';
  return {
    ...CLOUDTRAIL,
    status: 'ok',
    collectedAt: result.collectedAt,
    summary: last
      ? `last CloudTrail event ${last.name} at ${last.time} from ${last.sourceIp ?? 'unknown IP'} (${last.region})`
      : `no CloudTrail events in ${regions.join(', ')} (90-day history)`,
    items: events.map(eventItem),
    scope: `last ${events.length} event(s) in ${where}`,
  };
}
