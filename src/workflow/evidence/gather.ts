/**
 * Evidence for one plan item: CloudTrail and Access Advisor side by side. Never throws and
 * never blocks the review: a source that is off or fails is "unavailable: reason".
 */
import type { Config } from '../../config/config.js';
import type { Evidence, EvidenceSection } from '../../model/evidence.js';
import type { AwsClients } from '../../providers/aws/aws-client.js';
import { accessAdvisorEvidence } from './access-advisor-evidence.js';
import type { AccessAdvisorData } from './access-advisor-evidence.js';
import type { CloudTrailData, CloudTrailEvidence } from './cloudtrail-evidence.js';
import { unavailable, unavailableReason } from './reasons.js';

export const DISABLED = 'disabled in config';

export interface EvidenceSubject {
  userName: string;
  userArn: string;
}

export interface EvidenceDeps {
  /** Null when CloudTrail evidence is off (CloudTrailEvidence.fromConfig). */
  cloudtrail: CloudTrailEvidence | null;
  /** IAM client for Access Advisor; null when there is none (e.g. a file provider). */
  aws: Pick<AwsClients, 'iam'> | null;
  settings: Config['evidence'];
  /** Access Advisor's first poll wait (ms); tests make it short. */
  pollMs?: number;
  now?: () => Date;
}

export async function gatherEvidence(subject: EvidenceSubject, deps: EvidenceDeps): Promise<Evidence> {
  const now = deps.now ?? (() => new Date());
  const { settings } = deps;

  const cloudtrail = async (): Promise<EvidenceSection<CloudTrailData>> => {
    if (!settings.cloudtrail.enabled) return unavailable(DISABLED, now);
    if (!deps.cloudtrail) return unavailable('no CloudTrail client configured', now);
    return deps.cloudtrail.lookup(subject.userName);
  };
  const accessAdvisor = async (): Promise<EvidenceSection<AccessAdvisorData>> => {
    if (!settings.accessAdvisor.enabled) return unavailable(DISABLED, now);
    if (!deps.aws) return unavailable('no AWS IAM client (not an AWS provider)', now);
    return accessAdvisorEvidence(deps.aws, subject.userArn, {
      timeoutSeconds: settings.accessAdvisor.timeoutSeconds,
      ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
      now,
    });
  };
  // Both are written never to throw; this is the last guard so evidence never blocks a review.
  const safe = <T>(run: () => Promise<EvidenceSection<T>>, operation: string): Promise<EvidenceSection<T>> =>
    run().catch((err: unknown) => unavailable<T>(unavailableReason(err, operation), now));

  const [ct, aa] = await Promise.all([
    safe(cloudtrail, 'cloudtrail:LookupEvents'),
    safe(accessAdvisor, 'iam:GetServiceLastAccessedDetails'),
  ]);
  return { cloudtrail: ct, accessAdvisor: aa };
}
