/**
 * What one AWS evidence source read, before it becomes a neutral EvidenceSection: its data,
 * or why it could not be had ("unavailable: reason", never "no activity").
 */
import { type Evidence, unavailableSection } from '../../model/evidence.js';

/** The sections' machine names and titles, in the order they are shown. */
export const CLOUDTRAIL = { source: 'cloudtrail', title: 'CloudTrail' } as const;
export const ACCESS_ADVISOR = { source: 'access-advisor', title: 'Access Advisor' } as const;

export type SourceResult<T> =
  { status: 'ok'; collectedAt: string; data: T } | { status: 'unavailable'; collectedAt: string; reason: string };

export function unavailable<T>(reason: string, now: () => Date = () => new Date()): SourceResult<T> {
  return { status: 'unavailable', collectedAt: now().toISOString(), reason };
}

export function available<T>(data: T, now: () => Date = () => new Date()): SourceResult<T> {
  return { status: 'ok', collectedAt: now().toISOString(), data };
}

/** Both sections unavailable for the same reason (the evidence could not even start). */
export function evidenceUnavailable(reason: string, now: Date): Evidence {
  return [CLOUDTRAIL, ACCESS_ADVISOR].map((s) => unavailableSection(s.source, s.title, reason, now));
}
