/**
 * `--format asff` and what `dormant export securityhub` sends: one AWS Security Finding Format
 * finding (SchemaVersion 2018-10-08) per finding, for a custom Security Hub integration.
 *
 * - Id is `dormant/<provider>/<account>/<finding id>`: stable across scans, so a re-import updates.
 * - GeneratorId is the rule id (DORMANT-…), which is how the export finds its own findings again.
 * - AwsAccountId: Security Hub accepts findings from a custom integration only for the account
 *   that sends them, so the export puts every finding under its own (the hub's) account. Without
 *   a hub (`scan --format asff`) an AWS finding carries its own account and any other provider's
 *   finding the scan's AWS account. The identity's real account is always in the resource and
 *   in ProductFields (`dormant/account`).
 * - Resources: AwsIamUser / AwsIamRole (and AwsIamAccessKey for a key with a real id) for AWS;
 *   `Other` with Details.Other for Entra ID and Google, whose ids Security Hub has no type for.
 * - Limits (AwsSecurityFinding in the Security Hub API reference): Title ≤ 256, Description
 *   ≤ 1024, Recommendation.Text ≤ 512, Types ≤ 50, RelatedRequirements ≤ 32, Resources ≤ 32,
 *   ProductFields and Details.Other ≤ 50 pairs (keys < 128; values ≤ 2048 and < 1024).
 */
import type { AwsSecurityFinding, Resource, SeverityLabel } from '@aws-sdk/client-securityhub';
import { UsageError } from '../errors.js';
import type { ScanResult, Severity } from '../model/finding.js';
import { findingContexts, PRODUCT, truncate, type ContextOptions, type FindingContext } from './interchange.js';

export const ASFF_SCHEMA_VERSION = '2018-10-08';

/** The prefix of every dormant finding id in Security Hub. */
export const ASFF_ID_PREFIX = 'dormant/';

/** Every dormant rule id (the GeneratorId) starts with this. */
export const GENERATOR_PREFIX = 'DORMANT-';

export const LIMITS = {
  title: 256,
  description: 1024,
  recommendation: 512,
  types: 50,
  relatedRequirements: 32,
  resources: 32,
  fieldPairs: 50,
  fieldKey: 127,
  productFieldValue: 2048,
  otherValue: 1023,
  severityOriginal: 64,
} as const;

const LABEL: Record<Severity, SeverityLabel> = { low: 'LOW', medium: 'MEDIUM', high: 'HIGH' };

export interface AsffOptions extends ContextOptions {
  /** The hub's region (ProductArn, and the Region of resources, as IAM is global). Default us-east-1. */
  region?: string;
  /** The AWS partition of the hub. Default aws. */
  partition?: string;
  /** The account whose Security Hub receives the findings; every finding's AwsAccountId. */
  hubAccount?: string;
  /** Default: the account's custom-integration product, `product/<account>/default`. */
  productArn?: string;
}

/** The product ARN of a custom integration: `arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`. */
export function defaultProductArn(partition: string, region: string, account: string): string {
  return `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`;
}

/** The Security Hub id of a dormant finding. */
export function asffId(f: { provider: string; account: string; id: string }): string {
  return `${ASFF_ID_PREFIX}${f.provider}/${f.account}/${f.id}`;
}

const AWS_ACCOUNT = /^\d{12}$/;
const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,}$/;

/** At most LIMITS.fieldPairs pairs, keys and values cut to the limits, nulls left out. */
function fields(pairs: Record<string, string | number | boolean | null | undefined>, valueMax: number) {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pairs)) {
    if (v === null || v === undefined || v === '') continue;
    if (Object.keys(out).length >= LIMITS.fieldPairs) break;
    out[truncate(k, LIMITS.fieldKey)] = truncate(String(v), valueMax);
  }
  return out;
}

function resourcesOf(ctx: FindingContext, partition: string, region: string): Resource[] {
  const { finding: f, identity, credential } = ctx;
  if (f.provider === 'aws') {
    const kind = identity?.kind ?? 'user';
    const arnPartition = /^arn:([^:]+):/.exec(f.identityId)?.[1] ?? partition;
    const common = { Id: f.identityId, Partition: arnPartition as Resource['Partition'], Region: region };
    const resources: Resource[] = [
      kind === 'role'
        ? {
            Type: 'AwsIamRole',
            ...common,
            Details: {
              AwsIamRole: {
                RoleName: f.identityName,
                ...(identity?.createdAt ? { CreateDate: identity.createdAt } : {}),
              },
            },
          }
        : {
            Type: 'AwsIamUser',
            ...common,
            Details: {
              AwsIamUser: {
                UserName: f.identityName,
                ...(identity?.path ? { Path: identity.path } : {}),
                ...(identity?.createdAt ? { CreateDate: identity.createdAt } : {}),
              },
            },
          },
    ];
    // A key named only by its report slot (access_key_1) has no id to be a resource by.
    if (f.credentialId !== null && ACCESS_KEY_ID.test(f.credentialId)) {
      resources.push({
        Type: 'AwsIamAccessKey',
        Id: f.credentialId,
        Partition: common.Partition,
        Region: region,
        Details: {
          AwsIamAccessKey: {
            AccessKeyId: f.credentialId,
            PrincipalName: f.identityName,
            PrincipalType: 'IAMUser',
            AccountId: f.account,
            ...(credential?.status === 'Active' || credential?.status === 'Inactive'
              ? { Status: credential.status }
              : {}),
            ...(credential?.createdAt ? { CreatedAt: credential.createdAt } : {}),
          },
        },
      });
    }
    return resources;
  }
  // Entra ID and Google: Security Hub has no resource type for them.
  const other = (pairs: Record<string, string | number | boolean | null | undefined>): Resource => ({
    Type: 'Other',
    Id: String(pairs['id']),
    Partition: partition as Resource['Partition'],
    Region: region,
    Details: { Other: fields(pairs, LIMITS.otherValue) },
  });
  const resources = [
    other({
      id: f.identityId,
      provider: f.provider,
      account: f.account,
      kind: identity?.kind,
      name: f.identityName,
      displayName: identity?.displayName,
      mail: identity?.mail,
      path: identity?.path,
      createdAt: identity?.createdAt,
      lastSignInAt: identity?.lastSignInAt,
    }),
  ];
  if (f.credentialId !== null && f.credentialHandle === undefined) {
    resources.push(
      other({
        id: f.credentialId,
        provider: f.provider,
        account: f.account,
        kind: credential?.kind ?? 'credential',
        owner: f.identityId,
        status: credential?.status,
        createdAt: credential?.createdAt,
        lastUsedAt: credential?.lastUsedAt,
      }),
    );
  }
  return resources;
}

