/**
 * One document from several (DESIGN §3, §8): the accounts of an Organization are scanned one
 * by one (in this process or by workers) and each yields a whole one-account document; this
 * puts them together with the accounts that failed or were skipped. Nothing is counted twice:
 * each account appears in at most one input.
 */
import type { Finding, ProviderScan, ScanResult, ScannedIdentity } from '../model/finding.js';
import type { ScanFailure } from '../model/identity.js';
import { isoSeconds } from '../model/time.js';
import { sortDocument, summarize } from './scan.js';

export interface MergeInput {
  documents: ScanResult[];
  failures?: ScanFailure[];
  skipped?: ScanFailure[];
  inactiveDays: number;
  now: Date;
}

/** The oldest of the data times: a merged document is only as fresh as its stalest part. */
function oldest(values: (string | null)[]): string | null {
  const known = values.filter((v): v is string => v !== null).sort();
  return known[0] ?? null;
}

export function mergeScans(input: MergeInput): ScanResult {
  const { documents } = input;
  const identities: ScannedIdentity[] = documents.flatMap((d) => d.identities);
  const findings: Finding[] = documents.flatMap((d) => d.findings);
  sortDocument(identities, findings, true);
  // One entry per provider and source: an account that fell back to the API shows as its own source.
  const scans = new Map<string, ProviderScan & { times: (string | null)[] }>();
  for (const d of documents) {
    for (const p of d.providers) {
      const key = `${p.provider}|${p.source}`;
      const entry = scans.get(key) ?? { ...p, accounts: [], times: [] };
      entry.accounts.push(...p.accounts);
      entry.times.push(p.dataAsOf);
      scans.set(key, entry);
    }
  }
  const providers: ProviderScan[] = [...scans.values()].map(({ times, ...p }) => ({
    ...p,
    accounts: [...new Set(p.accounts)].sort(),
    dataAsOf: oldest(times),
  }));
  const sources = new Set(providers.map((p) => p.source));
  const failures = [...documents.flatMap((d) => d.failures ?? []), ...(input.failures ?? [])];
  const skipped = [...documents.flatMap((d) => d.skipped ?? []), ...(input.skipped ?? [])];
  return {
    schemaVersion: 1,
    generatedAt: isoSeconds(input.now),
    source: sources.size === 1 ? [...sources][0]! : 'mixed',
    providers,
    dataAsOf: oldest(documents.map((d) => d.dataAsOf)),
    accounts: [...new Set(documents.flatMap((d) => d.accounts))],
    settings: { inactiveDays: input.inactiveDays },
    identities,
    findings,
    warnings: documents.flatMap((d) => d.warnings),
    ...(failures.length > 0 ? { failures } : {}),
    ...(skipped.length > 0 ? { skipped } : {}),
    summary: summarize(identities, findings),
  };
}
