/**
 * AWS Security Hub for `dormant export securityhub`: a client built with the same settings as
 * the IAM and STS ones (aws-client.ts), BatchImportFindings 100 findings a call with retries of
 * the findings it refuses, and the dormant findings exported before that no longer hold
 * re-imported with RecordState ARCHIVED (a finding provider archives its own findings that way;
 * BatchUpdateFindings is for the customer's workflow fields and cannot change RecordState).
 */
import {
  BatchImportFindingsCommand,
  paginateGetFindings,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CloudError } from '../../errors.js';
import { ASFF_ID_PREFIX, GENERATOR_PREFIX } from '../../report/asff.js';
import { type AwsSettings, sleep } from './aws-client.js';
import { errorName, toCloudError } from './aws-errors.js';

/** BatchImportFindings takes at most 100 findings a call. */
export const BATCH_SIZE = 100;

/** The same endpoint, credentials and retry settings as the IAM and STS clients, in the hub's region. */
export function createSecurityHubClient(settings: AwsSettings, region: string): SecurityHubClient {
  return new SecurityHubClient({
    region,
    maxAttempts: settings.maxAttempts,
    retryMode: settings.retryMode,
    ...(settings.profile ? { profile: settings.profile } : {}),
    ...(settings.endpointUrl ? { endpoint: settings.endpointUrl } : {}),
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000 }),
  });
}

/** A finding Security Hub would not take, after the retries. */
export interface RefusedFinding {
  id: string;
  code: string;
  message: string;
}

export interface ExportOptions {
  productArn: string;
  /** The hub's region and settings, for error messages. */
  region: string;
  settings?: AwsSettings;
  /**
   * The (provider, account) pairs this scan read whole: a finding exported earlier is archived
   * only when its account was scanned and the finding is gone. Accounts that were not scanned,
   * or could not be read, keep their findings as they are.
   */
  scope: readonly { provider: string; account: string }[];
  /**
   * Identities this scan saw without being able to judge (some of their data unknown: a refused
   * Policy Analyzer query, a missing last login). Their earlier findings stay ACTIVE: no verdict
   * is not a pass.
   */
  unjudged?: ReadonlySet<string>;
  /** The export time: UpdatedAt of everything sent. */
  now: Date;
  /** More attempts for findings Security Hub refuses (FailedFindings). Default 3. */
  retries?: number;
  /** The wait before the first retry, doubled for each next one. Default 500 ms. */
  retryDelayMs?: number;
}

export interface ExportReport {
  /** Current findings Security Hub took. */
  imported: number;
  /** Earlier findings that no longer hold, now ARCHIVED. */
  archived: number;
  failed: RefusedFinding[];
}

function hubError(err: unknown, operation: string, options: ExportOptions): CloudError {
  if (errorName(err) === 'InvalidAccessException') {
    return new CloudError(
      `Security Hub refused ${operation} in ${options.region} (InvalidAccessException): enable Security Hub in this account and region ('aws securityhub enable-security-hub --region ${options.region}'), or pass --region where it is enabled`,
      'InvalidAccess',
      { cause: err },
    );
  }
  return toCloudError(err, operation, options.settings);
}

function field(f: AwsSecurityFinding, key: string): string | undefined {
  return f.ProductFields?.[key];
}

/** Security Hub filters by these already; they are checked again here (emulators ignore filters). */
function isOurActive(f: AwsSecurityFinding, productArn: string): boolean {
  return (
    f.ProductArn === productArn &&
    (f.GeneratorId ?? '').startsWith(GENERATOR_PREFIX) &&
    (f.Id ?? '').startsWith(ASFF_ID_PREFIX) &&
    (f.RecordState ?? 'ACTIVE') === 'ACTIVE'
  );
}

/** The dormant findings of this product that are still ACTIVE in Security Hub (every page). */
export async function readActiveFindings(
  client: SecurityHubClient,
  options: ExportOptions,
): Promise<AwsSecurityFinding[]> {
  const out: AwsSecurityFinding[] = [];
  try {
    const pages = paginateGetFindings(
      { client, pageSize: 100 },
      {
        Filters: {
          ProductArn: [{ Value: options.productArn, Comparison: 'EQUALS' }],
          GeneratorId: [{ Value: GENERATOR_PREFIX, Comparison: 'PREFIX' }],
          RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
        },
      },
    );
    for await (const page of pages) {
      for (const f of page.Findings ?? []) if (isOurActive(f, options.productArn)) out.push(f);
    }
  } catch (err) {
    throw hubError(err, 'securityhub:GetFindings', options);
  }
  return out;
}

