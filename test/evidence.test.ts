// Evidence for plan items: CloudTrail LookupEvents through a local fake that checks the
// SigV4 signature and enforces AWS's 2 requests/s per region (sliding window), and IAM
// Access Advisor through a fake in front of moto. The tool must stay under the limit
// (zero throttling), and evidence that cannot be had is "unavailable: reason", never
// "no activity".
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import type { LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import { GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Config } from '../src/config/config.js';
import { evidenceSummary } from '../src/model/evidence.js';
import type { EvidenceSection } from '../src/model/evidence.js';
import { accessAdvisorEvidence, accessAdvisorSection } from '../src/providers/aws/aws-access-advisor-evidence.js';
import { createAwsClients } from '../src/providers/aws/aws-client.js';
import type { AwsClients, AwsSettings } from '../src/providers/aws/aws-client.js';
import { CallCounter } from '../src/providers/aws/aws-client.js';
import {
  CloudTrailEvidence,
  cloudTrailSection,
  lookupRegions,
  RegionLimiters,
} from '../src/providers/aws/aws-cloudtrail-evidence.js';
import type { CloudTrailEvidenceOptions, TrailEvent } from '../src/providers/aws/aws-cloudtrail-evidence.js';
import { gatherEvidence } from '../src/providers/aws/aws-evidence.js';
import { type SourceResult, unavailable } from '../src/providers/aws/aws-evidence-result.js';
import { RateLimiter } from '../src/providers/aws/aws-rate-limiter.js';
import { startAccessAdvisorFake } from './support/accessAdvisorFake.js';
import type { AccessAdvisorFake, AccessAdvisorFakeOptions } from './support/accessAdvisorFake.js';
import { maxInAnyWindow, startCloudTrailFake, verifySigV4 } from './support/cloudtrailFake.js';
import type { CloudTrailFake, CloudTrailFakeOptions, SeedTrailEvent } from './support/cloudtrailFake.js';
import { MOTO_ACCOUNT_ID, startMoto } from './support/moto.js';
import type { MotoServer } from './support/moto.js';

const CREDS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const AWS = { profile: null, maxAttempts: 3, retryMode: 'standard' as const };

const EVIDENCE_SETTINGS: Config['evidence'] = {
  cloudtrail: {
    enabled: true,
    regions: ['eu-west-1', 'ap-southeast-2'],
    depth: 20,
    maxRequestsPerSecond: 2,
    endpointUrl: null,
  },
  accessAdvisor: { enabled: true, timeoutSeconds: 10 },
};

/** 150 events per region for alice, interleaved across regions (one a minute), newest first. */
function aliceEvents(): SeedTrailEvent[] {
  const newest = Date.parse('2026-03-01T12:00:00Z');
  const events: SeedTrailEvent[] = [];
  REGIONS.forEach((region, r) => {
    for (let i = 0; i < 150; i++) {
      events.push({
        user: 'alice',
        region,
        name: i === 0 && region === 'us-east-1' ? 'ConsoleLogin' : `Describe${region.replace(/-/g, '')}${i}`,
        time: new Date(newest - (i * REGIONS.length + r) * 60_000),
        sourceIp: `203.0.113.${(i % 250) + 1}`,
      });
    }
  });
  return events;
}

const BOB_EVENTS: SeedTrailEvent[] = [
  {
    user: 'bob',
    region: 'eu-west-1',
    name: 'GetObject',
    time: '2026-02-10T08:00:00Z',
    sourceIp: '192.0.2.10',
    source: 's3.amazonaws.com',
  },
  { user: 'bob', region: 'us-east-1', name: 'ListUsers', time: '2026-02-01T08:00:00Z', sourceIp: '192.0.2.11' },
];

function ctOptions(fake: CloudTrailFake, over: Partial<CloudTrailEvidenceOptions> = {}): CloudTrailEvidenceOptions {
  return {
    regions: REGIONS.slice(1),
    depth: 120,
    maxRequestsPerSecond: 2,
    endpointUrl: fake.url,
    aws: AWS,
    credentials: CREDS,
    ...over,
  };
}

/** Every region's arrivals: never more than 2 in any 1 s window. */
function expectUnderLimit(fake: CloudTrailFake): void {
  for (const region of REGIONS) expect(maxInAnyWindow(fake.arrivals(region), 1000), region).toBeLessThanOrEqual(2);
}

/** A source off in the config, as gatherEvidence reports it. */
const OFF: SourceResult<never> = unavailable('disabled in config');

function expectNotNoActivity(summary: string): void {
  expect(summary).not.toMatch(/no CloudTrail events/);
  expect(summary).not.toMatch(/no activity/i);
  expect(summary).not.toMatch(/no service accessed/);
}

// ---------------------------------------------------------------------------------------

describe('RateLimiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grants at most 2 starts per second, exactly (injected clock)', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter(2, { now: () => Date.now() });
    const times: number[] = [];
    const all = Array.from({ length: 7 }, () => limiter.take().then(() => times.push(Date.now())));
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(all);
    expect(times).toEqual([0, 0, 1000, 1000, 2000, 2000, 3000]);
  });

  it('counts a scheduled task from when it settles, not when it started', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter(2, { now: () => Date.now() });
    const starts: number[] = [];
    const task = (): Promise<void> =>
      limiter.schedule(async () => {
        starts.push(Date.now());
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
    const all = [task(), task(), task(), task()];
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(all);
    // Two finish at 300 ms: the next two may start a full second after that.
    expect(starts).toEqual([0, 0, 1300, 1300]);
  });

  it('spreads a fractional rate: 0.5/s is one start every 2 s', async () => {
    vi.useFakeTimers({ now: 0 });
    const limiter = new RateLimiter(0.5, { now: () => Date.now() });
    const times: number[] = [];
    const all = Array.from({ length: 3 }, () => limiter.take().then(() => times.push(Date.now())));
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);
    expect(times).toEqual([0, 2000, 4000]);
    expect(() => new RateLimiter(0)).toThrow(RangeError);
  });

  it('on the real clock: 11 takes at 5/s take at least 2 s, never 6 in a second', async () => {
    const limiter = new RateLimiter(5);
    const times: number[] = [];
    const started = performance.now();
    await Promise.all(Array.from({ length: 11 }, () => limiter.take().then(() => times.push(performance.now()))));
    expect(performance.now() - started).toBeGreaterThanOrEqual(1995);
    // Timers may fire a hair late but never early: grants are at least a full window apart.
    expect(maxInAnyWindow(times, 990)).toBeLessThanOrEqual(5);
  });
});

