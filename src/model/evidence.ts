/**
 * Evidence attached to a plan item: what the identity did last, as sections any provider
 * can fill (AWS: CloudTrail and Access Advisor; Entra: sign-in logs). A source that cannot
 * be read is "unavailable: reason", never "no activity".
 */

export interface EvidenceItem {
  /** When it happened, if it has a time. */
  at: string | null;
  /** One line: "ConsoleLogin from 203.0.113.9 (us-east-1)". */
  summary: string;
  /** The facts behind the line, for pages and tickets. */
  fields?: Record<string, string | null>;
}

export interface EvidenceSection {
  /** Stable machine name: `cloudtrail`, `access-advisor`, `entra-sign-ins`. */
  source: string;
  /** For people: "CloudTrail", "Access Advisor", "Entra sign-in logs". */
  title: string;
  status: 'ok' | 'unavailable';
  collectedAt: string;
  /** One line for messages, whatever the status. */
  summary: string;
  /** With `unavailable`: why. */
  reason?: string;
  /** Newest first. */
  items: EvidenceItem[];
  /** What the section covered (regions, period), when that matters to a reader. */
  scope?: string;
}

export type Evidence = EvidenceSection[];

export function unavailableSection(source: string, title: string, reason: string, now: Date): EvidenceSection {
  return {
    source,
    title,
    status: 'unavailable',
    collectedAt: now.toISOString(),
    summary: `${title} unavailable: ${reason}`,
    reason,
    items: [],
  };
}

/** One line for a message: every section's summary, or why there is none. */
export function evidenceSummary(e: Evidence | null): string {
  if (!e || e.length === 0) return 'evidence not collected';
  return e.map((s) => s.summary).join('; ');
}
