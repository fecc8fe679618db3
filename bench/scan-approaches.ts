// The three ways of reading an IAM account that the scan benchmark compares: dormant's scan
// through the report source, dormant's scan through the API source, and the naive sequential
// loop most scripts use. Every approach counts its IAM calls with the SDK middleware of
// createAwsClients (CallCounter: logical calls, not retries).
import {
  GetAccessKeyLastUsedCommand,
  type IAMClient,
  paginateListAccessKeys,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import type { Config } from '../src/config/config.js';
import { scan } from '../src/engine/scan.js';
import type { ScanResult } from '../src/model/finding.js';
import type { Inventory } from '../src/model/identity.js';
import { type AwsClients, CallCounter, createAwsClients } from '../src/providers/aws/aws-client.js';
import { AwsProvider, type AwsSource } from '../src/providers/aws/aws-provider.js';
import type { EnrichRequest, Provider } from '../src/providers/provider.js';

export type CallsByOperation = Record<string, number>;

export function snapshot(calls: CallCounter): CallsByOperation {
  return Object.fromEntries([...calls.byOperation].sort(([a], [b]) => a.localeCompare(b)));
}

export function iamTotal(calls: CallsByOperation): number {
  return Object.entries(calls).reduce((n, [op, c]) => (op.startsWith('iam:') ? n + c : n), 0);
}

export function diff(after: CallsByOperation, before: CallsByOperation): CallsByOperation {
  const out: CallsByOperation = {};
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d !== 0) out[op] = d;
  }
  return out;
}

/** Clients like the CLI builds them (same retries, HTTP agent and counter), pointed at `endpoint`. */
export function benchClients(endpoint: string, concurrency: number): AwsClients {
  return createAwsClients(
    {
      profile: null,
      region: 'us-east-1',
      endpointUrl: endpoint,
      maxAttempts: 5,
      retryMode: 'standard',
      concurrency,
    },
    new CallCounter(),
  );
}

/** Wraps a provider to time collect() and enrich() and split the calls between the two. */
export class TimedProvider implements Provider {
  readonly name: string;
  collectMs = 0;
  enrichMs = 0;
  collectCalls: CallsByOperation = {};
  enrichCalls: CallsByOperation = {};
  flaggedForTags = 0;
  flaggedForKeySlots = 0;

  constructor(
    private readonly inner: Provider,
    private readonly calls: CallCounter,
  ) {
    this.name = inner.name;
  }

  async collect(): Promise<Inventory> {
    const before = snapshot(this.calls);
    const start = performance.now();
    try {
      return await this.inner.collect();
    } finally {
      this.collectMs += performance.now() - start;
      this.collectCalls = diff(snapshot(this.calls), before);
    }
  }

  async enrich(request: EnrichRequest): Promise<string[]> {
    this.flaggedForTags = request.tags.length;
    this.flaggedForKeySlots = request.unresolved.length;
    const before = snapshot(this.calls);
    const start = performance.now();
    try {
      return await this.inner.enrich(request);
    } finally {
      this.enrichMs += performance.now() - start;
      this.enrichCalls = diff(snapshot(this.calls), before);
    }
  }
}

export interface ScanRun {
  calls: CallsByOperation;
  iamCalls: number;
  collectMs: number;
  enrichMs: number;
  collectCalls: CallsByOperation;
  enrichCalls: CallsByOperation;
  /** Users sent to enrichment (users with findings), and those needing key-slot mapping. */
  flaggedUsers: number;
  keySlotUsers: number;
  summary: ScanResult['summary'];
  findingsByRule: Record<string, number>;
  warnings: number;
}

/** One whole `scan()` through a fresh AwsProvider (fresh clients, so counts are per run). */
export async function scanOnce(
  endpoint: string,
  source: AwsSource,
  concurrency: number,
  config: Config,
): Promise<ScanRun> {
  const aws = benchClients(endpoint, concurrency);
  try {
    const provider = new TimedProvider(
      new AwsProvider(aws, { source, maxReportAgeHours: config.aws.maxReportAgeHours, reportTimeoutSeconds: 120 }),
      aws.calls,
    );
    const result = await scan(provider, { config });
    const calls = snapshot(aws.calls);
    const findingsByRule: Record<string, number> = {};
    for (const f of result.findings) findingsByRule[f.rule] = (findingsByRule[f.rule] ?? 0) + 1;
    return {
      calls,
      iamCalls: iamTotal(calls),
      collectMs: provider.collectMs,
      enrichMs: provider.enrichMs,
      collectCalls: provider.collectCalls,
      enrichCalls: provider.enrichCalls,
      flaggedUsers: provider.flaggedForTags,
      keySlotUsers: provider.flaggedForKeySlots,
      summary: result.summary,
      findingsByRule,
      warnings: result.warnings.length,
    };
  } finally {
    aws.destroy();
  }
}

export interface CollectRun {
  calls: CallsByOperation;
  iamCalls: number;
  identities: number;
}

/** The report source's collection alone (provider.collect()): the inventory, no rules. */
export async function collectReportOnce(endpoint: string, config: Config): Promise<CollectRun> {
  const aws = benchClients(endpoint, config.aws.concurrency);
  try {
    const provider = new AwsProvider(aws, {
      source: 'report',
      maxReportAgeHours: config.aws.maxReportAgeHours,
      reportTimeoutSeconds: 120,
    });
    const inventory = await provider.collect();
    const calls = snapshot(aws.calls);
    return { calls, iamCalls: iamTotal(calls), identities: inventory.identities.length };
  } finally {
    aws.destroy();
  }
}

export interface NaiveRun {
  calls: CallsByOperation;
  iamCalls: number;
  users: number;
  keys: number;
  usedKeys: number;
}

/**
 * The naive sequential approach: ListUsers to the last page, then for each user
 * ListAccessKeys, then for each key GetAccessKeyLastUsed — strictly one call at a time.
 * It only collects; it evaluates nothing.
 */
export async function naiveSequential(iam: IAMClient): Promise<Omit<NaiveRun, 'calls' | 'iamCalls'>> {
  const users: string[] = [];
  for await (const page of paginateListUsers({ client: iam, pageSize: 1000 }, {})) {
    for (const u of page.Users ?? []) if (u.UserName) users.push(u.UserName);
  }
  let keys = 0;
  let usedKeys = 0;
  for (const userName of users) {
    for await (const page of paginateListAccessKeys({ client: iam }, { UserName: userName })) {
      for (const k of page.AccessKeyMetadata ?? []) {
        if (!k.AccessKeyId) continue;
        const out = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.AccessKeyId }));
        keys++;
        if (out.AccessKeyLastUsed?.LastUsedDate) usedKeys++;
      }
    }
  }
  return { users: users.length, keys, usedKeys };
}

export async function naiveOnce(endpoint: string): Promise<NaiveRun> {
  // Concurrency only sizes the HTTP agent here; the loop itself is sequential.
  const aws = benchClients(endpoint, 1);
  try {
    const out = await naiveSequential(aws.iam);
    const calls = snapshot(aws.calls);
    return { ...out, calls, iamCalls: iamTotal(calls) };
  } finally {
    aws.destroy();
  }
}