/** An earlier finding, to re-import as ARCHIVED: the fields an import needs, and no more. */
export function archivedCopy(f: AwsSecurityFinding, now: Date): AwsSecurityFinding {
  const productFields = Object.fromEntries(
    // Security Hub adds its own aws/securityhub/* fields; they are not ours to send back.
    Object.entries(f.ProductFields ?? {}).filter(([k]) => !k.startsWith('aws/')),
  );
  return {
    SchemaVersion: f.SchemaVersion,
    Id: f.Id,
    ProductArn: f.ProductArn,
    GeneratorId: f.GeneratorId,
    AwsAccountId: f.AwsAccountId,
    Types: f.Types,
    CreatedAt: f.CreatedAt,
    UpdatedAt: now.toISOString(),
    ...(f.FirstObservedAt ? { FirstObservedAt: f.FirstObservedAt } : {}),
    ...(f.LastObservedAt ? { LastObservedAt: f.LastObservedAt } : {}),
    Severity: f.Severity,
    Title: f.Title,
    Description: f.Description,
    ...(f.ProductName ? { ProductName: f.ProductName } : {}),
    ...(f.CompanyName ? { CompanyName: f.CompanyName } : {}),
    ...(f.Remediation ? { Remediation: f.Remediation } : {}),
    ProductFields: productFields,
    Resources: f.Resources,
    // The identity is no longer dormant (active again, exempt, or gone): the check passes.
    Compliance: { ...f.Compliance, Status: 'PASSED' },
    RecordState: 'ARCHIVED',
  };
}

/** Imports findings 100 a call; the ones Security Hub refuses are sent again, with backoff. */
export async function importFindings(
  client: SecurityHubClient,
  findings: readonly AwsSecurityFinding[],
  options: ExportOptions,
): Promise<{ taken: Set<string>; failed: RefusedFinding[] }> {
  const retries = options.retries ?? 3;
  const delay = options.retryDelayMs ?? 500;
  const taken = new Set<string>();
  const failed: RefusedFinding[] = [];
  for (let start = 0; start < findings.length; start += BATCH_SIZE) {
    let pending = findings.slice(start, start + BATCH_SIZE);
    for (let attempt = 0; pending.length > 0; attempt++) {
      let out;
      try {
        out = await client.send(new BatchImportFindingsCommand({ Findings: pending }));
      } catch (err) {
        throw hubError(err, 'securityhub:BatchImportFindings', options);
      }
      const refused = new Map((out.FailedFindings ?? []).map((f) => [f.Id ?? '', f]));
      for (const f of pending) if (!refused.has(f.Id ?? '')) taken.add(f.Id ?? '');
      const unnamed =
        (out.FailedCount ?? 0) - [...refused.keys()].filter((id) => pending.some((f) => f.Id === id)).length;
      if (unnamed > 0) {
        // Refused without saying which: nothing to retry by id, so say how many.
        failed.push({ id: `(${unnamed} unnamed)`, code: 'Unknown', message: 'FailedCount without FailedFindings' });
      }
      pending = pending.filter((f) => refused.has(f.Id ?? ''));
      if (pending.length === 0) break;
      if (attempt >= retries) {
        for (const f of pending) {
          const why = refused.get(f.Id ?? '');
          failed.push({ id: f.Id ?? '', code: why?.ErrorCode ?? 'Unknown', message: why?.ErrorMessage ?? '' });
        }
        break;
      }
      await sleep(delay * 2 ** attempt);
    }
  }
  return { taken, failed };
}

/**
 * Sends the current findings and archives the earlier ones that no longer hold. A finding that
 * was exported before keeps its CreatedAt and FirstObservedAt; everything sent has UpdatedAt now.
 */
export async function exportFindings(
  client: SecurityHubClient,
  current: readonly AwsSecurityFinding[],
  options: ExportOptions,
): Promise<ExportReport> {
  const previous = await readActiveFindings(client, options);
  const before = new Map(previous.map((f) => [f.Id ?? '', f]));
  const now = options.now.toISOString();
  const sent = current.map((f): AwsSecurityFinding => {
    const earlier = before.get(f.Id ?? '');
    const createdAt = earlier?.CreatedAt ?? f.CreatedAt ?? now;
    return {
      ...f,
      // Never after UpdatedAt (an --as-of in the future).
      CreatedAt: Date.parse(createdAt) > options.now.getTime() ? now : createdAt,
      FirstObservedAt: earlier?.FirstObservedAt ?? earlier?.CreatedAt ?? f.FirstObservedAt,
      UpdatedAt: now,
    };
  });
  const currentIds = new Set(current.map((f) => f.Id));
  const scope = new Set(options.scope.map((s) => `${s.provider}\n${s.account}`));
  const stale = previous.filter(
    (f) =>
      !currentIds.has(f.Id) &&
      scope.has(`${field(f, 'dormant/provider') ?? ''}\n${field(f, 'dormant/account') ?? ''}`) &&
      !options.unjudged?.has(`${field(f, 'dormant/provider') ?? ''}\n${field(f, 'dormant/identityId') ?? ''}`),
  );
  const archived = stale.map((f) => archivedCopy(f, options.now));
  const { taken, failed } = await importFindings(client, [...sent, ...archived], options);
  return {
    imported: sent.filter((f) => taken.has(f.Id ?? '')).length,
    archived: archived.filter((f) => taken.has(f.Id ?? '')).length,
    failed,
  };
}
