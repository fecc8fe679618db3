/**
 * Evidence for one IAM role: CloudTrail's AssumeRole* events naming the role (who took a
 * session of it, from where, when) and Access Advisor's services reached with it. Never throws
 * and never blocks the review: a source that is off or fails is "unavailable: reason".
 */
import type { Evidence } from '../../model/evidence.js';
import { type AccessAdvisorData, accessAdvisorEvidence, accessAdvisorSection } from './aws-access-advisor-evidence.js';
import { type CloudTrailData, cloudTrailSection } from './aws-cloudtrail-evidence.js';
import { unavailableReason } from './aws-errors.js';
import { type EvidenceDeps, DISABLED } from './aws-evidence.js';
import { type SourceResult, unavailable } from './aws-evidence-result.js';

export async function gatherRoleEvidence(role: { name: string; arn: string }, deps: EvidenceDeps): Promise<Evidence> {
  const now = deps.now ?? (() => new Date());
  const { settings } = deps;

  const cloudtrail = async (): Promise<SourceResult<CloudTrailData>> => {
    if (!settings.cloudtrail.enabled) return unavailable(DISABLED, now);
    if (!deps.cloudtrail) return unavailable('no CloudTrail client configured', now);
    return deps.cloudtrail.lookupRole(role.arn);
  };
  const accessAdvisor = async (): Promise<SourceResult<AccessAdvisorData>> => {
    if (!settings.accessAdvisor.enabled) return unavailable(DISABLED, now);
    return accessAdvisorEvidence(deps.aws, role.arn, {
      timeoutSeconds: settings.accessAdvisor.timeoutSeconds,
      ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
      now,
    });
  };
  const safe = <T>(run: () => Promise<SourceResult<T>>, operation: string): Promise<SourceResult<T>> =>
    run().catch((err: unknown) => unavailable<T>(unavailableReason(err, operation), now));

  const [ct, aa] = await Promise.all([
    safe(cloudtrail, 'cloudtrail:LookupEvents'),
    safe(accessAdvisor, 'iam:GetServiceLastAccessedDetails'),
  ]);
  const trail = cloudTrailSection(ct);
  if (ct.status === 'ok') {
    const last = ct.data.events[0];
    trail.summary = last
      ? `role last assumed (${last.name}) at ${last.time} from ${last.sourceIp ?? 'unknown IP'} (${last.region})`
      : `no AssumeRole events for role ${role.name} in ${ct.data.regions.join(', ')} (90-day history)`;
  }
  return [trail, accessAdvisorSection(aa)];
}
