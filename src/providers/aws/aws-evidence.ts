/**
 * Evidence for one IAM user: CloudTrail and Access Advisor side by side, as neutral sections.
 * Never throws and never blocks the review: a source that is off or fails is
 * "unavailable: reason".
 */
import type { Config } from '../../config/config.js';
import type { Evidence } from '../../model/evidence.js';
import { type AccessAdvisorData, accessAdvisorEvidence, accessAdvisorSection } from './aws-access-advisor-evidence.js';
import type { AwsClients } from './aws-client.js';
import { type CloudTrailData, type CloudTrailEvidence, cloudTrailSection } from './aws-cloudtrail-evidence.js';
import { unavailableReason } from './aws-errors.js';
import { type SourceResult, unavailable } from './aws-evidence-result.js';

export const DISABLED = 'disabled in config';

export interface EvidenceSubject {
  userName: string;
  userArn: string;
}

export interface EvidenceDeps {
  /** Null when CloudTrail evidence is off (CloudTrailEvidence.fromConfig). */
  cloudtrail: CloudTrailEvidence | null;
  /** The IAM client Access Advisor asks. */
  aws: Pick<AwsClients, 'iam'>;
  settings: Config['evidence'];
  /** Access Advisor's first poll wait (ms); tests make it short. */
  pollMs?: number;
  now?: () => Date;
}

export async function gatherEvidence(subject: EvidenceSubject, deps: EvidenceDeps): Promise<Evidence> {
  const now = deps.now ?? (() => new Date());
  const { settings } = deps;

  const cloudtrail = async (): Promise<SourceResult<CloudTrailData>> => {
    if (!settings.cloudtrail.enabled) return unavailable(DISABLED, now);
    if (!deps.cloudtrail) return unavailable('no CloudTrail client configured', now);
    return deps.cloudtrail.lookup(subject.userName);
  };
  const accessAdvisor = async (): Promise<SourceResult<AccessAdvisorData>> => {
    if (!settings.accessAdvisor.enabled) return unavailable(DISABLED, now);
    return accessAdvisorEvidence(deps.aws, subject.userArn, {
      timeoutSeconds: settings.accessAdvisor.timeoutSeconds,
      ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
      now,
    });
  };
  // Both are written never to throw; this is the last guard so evidence never blocks a review.
  const safe = <T>(run: () => Promise<SourceResult<T>>, operation: string): Promise<SourceResult<T>> =>
    run().catch((err: unknown) => unavailable<T>(unavailableReason(err, operation), now));

  const [ct, aa] = await Promise.all([
    safe(cloudtrail, 'cloudtrail:LookupEvents'),
    safe(accessAdvisor, 'iam:GetServiceLastAccessedDetails'),
  ]);
  return [cloudTrailSection(ct), accessAdvisorSection(aa)];
}
