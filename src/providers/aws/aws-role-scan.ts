/**
 * IAM roles for the scan (DESIGN §2b), whatever the user source: GetAccountAuthorizationDetails
 * filtered to roles, 1000 a page to the last one, gives every role with its trust policy, tags,
 * inline policies, instance profiles and RoleLastUsed, so a few calls cover any number of roles
 * (the credential report has none). A principal denied that call still gets its users scanned,
 * with a warning that says what is missing and how to fix it.
 */
import { paginateGetAccountAuthorizationDetails, type RoleDetail } from '@aws-sdk/client-iam';
import type { Config } from '../../config/config.js';
import type { Identity } from '../../model/identity.js';
import type { AwsClients } from './aws-client.js';
import { errorName, isAccessDenied, isUnsupportedOperation, toCloudError, unsupportedReason } from './aws-errors.js';
import { QUARANTINE_POLICY_NAME, isQuarantineDocument, roleIdentity } from './aws-role-identity.js';

const OPERATION = 'iam:GetAccountAuthorizationDetails';

/**
 * Roles are read unless DORMANT-AWS-006 is turned off (`rules.unused-role.enabled: false`, or by
 * its id): then the scan makes no role call at all and needs no permission for it.
 */
export function scanRoles(config: Pick<Config, 'rules'>): boolean {
  const rules = config.rules as Record<string, { enabled?: boolean } | undefined>;
  return (rules['DORMANT-AWS-006'] ?? rules['unused-role'])?.enabled !== false;
}

export function roleFromDetail(detail: RoleDetail, now: Date): Identity | null {
  if (!detail.Arn || !detail.RoleName) return null;
  const quarantine = (detail.RolePolicyList ?? []).find((p) => p.PolicyName === QUARANTINE_POLICY_NAME);
  return roleIdentity(
    {
      arn: detail.Arn,
      name: detail.RoleName,
      path: detail.Path,
      createDate: detail.CreateDate,
      trustPolicy: detail.AssumeRolePolicyDocument,
      tags: detail.Tags,
      lastUsed: detail.RoleLastUsed,
      quarantined: isQuarantineDocument(quarantine?.PolicyDocument),
      instanceProfiles: (detail.InstanceProfileList ?? [])
        .map((p) => p.InstanceProfileName)
        .filter((n): n is string => Boolean(n)),
    },
    now,
  );
}

export async function collectRoles(
  aws: Pick<AwsClients, 'iam' | 'settings'>,
  now: Date = new Date(),
): Promise<{ identities: Identity[]; warnings: string[] }> {
  const details: RoleDetail[] = [];
  try {
    for await (const page of paginateGetAccountAuthorizationDetails(
      // A marker handed out twice would page for ever.
      { client: aws.iam, pageSize: 1000, stopOnSameToken: true },
      { Filter: ['Role'] },
    )) {
      details.push(...(page.RoleDetailList ?? []));
    }
  } catch (err) {
    if (isAccessDenied(err)) {
      return {
        identities: [],
        warnings: [
          `AWS denied ${OPERATION} (${errorName(err)}): IAM roles were not scanned; grant it ('dormant permissions') or turn off rules.unused-role`,
        ],
      };
    }
    if (isUnsupportedOperation(err, aws.settings)) {
      return { identities: [], warnings: [`${unsupportedReason(OPERATION, err)}: IAM roles were not scanned`] };
    }
    throw toCloudError(err, OPERATION, aws.settings);
  }
  const identities = details.map((d) => roleFromDetail(d, now)).filter((r): r is Identity => r !== null);
  return { identities, warnings: [] };
}