// ---------------------------------------------------------------------------------------

describe('the neutral evidence sections', () => {
  const at = '2026-03-01T12:00:00.000Z';

  it('CloudTrail: the last event in one line, every event as an item with its facts', () => {
    const section = cloudTrailSection({
      status: 'ok',
      collectedAt: at,
      data: {
        regions: ['us-east-1', 'eu-west-1'],
        events: [
          {
            name: 'ConsoleLogin',
            time: at,
            sourceIp: '203.0.113.9',
            region: 'us-east-1',
            source: 'signin.amazonaws.com',
          },
          { name: 'GetObject', time: '2026-02-01T00:00:00.000Z', sourceIp: null, region: 'eu-west-1', source: null },
        ],
      },
    });
    expect(section).toEqual<EvidenceSection>({
      source: 'cloudtrail',
      title: 'CloudTrail',
      status: 'ok',
      collectedAt: at,
      summary: `last CloudTrail event ConsoleLogin at ${at} from 203.0.113.9 (us-east-1)`,
      scope: 'last 2 event(s) in us-east-1, eu-west-1',
      items: [
        {
          at,
          summary: `ConsoleLogin at ${at} from 203.0.113.9 in us-east-1 (signin.amazonaws.com)`,
          fields: {
            name: 'ConsoleLogin',
            time: at,
            sourceIp: '203.0.113.9',
            region: 'us-east-1',
            source: 'signin.amazonaws.com',
          },
        },
        {
          at: '2026-02-01T00:00:00.000Z',
          summary: 'GetObject at 2026-02-01T00:00:00.000Z from unknown IP in eu-west-1',
          fields: {
            name: 'GetObject',
            time: '2026-02-01T00:00:00.000Z',
            sourceIp: null,
            region: 'eu-west-1',
            source: null,
          },
        },
      ],
    });
    const none = cloudTrailSection({ status: 'ok', collectedAt: at, data: { regions: ['us-east-1'], events: [] } });
    expect(none.summary).toBe('no CloudTrail events in us-east-1 (90-day history)');
    expect(none.items).toEqual([]);
  });

  it('Access Advisor: the service reached last in one line, the reached services as items', () => {
    const section = accessAdvisorSection({
      status: 'ok',
      collectedAt: at,
      data: {
        services: [
          { namespace: 'ec2', name: 'Amazon EC2', lastAccessedAt: null, lastAccessedRegion: null },
          { namespace: 'iam', name: 'AWS IAM', lastAccessedAt: '2026-01-01T00:00:00.000Z', lastAccessedRegion: null },
          { namespace: 's3', name: 'Amazon S3', lastAccessedAt: at, lastAccessedRegion: 'eu-west-1' },
        ],
      },
    });
    expect(section.summary).toBe(`last service s3 at ${at}`);
    expect(section.items.map((i) => i.summary)).toEqual([
      `s3 (Amazon S3) at ${at} in eu-west-1`,
      'iam (AWS IAM) at 2026-01-01T00:00:00.000Z',
    ]);
    expect(section.items[0]!.fields).toEqual({
      namespace: 's3',
      name: 'Amazon S3',
      lastAccessedAt: at,
      lastAccessedRegion: 'eu-west-1',
    });
    const none = accessAdvisorSection({ status: 'ok', collectedAt: at, data: { services: [] } });
    expect(none.summary).toBe('no service accessed in the Access Advisor period');
  });

  it('unavailable: "<title> unavailable: reason", no items, never "no activity"', () => {
    const reason = 'no permission for cloudtrail:LookupEvents (AccessDenied)';
    const section = cloudTrailSection({ status: 'unavailable', collectedAt: at, reason });
    expect(section).toEqual<EvidenceSection>({
      source: 'cloudtrail',
      title: 'CloudTrail',
      status: 'unavailable',
      collectedAt: at,
      summary: `CloudTrail unavailable: ${reason}`,
      reason,
      items: [],
    });
    expect(accessAdvisorSection(OFF).summary).toBe('Access Advisor unavailable: disabled in config');
    expectNotNoActivity(evidenceSummary([section, accessAdvisorSection(OFF)]));
  });
});

