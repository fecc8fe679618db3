/** Evidence for plan items: CloudTrail LookupEvents and IAM Access Advisor. */
export { gatherEvidence, DISABLED } from './gather.js';
export type { EvidenceDeps, EvidenceSubject } from './gather.js';
export {
  CloudTrailEvidence,
  RegionLimiters,
  sharedRegionLimiters,
  lookupRegions,
  toTrailEvent,
  HOME_REGION,
} from './cloudtrail-evidence.js';
export type { CloudTrailEvidenceOptions, CloudTrailData } from './cloudtrail-evidence.js';
export { accessAdvisorEvidence, toServiceAccess } from './access-advisor-evidence.js';
export type { AccessAdvisorOptions, AccessAdvisorData } from './access-advisor-evidence.js';
export { RateLimiter } from './rate-limiter.js';
export { unavailableReason } from './reasons.js';
