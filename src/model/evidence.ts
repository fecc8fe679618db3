/**
 * Evidence attached to a plan item: what the identity did last, from CloudTrail and IAM
 * Access Advisor. A source that cannot be read is "unavailable: reason" — never "no activity".
 */
export type EvidenceSection<T> =
  { status: 'ok'; collectedAt: string; data: T } | { status: 'unavailable'; collectedAt: string; reason: string };

export interface TrailEvent {
  name: string;
  time: string;
  sourceIp: string | null;
  region: string;
  source: string | null;
}

export interface ServiceAccess {
  namespace: string;
  name: string;
  lastAccessedAt: string | null;
  lastAccessedRegion: string | null;
}

export interface Evidence {
  cloudtrail: EvidenceSection<{ regions: string[]; events: TrailEvent[] }>;
  accessAdvisor: EvidenceSection<{ services: ServiceAccess[] }>;
}

/** One line for a message: "last CloudTrail event ConsoleLogin at … from 203.0.113.9" or why not. */
export function evidenceSummary(e: Evidence | null): string {
  if (!e) return 'evidence not collected';
  const parts: string[] = [];
  if (e.cloudtrail.status === 'ok') {
    const last = e.cloudtrail.data.events[0];
    parts.push(
      last
        ? `last CloudTrail event ${last.name} at ${last.time} from ${last.sourceIp ?? 'unknown IP'} (${last.region})`
        : `no CloudTrail events in ${e.cloudtrail.data.regions.join(', ')} (90-day history)`,
    );
  } else {
    parts.push(`CloudTrail unavailable: ${e.cloudtrail.reason}`);
  }
  if (e.accessAdvisor.status === 'ok') {
    const used = e.accessAdvisor.data.services.filter((s) => s.lastAccessedAt !== null);
    const latest = used.sort((a, b) => (b.lastAccessedAt ?? '').localeCompare(a.lastAccessedAt ?? ''))[0];
    parts.push(
      latest
        ? `last service ${latest.namespace} at ${latest.lastAccessedAt}`
        : `no service accessed in the Access Advisor period`,
    );
  } else {
    parts.push(`Access Advisor unavailable: ${e.accessAdvisor.reason}`);
  }
  return parts.join('; ');
}