// ---------------------------------------------------------------------------------------

describe('CloudTrail evidence through a fake that enforces 2 requests/s', () => {
  let fake: CloudTrailFake;
  const extra: CloudTrailFake[] = [];
  const lookups: CloudTrailEvidence[] = [];
  const evidence = (options: CloudTrailEvidenceOptions): CloudTrailEvidence => {
    const ct = new CloudTrailEvidence(options);
    lookups.push(ct);
    return ct;
  };
  const anotherFake = async (options: CloudTrailFakeOptions): Promise<CloudTrailFake> => {
    const f = await startCloudTrailFake(options);
    extra.push(f);
    return f;
  };

  beforeAll(async () => {
    // Pages of 20 at most (AWS may return fewer than MaxResults): depth 120 is 6 pages a region.
    fake = await startCloudTrailFake({ events: [...aliceEvents(), ...BOB_EVENTS], pageSize: 20 });
  });
  afterAll(async () => {
    for (const ct of lookups) ct.destroy();
    await Promise.all([fake.stop(), ...extra.map((f) => f.stop())]);
  });

  it('looks up us-east-1 first, then the configured regions, once each', () => {
    expect(lookupRegions(['eu-west-1', 'us-east-1', ' eu-west-1 ', ''])).toEqual(['us-east-1', 'eu-west-1']);
    expect(lookupRegions([])).toEqual(['us-east-1']);
  });

  it('3 regions, depth 120: many signed pages, zero throttling, merged newest first', async () => {
    const calls = new CallCounter();
    const ct = evidence(ctOptions(fake, { calls }));
    const started = performance.now();
    const section = await ct.lookup('alice');
    const elapsed = performance.now() - started;

    if (section.status !== 'ok') throw new Error(`unavailable: ${section.reason}`);
    expect(section.data.regions).toEqual(REGIONS);
    const { events } = section.data;
    expect(events).toHaveLength(120);

    // The 120 newest over all regions: interleaved, 40 from each.
    const expected = aliceEvents()
      .sort((a, b) => new Date(b.time).getTime() - new Date(a.time).getTime())
      .slice(0, 120);
    expect(events.map((e) => [e.name, e.time, e.region])).toEqual(
      expected.map((e) => [e.name, new Date(e.time).toISOString(), e.region]),
    );
    for (const region of REGIONS) expect(events.filter((e) => e.region === region)).toHaveLength(40);
    expect(events[0]).toEqual<TrailEvent>({
      name: 'ConsoleLogin',
      time: '2026-03-01T12:00:00.000Z',
      sourceIp: '203.0.113.1',
      region: 'us-east-1',
      source: 'signin.amazonaws.com',
    });
    expect(events[1]).toMatchObject({ region: 'eu-west-1', source: 'iam.amazonaws.com', sourceIp: '203.0.113.1' });

    // Every request was signed correctly and accepted; none was throttled.
    expect(fake.requests).toHaveLength(18);
    expect(fake.requests.filter((r) => r.status !== 200)).toEqual([]);
    expect(fake.violations).toBe(0);
    expectUnderLimit(fake);
    for (const region of REGIONS) {
      const mine = fake.requests.filter((r) => r.region === region);
      expect(mine).toHaveLength(6);
      mine.forEach((r, i) => {
        const body = r.body as { LookupAttributes: unknown; MaxResults: number; NextToken?: string };
        expect(body.LookupAttributes).toEqual([{ AttributeKey: 'Username', AttributeValue: 'alice' }]);
        expect(body.MaxResults).toBeLessThanOrEqual(50);
        expect(body.NextToken === undefined).toBe(i === 0);
      });
    }
    // 6 requests a region at 2/s: the 5th cannot start before 2 s.
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(calls.byOperation.get('cloudtrail:LookupEvents')).toBe(18);

    const summary = evidenceSummary([cloudTrailSection(section), accessAdvisorSection(OFF)]);
    expect(summary).toContain(
      'last CloudTrail event ConsoleLogin at 2026-03-01T12:00:00.000Z from 203.0.113.1 (us-east-1)',
    );
  });

  it('stays under the limit with several users at once, right after another instance (limiters per region, process-wide)', async () => {
    const before = fake.requests.length;
    // A new instance straight after the last test's: the last requests still count at the fake.
    const ct = evidence(ctOptions(fake, { depth: 40 }));
    const [alice, bob, carol] = await Promise.all([ct.lookup('alice'), ct.lookup('bob'), ct.lookup('carol')]);

    expect(alice.status === 'ok' && alice.data.events.length).toBe(40);
    if (bob.status !== 'ok') throw new Error(bob.reason);
    expect(bob.data.events.map((e) => [e.name, e.region, e.sourceIp, e.source])).toEqual([
      ['GetObject', 'eu-west-1', '192.0.2.10', 's3.amazonaws.com'],
      ['ListUsers', 'us-east-1', '192.0.2.11', 'iam.amazonaws.com'],
    ]);
    // No events at all is a real answer here: every region was read.
    if (carol.status !== 'ok') throw new Error(carol.reason);
    expect(carol.data.events).toEqual([]);
    expect(evidenceSummary([cloudTrailSection(carol), accessAdvisorSection(OFF)])).toContain(
      'no CloudTrail events in us-east-1, eu-west-1, ap-southeast-2',
    );

    const mine = fake.requests.slice(before);
    expect(mine.length).toBeGreaterThanOrEqual(REGIONS.length * 3);
    expect(mine.filter((r) => r.status !== 200)).toEqual([]);
    expect(fake.violations).toBe(0);
    expectUnderLimit(fake);
  });

  it('the fake really throttles: an unpaced burst gets ThrottlingException "Rate exceeded"', async () => {
    const strict = await anotherFake({ events: BOB_EVENTS });
    const client = new CloudTrailClient({
      region: 'eu-west-1',
      endpoint: strict.url,
      credentials: CREDS,
      maxAttempts: 1,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        client.send(
          new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'bob' }] }),
        ),
      ),
    );
    client.destroy();
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(3);
    for (const r of refused) {
      expect(r.reason).toMatchObject({
        name: 'ThrottlingException',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      });
    }
    expect(strict.violations).toBe(refused.length);
  });

  it('the fake checks the request shape like AWS', async () => {
    const strict = await anotherFake({ events: BOB_EVENTS, maxRequestsPerSecond: 100 });
    const client = new CloudTrailClient({
      region: 'us-east-1',
      endpoint: strict.url,
      credentials: CREDS,
      maxAttempts: 1,
    });
    const fail = (input: LookupEventsCommandInput): Promise<unknown> =>
      client.send(new LookupEventsCommand(input)).then(
        () => 'accepted',
        (e: unknown) => (e as { name: string }).name,
      );
    expect(await fail({ MaxResults: 51 })).toBe('InvalidMaxResultsException');
    expect(await fail({ MaxResults: 0 })).toBe('InvalidMaxResultsException');
    expect(await fail({ LookupAttributes: [{ AttributeKey: 'UserName' as never, AttributeValue: 'bob' }] })).toBe(
      'InvalidLookupAttributesException',
    );
    expect(
      await fail({
        LookupAttributes: [
          { AttributeKey: 'Username', AttributeValue: 'bob' },
          { AttributeKey: 'EventName', AttributeValue: 'GetObject' },
        ],
      }),
    ).toBe('InvalidLookupAttributesException');
    expect(await fail({ NextToken: 'forged' })).toBe('InvalidNextTokenException');
    expect(await fail({ StartTime: new Date('2026-02-02'), EndTime: new Date('2026-02-01') })).toBe(
      'InvalidTimeRangeException',
    );
    expect(await fail({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GetObject' }] })).toBe(
      'accepted',
    );
    client.destroy();
  });

  it('the fake checks signatures: a wrong secret or an unknown key is refused', async () => {
    const lookup = { LookupAttributes: [{ AttributeKey: 'Username' as const, AttributeValue: 'alice' }] };
    const wrong = new CloudTrailClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    await expect(wrong.send(new LookupEventsCommand(lookup))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      message: expect.stringMatching(/signature we calculated does not match/) as unknown,
      $metadata: { httpStatusCode: 400 },
    });
    wrong.destroy();
    const unknown = new CloudTrailClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
    await expect(unknown.send(new LookupEventsCommand(lookup))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
    unknown.destroy();

    // Through the evidence collector: unavailable, with the reason.
    const ct = evidence(
      ctOptions(fake, { credentials: { accessKeyId: 'testing', secretAccessKey: 'nope' }, regions: [] }),
    );
    const section = await ct.lookup('alice');
    expect(section).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/InvalidSignatureException/) as unknown,
    });
  });

  it('the signature check agrees with the AWS SigV4 test suite (get-vanilla) and catches tampering', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    const request = {
      method: 'GET',
      url: '/',
      headers: {
        host: 'example.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      },
      body: Buffer.alloc(0),
    };
    const secrets = (id: string): string | undefined => (id === 'AKIDEXAMPLE' ? secret : undefined);
    const options = { service: 'service', maxSkewMs: Infinity };
    expect(verifySigV4(request, secrets, options)).toMatchObject({
      ok: true,
      region: 'us-east-1',
      accessKeyId: 'AKIDEXAMPLE',
    });
    expect(verifySigV4({ ...request, url: '/other' }, secrets, options)).toMatchObject({
      ok: false,
      failure: 'SignatureMismatch',
    });
    expect(verifySigV4({ ...request, body: Buffer.from('x') }, secrets, options)).toMatchObject({
      ok: false,
      failure: 'SignatureMismatch',
    });
    expect(verifySigV4(request, secrets, { service: 'cloudtrail', maxSkewMs: Infinity })).toMatchObject({
      ok: false,
      failure: 'BadScope',
    });
    expect(verifySigV4(request, secrets, { service: 'service' })).toMatchObject({ ok: false, failure: 'Expired' });
  });

  it('AccessDenied: "unavailable: no permission …", never "no activity"', async () => {
    const denied = await anotherFake({ events: aliceEvents(), accessDenied: true });
    const ct = evidence(ctOptions(denied));
    const section = await ct.lookup('alice');
    expect(section).toMatchObject({
      status: 'unavailable',
      reason: 'no permission for cloudtrail:LookupEvents (AccessDeniedException)',
    });
    expect(denied.violations).toBe(0);
    const summary = evidenceSummary([cloudTrailSection(section), accessAdvisorSection(OFF)]);
    expect(summary).toContain(
      'CloudTrail unavailable: no permission for cloudtrail:LookupEvents (AccessDeniedException)',
    );
    expectNotNoActivity(summary);
  });

  it('one region failing makes the whole section unavailable, naming the region (no partial "last event")', async () => {
    const partial = await anotherFake({
      events: aliceEvents(),
      regionErrors: {
        'ap-southeast-2': {
          status: 400,
          type: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
        },
      },
      accessDenied: ['eu-west-1'],
    });
    const section = await evidence(ctOptions(partial, { depth: 10 })).lookup('alice');
    if (section.status !== 'unavailable') throw new Error('expected unavailable');
    expect(section.reason).toBe(
      'no permission for cloudtrail:LookupEvents (AccessDeniedException) in eu-west-1; ' +
        'credentials rejected on cloudtrail:LookupEvents (UnrecognizedClientException): The security token included in the request is invalid. in ap-southeast-2',
    );
    expectNotNoActivity(evidenceSummary([cloudTrailSection(section), accessAdvisorSection(OFF)]));
  });

  it('throttled anyway (a stricter server) or unreachable: unavailable with a one-line reason', async () => {
    const stingy = await anotherFake({ events: aliceEvents(), maxRequestsPerSecond: 1, pageSize: 10 });
    const throttled = await evidence(
      // Own limiters: pages 1 and 2 go back to back (2/s is allowed here, not by this server).
      ctOptions(stingy, { regions: [], depth: 30, aws: { ...AWS, maxAttempts: 1 }, limiters: new RegionLimiters() }),
    ).lookup('alice');
    expect(throttled).toMatchObject({
      status: 'unavailable',
      reason: 'cloudtrail:LookupEvents throttled (ThrottlingException)',
    });

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await evidence({
      ...ctOptions(fake, { regions: [], aws: { ...AWS, maxAttempts: 1 } }),
      endpointUrl: `http://127.0.0.1:${port}`,
    }).lookup('alice');
    expect(unreachable).toMatchObject({
      status: 'unavailable',
      reason: 'cannot reach the endpoint for cloudtrail:LookupEvents (ECONNREFUSED)',
    });
  });

  it('gatherEvidence: a source off in the config is "unavailable: disabled in config"', async () => {
    const settings: Config['evidence'] = {
      cloudtrail: { ...EVIDENCE_SETTINGS.cloudtrail, enabled: false },
      accessAdvisor: { ...EVIDENCE_SETTINGS.accessAdvisor, enabled: false },
    };
    expect(CloudTrailEvidence.fromConfig(settings.cloudtrail, AWS)).toBeNull();
    // Never asked: a source that is off makes no call.
    const iam = new IAMClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: CREDS });
    const ev = await gatherEvidence(
      { userName: 'alice', userArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/alice` },
      { cloudtrail: null, aws: { iam }, settings },
    );
    iam.destroy();
    expect(ev).toMatchObject<Partial<EvidenceSection>[]>([
      {
        source: 'cloudtrail',
        status: 'unavailable',
        collectedAt: expect.any(String) as unknown as string,
        reason: 'disabled in config',
      },
      {
        source: 'access-advisor',
        status: 'unavailable',
        collectedAt: expect.any(String) as unknown as string,
        reason: 'disabled in config',
      },
    ]);
    const summary = evidenceSummary(ev);
    expect(summary).toBe('CloudTrail unavailable: disabled in config; Access Advisor unavailable: disabled in config');
    expectNotNoActivity(summary);
  });
});

// ---------------------------------------------------------------------------------------

describe('Access Advisor evidence through a fake in front of moto', () => {
  let moto: MotoServer;
  let aliceArn: string;
  const fakes: AccessAdvisorFake[] = [];
  const clients: AwsClients[] = [];

  const settings = (endpointUrl: string): AwsSettings => ({
    profile: null,
    region: 'us-east-1',
    endpointUrl,
    maxAttempts: 2,
    retryMode: 'standard',
    concurrency: 4,
  });
  const start = async (
    options: AccessAdvisorFakeOptions = {},
  ): Promise<{ fake: AccessAdvisorFake; aws: AwsClients }> => {
    const fake = await startAccessAdvisorFake(moto.endpoint, options);
    fakes.push(fake);
    const aws = createAwsClients(settings(fake.url));
    clients.push(aws);
    return { fake, aws };
  };

  const SERVICES: AccessAdvisorFakeOptions['services'] = {
    alice: [
      {
        namespace: 'iam',
        name: 'AWS Identity and Access Management',
        lastAccessedAt: '2026-01-05T10:00:00Z',
        region: 'us-east-1',
      },
      { namespace: 'ec2', name: 'Amazon EC2' },
      { namespace: 's3', name: 'Amazon S3', lastAccessedAt: '2026-02-20T09:30:00Z', region: 'eu-west-1' },
      { namespace: 'kms', name: 'AWS Key Management Service' },
      {
        namespace: 'sts',
        name: 'AWS Security Token Service',
        lastAccessedAt: '2025-12-01T00:00:00Z',
        region: 'us-east-1',
      },
    ],
  };

  beforeAll(async () => {
    moto = await startMoto();
    // createAwsClients takes credentials from the default chain (stubbed after moto started:
    // its process inherits the environment).
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_PROFILE', undefined);
    const seeded = await moto.seed({ users: [{ name: 'alice' }, { name: 'bob' }] });
    aliceArn = seeded.users[0]!.arn;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(fakes.map((f) => f.stop()));
    await moto?.stop();
    vi.unstubAllEnvs();
  });

  it('polls until COMPLETED and pages with Marker: every service, reached ones first', async () => {
    const { fake, aws } = await start({ services: SERVICES, pollsBeforeReady: 2, pageSize: 2 });
    const section = await accessAdvisorEvidence(aws, aliceArn, { timeoutSeconds: 10, pollMs: 50 });
    if (section.status !== 'ok') throw new Error(section.reason);
    expect(section.data.services).toEqual([
      {
        namespace: 's3',
        name: 'Amazon S3',
        lastAccessedAt: '2026-02-20T09:30:00.000Z',
        lastAccessedRegion: 'eu-west-1',
      },
      {
        namespace: 'iam',
        name: 'AWS Identity and Access Management',
        lastAccessedAt: '2026-01-05T10:00:00.000Z',
        lastAccessedRegion: 'us-east-1',
      },
      {
        namespace: 'sts',
        name: 'AWS Security Token Service',
        lastAccessedAt: '2025-12-01T00:00:00.000Z',
        lastAccessedRegion: 'us-east-1',
      },
      { namespace: 'ec2', name: 'Amazon EC2', lastAccessedAt: null, lastAccessedRegion: null },
      { namespace: 'kms', name: 'AWS Key Management Service', lastAccessedAt: null, lastAccessedRegion: null },
    ]);
    const seen = fake.advisorRequests();
    expect(seen.map((r) => [r.action, r.params.has('Marker')])).toEqual([
      ['GenerateServiceLastAccessedDetails', false],
      ['GetServiceLastAccessedDetails', false], // IN_PROGRESS
      ['GetServiceLastAccessedDetails', false], // IN_PROGRESS
      ['GetServiceLastAccessedDetails', false], // COMPLETED, page 1
      ['GetServiceLastAccessedDetails', true],
      ['GetServiceLastAccessedDetails', true],
    ]);
    expect(seen.every((r) => r.status === 200 && r.error === null)).toBe(true);
    // Backoff: 50, 100, 200 ms between polls (timers are never early).
    const [first, second, third] = seen.slice(1, 4).map((r) => r.at);
    expect(second! - first!).toBeGreaterThanOrEqual(95);
    expect(third! - second!).toBeGreaterThanOrEqual(195);
    expect(aws.calls.byOperation.get('iam:GetServiceLastAccessedDetails')).toBe(5);

    // Everything else goes to moto, signed and checked on the way.
    const { User } = await aws.iam.send(new GetUserCommand({ UserName: 'bob' }));
    expect(User?.Arn).toBe(`arn:aws:iam::${MOTO_ACCOUNT_ID}:user/bob`);
    expect(fake.requests.at(-1)).toMatchObject({ action: 'GetUser', forwarded: true, status: 200 });
  });

  it('a FAILED job is unavailable with its error', async () => {
    const { aws } = await start({
      pollsBeforeReady: 1,
      failJobs: { code: 'InternalError', message: 'The report could not be generated' },
    });
    const section = await accessAdvisorEvidence(aws, aliceArn, { timeoutSeconds: 10, pollMs: 10 });
    expect(section).toMatchObject({
      status: 'unavailable',
      reason: 'report job failed (InternalError: The report could not be generated)',
    });
  });

  it('AccessDenied is unavailable, never "no service accessed"', async () => {
    const { aws } = await start({ deny: ['GenerateServiceLastAccessedDetails'] });
    const section = await accessAdvisorEvidence(aws, aliceArn, { timeoutSeconds: 10, pollMs: 10 });
    expect(section).toMatchObject({
      status: 'unavailable',
      reason: 'no permission for iam:GenerateServiceLastAccessedDetails (AccessDenied)',
    });
    const summary = evidenceSummary([cloudTrailSection(OFF), accessAdvisorSection(section)]);
    expect(summary).toContain('Access Advisor unavailable: no permission for iam:GenerateServiceLastAccessedDetails');
    expectNotNoActivity(summary);

    const { aws: aws2 } = await start({ deny: ['GetServiceLastAccessedDetails'] });
    expect(await accessAdvisorEvidence(aws2, aliceArn, { timeoutSeconds: 10, pollMs: 10 })).toMatchObject({
      status: 'unavailable',
      reason: 'no permission for iam:GetServiceLastAccessedDetails (AccessDenied)',
    });
  });

  it('a job never ready, an unknown user, a wrong secret: unavailable with the reason', async () => {
    const { fake, aws } = await start({ pollsBeforeReady: Infinity });
    const started = performance.now();
    expect(await accessAdvisorEvidence(aws, aliceArn, { timeoutSeconds: 1, pollMs: 50 })).toMatchObject({
      status: 'unavailable',
      reason: 'report not ready after 1s',
    });
    expect(performance.now() - started).toBeLessThan(2500);

    expect(
      await accessAdvisorEvidence(aws, `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/nobody`, {
        timeoutSeconds: 1,
        pollMs: 10,
      }),
    ).toMatchObject({
      status: 'unavailable',
      reason:
        'iam:GenerateServiceLastAccessedDetails failed (NoSuchEntityException): The user with name nobody cannot be found.',
    });

    const wrong = new IAMClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    const section = await accessAdvisorEvidence({ iam: wrong }, aliceArn, { timeoutSeconds: 1, pollMs: 10 });
    wrong.destroy();
    expect(section).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(
        /^credentials rejected on iam:GenerateServiceLastAccessedDetails \(SignatureDoesNotMatch\)/,
      ) as unknown,
    });
    expect(fake.requests.at(-1)).toMatchObject({ status: 403, error: 'SignatureDoesNotMatch' });
  });

  it('gatherEvidence: CloudTrail and Access Advisor side by side', async () => {
    const trail = await startCloudTrailFake({ events: aliceEvents() });
    const { aws } = await start({ services: SERVICES, pollsBeforeReady: 1 });
    const cloudtrail = CloudTrailEvidence.fromConfig({ ...EVIDENCE_SETTINGS.cloudtrail, endpointUrl: trail.url }, AWS, {
      credentials: CREDS,
    });
    try {
      const ev = await gatherEvidence(
        { userName: 'alice', userArn: aliceArn },
        { cloudtrail, aws, settings: EVIDENCE_SETTINGS, pollMs: 10 },
      );
      const [ct, aa] = ev as [EvidenceSection, EvidenceSection];
      if (ct.status !== 'ok' || aa.status !== 'ok') throw new Error(evidenceSummary(ev));
      expect(ct.items).toHaveLength(20);
      // The reached services of the five, newest first (never-reached ones are not activity).
      expect(aa.items.map((i) => i.fields?.namespace)).toEqual(['s3', 'iam', 'sts']);
      expect(evidenceSummary(ev)).toBe(
        'last CloudTrail event ConsoleLogin at 2026-03-01T12:00:00.000Z from 203.0.113.1 (us-east-1); ' +
          'last service s3 at 2026-02-20T09:30:00.000Z',
      );
      // The stored form round-trips through JSON.
      expect(JSON.parse(JSON.stringify(ev))).toEqual(ev);
      expect(trail.violations).toBe(0);
    } finally {
      cloudtrail?.destroy();
      await trail.stop();
    }
  });
});
