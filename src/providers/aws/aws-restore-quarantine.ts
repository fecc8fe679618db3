/**
 * Restore's undo of dormant's user quarantine (remediation.disableUser 'quarantine'): the
 * policies dormant attached are in the journal (`attach-quarantine-policy:ARN`); without that
 * record (an old caller), the configured one. One the backup lists was the user's own: it stays.
 */
import { DetachUserPolicyCommand } from '@aws-sdk/client-iam';
import type { RestoreOptions, StepRunner } from '../provider.js';
import type { UserBackup } from './aws-backup.js';
import { isNoSuchEntity, toCloudError } from './aws-errors.js';
import type { IamAccess } from './aws-lists.js';

/** Detach dormant's quarantine policies from a user that still exists; what was detached, in words. */
export async function detachQuarantine(
  aws: IamAccess,
  backup: UserBackup,
  options: RestoreOptions,
  steps: StepRunner,
  quarantinePolicyArn: string | null,
): Promise<string[]> {
  const userName = backup.user.name;
  const prefix = 'attach-quarantine-policy:';
  const quarantines = options.changes
    ? [
        ...new Set(
          options.changes.flatMap((c) =>
            (c.steps ?? []).filter((st) => st.startsWith(prefix)).map((st) => st.slice(prefix.length)),
          ),
        ),
      ]
    : quarantinePolicyArn
      ? [quarantinePolicyArn]
      : [];
  const restored: string[] = [];
  for (const arn of quarantines) {
    if (backup.attachedPolicies.some((p) => p.arn === arn)) continue;
    const outcome = await steps.step(`detach-quarantine-policy:${arn}`, async () => {
      try {
        await aws.iam.send(new DetachUserPolicyCommand({ UserName: userName, PolicyArn: arn }));
        return 'detached' as const;
      } catch (err) {
        if (isNoSuchEntity(err)) return 'absent' as const;
        throw toCloudError(err, `iam:DetachUserPolicy ${arn} from ${userName}`, aws.settings);
      }
    });
    if (outcome === 'detached') restored.push(`Detached dormant's quarantine policy ${arn}.`);
  }
  return restored;
}