/** The AWS account of a scan, for findings of other providers when there is no hub account. */
function scanAwsAccount(result: ScanResult): string | undefined {
  return result.providers.find((p) => p.provider === 'aws')?.accounts.find((a) => AWS_ACCOUNT.test(a));
}

/**
 * The ASFF findings of a scan. Throws a UsageError when a finding of another provider has no
 * AWS account to go under (no hub account given and no AWS account scanned).
 */
export function toAsffFindings(result: ScanResult, options: AsffOptions = {}): AwsSecurityFinding[] {
  const region = options.region ?? 'us-east-1';
  const partition = options.partition ?? 'aws';
  const fallback = options.hubAccount ?? scanAwsAccount(result);
  const contexts = findingContexts(result, options);
  const orphans = contexts.filter((c) => c.finding.provider !== 'aws' && fallback === undefined);
  if (orphans.length > 0) {
    const providers = [...new Set(orphans.map((c) => c.finding.provider))].join(', ');
    throw new UsageError(
      `--format asff needs the AWS account whose Security Hub receives the ${providers} findings; scan AWS too (--provider aws,${providers}) or use 'dormant export securityhub', which takes it from the credentials`,
    );
  }
  return contexts.map((ctx) => {
    const f = ctx.finding;
    const account = options.hubAccount ?? (f.provider === 'aws' ? f.account : fallback!);
    const productArn = options.productArn ?? defaultProductArn(partition, region, account);
    const types = [
      'Software and Configuration Checks/Industry and Regulatory Standards',
      ...(f.provider === 'aws' ? ['Software and Configuration Checks/AWS Security Best Practices'] : []),
    ].slice(0, LIMITS.types);
    const severity = { Label: LABEL[f.severity], Original: truncate(f.severity, LIMITS.severityOriginal) };
    const title = `${ctx.rule?.title ?? f.rule}: ${f.identityName}${f.credentialId ? ` (${f.credentialId})` : ''}`;
    const finding: AwsSecurityFinding = {
      SchemaVersion: ASFF_SCHEMA_VERSION,
      Id: asffId(f),
      ProductArn: productArn,
      ProductName: PRODUCT.name,
      CompanyName: PRODUCT.vendor,
      GeneratorId: f.ruleId,
      AwsAccountId: account,
      Types: types,
      CreatedAt: result.generatedAt,
      UpdatedAt: result.generatedAt,
      FirstObservedAt: result.generatedAt,
      LastObservedAt: result.generatedAt,
      Severity: severity,
      Title: truncate(title, LIMITS.title),
      Description: truncate(f.message, LIMITS.description),
      Remediation: { Recommendation: { Text: truncate(ctx.recommendation, LIMITS.recommendation) } },
      ProductFields: fields(
        {
          'dormant/findingId': f.id,
          'dormant/provider': f.provider,
          'dormant/account': f.account,
          'dormant/ruleId': f.ruleId,
          'dormant/rule': f.rule,
          'dormant/identityId': f.identityId,
          'dormant/identityName': f.identityName,
          'dormant/credentialId': f.credentialId,
          'dormant/recommendedAction': f.recommendedAction,
          'dormant/lastActivityAt': f.lastActivityAt,
          'dormant/daysSinceActivity': f.daysSinceActivity,
          'dormant/version': PRODUCT.version,
        },
        LIMITS.productFieldValue,
      ),
      Resources: resourcesOf(ctx, partition, region).slice(0, LIMITS.resources),
      Compliance: { Status: 'FAILED', RelatedRequirements: f.compliance.slice(0, LIMITS.relatedRequirements) },
      // Severity and Types again where a provider may update them after the first import.
      FindingProviderFields: { Severity: severity, Types: types },
      RecordState: 'ACTIVE',
      Workflow: { Status: 'NEW' },
    };
    return finding;
  });
}

/** `--format asff`: a JSON array of ASFF findings (built whole first, so an error comes before any output). */
export function renderAsff(result: ScanResult, options: AsffOptions = {}): string {
  return `${JSON.stringify(toAsffFindings(result, options), null, 2)}\n`;
}
