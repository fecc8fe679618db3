// `--format asff` (DESIGN §10): one AWS Security Finding Format finding per finding, with the
// required attributes and the documented limits (AwsSecurityFinding in the Security Hub API
// reference: Title ≤ 256, Description ≤ 1024, Recommendation.Text ≤ 512, RelatedRequirements
// ≤ 32, Resources 1–32, Details.Other ≤ 50 pairs of key < 128 / value < 1024), stable ids, the
// custom-integration product ARN, AWS resources typed, Entra ID and Google as Other.
import { describe, expect, it } from 'vitest';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { parseConfig } from '../src/config/config.js';
import { scan } from '../src/engine/scan.js';
import { UsageError } from '../src/errors.js';
import type { ScanResult } from '../src/model/finding.js';
import { openDemoEntra } from '../src/providers/entra/entra-memory.js';
import { FileProvider } from '../src/providers/file/file-provider.js';
import { openDemoGoogle } from '../src/providers/google/memory/google-tenant-file.js';
import { LIMITS, renderAsff, toAsffFindings } from '../src/report/asff.js';
import { runCli } from './support/cli.js';

const EXAMPLES = new URL('../examples/', import.meta.url);
const REPORT = new URL('credential-report.csv', EXAMPLES).pathname;
const AS_OF = '2026-11-22T12:00:00Z';
const ACCOUNT = '123456789012';
const PRODUCT_ARN = `arn:aws:securityhub:us-east-1:${ACCOUNT}:product/${ACCOUNT}/default`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

async function scanWith(providers: ('aws' | 'entra' | 'google')[]): Promise<ScanResult> {
  const config = parseConfig({});
  const scanners = [];
  if (providers.includes('aws')) scanners.push(new FileProvider(REPORT));
  if (providers.includes('entra'))
    scanners.push((await openDemoEntra(new URL('entra/tenant.json', EXAMPLES).pathname, { config })).scanner);
  if (providers.includes('google'))
    scanners.push(openDemoGoogle(new URL('google/tenant.json', EXAMPLES).pathname, { config }).scanner);
  return scan(scanners, { config, now: new Date(AS_OF) });
}

/** The attributes Security Hub requires of every finding, and the limits it enforces. */
function expectImportable(f: AwsSecurityFinding): void {
  expect(f.SchemaVersion).toBe('2018-10-08');
  expect(f.Id!.length).toBeLessThanOrEqual(512);
  expect(f.ProductArn).toMatch(/^arn:aws:securityhub:[a-z0-9-]+:\d{12}:product\/\d{12}\/default$/);
  expect(f.GeneratorId).toMatch(/^DORMANT-[A-Z]+-\d{3}$/);
  expect(f.AwsAccountId).toMatch(/^\d{12}$/);
  expect(f.Types!.length).toBeGreaterThan(0);
  expect(f.Types!.length).toBeLessThanOrEqual(LIMITS.types);
  for (const t of f.Types!)
    expect(t).toMatch(
      /^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)\//,
    );
  expect(f.CreatedAt).toMatch(ISO);
  expect(f.UpdatedAt).toMatch(ISO);
  expect(['LOW', 'MEDIUM', 'HIGH']).toContain(f.Severity!.Label);
  expect(f.Title!.length).toBeGreaterThan(0);
  expect(f.Title!.length).toBeLessThanOrEqual(256);
  expect(f.Description!.length).toBeGreaterThan(0);
  expect(f.Description!.length).toBeLessThanOrEqual(1024);
  expect(f.Remediation!.Recommendation!.Text!.length).toBeLessThanOrEqual(512);
  expect(f.Resources!.length).toBeGreaterThanOrEqual(1);
  expect(f.Resources!.length).toBeLessThanOrEqual(32);
  for (const r of f.Resources!) {
    expect(r.Type!.length).toBeLessThanOrEqual(256);
    expect(r.Id!.length).toBeGreaterThan(0);
    expect(r.Partition).toBe('aws');
    expect(r.Region!.length).toBeLessThanOrEqual(16);
    const other = r.Details?.Other;
    if (other) {
      expect(Object.keys(other).length).toBeLessThanOrEqual(50);
      for (const [k, v] of Object.entries(other)) {
        expect(k.length).toBeLessThan(128);
        expect(v.length).toBeLessThan(1024);
      }
    }
  }
  expect(f.Compliance!.Status).toBe('FAILED');
  expect(f.Compliance!.RelatedRequirements!.length).toBeLessThanOrEqual(32);
  for (const [k, v] of Object.entries(f.ProductFields ?? {})) {
    expect(k.length).toBeLessThan(128);
    expect(v.length).toBeLessThanOrEqual(2048);
  }
  expect(f.RecordState).toBe('ACTIVE');
  expect(f.Workflow).toEqual({ Status: 'NEW' });
}

describe('ASFF findings', () => {
  it('carry the finding: stable id, rule as generator, severity, IAM user resource, compliance, remediation', async () => {
    const result = await scanWith(['aws']);
    const asff = toAsffFindings(result);
    expect(asff).toHaveLength(result.findings.length);
    result.findings.forEach((f, i) => {
      const a = asff[i]!;
      expectImportable(a);
      expect(a).toMatchObject({
        Id: `dormant/aws/${ACCOUNT}/${f.id}`,
        ProductArn: PRODUCT_ARN,
        GeneratorId: f.ruleId,
        AwsAccountId: ACCOUNT,
        CreatedAt: AS_OF,
        UpdatedAt: AS_OF,
        Severity: { Label: f.severity.toUpperCase(), Original: f.severity },
        Description: f.message,
        Compliance: { Status: 'FAILED', RelatedRequirements: f.compliance },
        ProductFields: { 'dormant/findingId': f.id, 'dormant/provider': 'aws', 'dormant/account': ACCOUNT },
      });
      expect(a.Resources![0]).toMatchObject({
        Type: 'AwsIamUser',
        Id: f.identityId,
        Partition: 'aws',
        Region: 'us-east-1',
        Details: { AwsIamUser: { UserName: f.identityName } },
      });
      // Keys named only by their report slot are no resource of their own.
      expect(a.Resources).toHaveLength(1);
      expect(a.Types).toContain('Software and Configuration Checks/AWS Security Best Practices');
    });
    const greg = asff.find((a) => a.Title === 'User with no activity inside the window: greg.jenkins')!;
    expect(greg.Remediation!.Recommendation!.Text).toBe(
      'Disable user greg.jenkins: deactivate its access keys and remove its console password (inactive 500 days)',
    );
  });

  it('keep each Id across scans', async () => {
    const first = toAsffFindings(await scanWith(['aws']));
    const config = parseConfig({});
    const later = toAsffFindings(
      await scan(new FileProvider(REPORT), { config, now: new Date('2026-11-23T12:00:00Z') }),
    );
    const ids = new Set(first.map((f) => f.Id));
    expect(later.filter((f) => ids.has(f.Id)).length).toBeGreaterThan(first.length / 2);
    expect(new Set(first.map((f) => f.Id)).size).toBe(first.length);
  });

  it('cut what is too long to the documented limits', async () => {
    const result = await scanWith(['aws']);
    const f = result.findings[0]!;
    result.findings = [
      {
        ...f,
        message: 'x'.repeat(3000),
        identityName: 'n'.repeat(300),
        compliance: Array.from({ length: 40 }, (_, i) => `REF ${i}`),
      },
    ];
    const [a] = toAsffFindings(result);
    expect(a!.Description).toHaveLength(1024);
    expect(a!.Description!.endsWith('…')).toBe(true);
    expect(a!.Title).toHaveLength(256);
    expect(a!.Compliance!.RelatedRequirements).toHaveLength(32);
    expect(a!.Remediation!.Recommendation!.Text!.length).toBeLessThanOrEqual(512);
    expect(a!.ProductFields!['dormant/identityName']).toHaveLength(300);
  });

  it('put Entra ID and Google findings under the AWS account as Other resources with the provider ids', async () => {
    const result = await scanWith(['aws', 'entra', 'google']);
    const asff = toAsffFindings(result);
    for (const a of asff) expectImportable(a);
    const others = asff.filter((a) => a.ProductFields!['dormant/provider'] !== 'aws');
    expect(others.length).toBeGreaterThan(5);
    for (const a of others) {
      expect(a.AwsAccountId).toBe(ACCOUNT);
      expect(a.Types).toEqual(['Software and Configuration Checks/Industry and Regulatory Standards']);
      expect(a.Resources![0]).toMatchObject({
        Type: 'Other',
        Id: a.ProductFields!['dormant/identityId'],
        Details: {
          Other: {
            provider: a.ProductFields!['dormant/provider'],
            account: a.ProductFields!['dormant/account'],
            name: a.ProductFields!['dormant/identityName'],
          },
        },
      });
    }
    const key = others.find((a) => a.GeneratorId === 'DORMANT-GCP-001' && a.Title!.includes('ci-deployer'))!;
    expect(key.Id).toMatch(/^dormant\/google\/acme-prod\/[0-9a-f]{16}$/);
    expect(key.Resources!.map((r) => [r.Type, r.Id])).toEqual([
      ['Other', '104000000000000000001'],
      ['Other', '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432'],
    ]);
    expect(key.Resources![1]!.Details!.Other).toMatchObject({ kind: 'key', owner: '104000000000000000001' });

    // With a hub account (the export), every finding goes under it.
    const hub = toAsffFindings(result, { hubAccount: '210987654321', region: 'eu-west-1' });
    expect(new Set(hub.map((a) => a.AwsAccountId))).toEqual(new Set(['210987654321']));
    expect(new Set(hub.map((a) => a.ProductArn))).toEqual(
      new Set(['arn:aws:securityhub:eu-west-1:210987654321:product/210987654321/default']),
    );
    // …while the IAM user's own account stays in its ARN and in ProductFields.
    const aws = hub.find((a) => a.GeneratorId === 'DORMANT-AWS-001')!;
    expect(aws.Resources![0]!.Id).toMatch(/^arn:aws:iam::123456789012:user\//);
    expect(aws.ProductFields!['dormant/account']).toBe(ACCOUNT);
  });

  it('refuse, in one line, findings of other providers with no AWS account to go under', async () => {
    const result = await scanWith(['entra']);
    expect(() => renderAsff(result)).toThrow(UsageError);
    expect(() => renderAsff(result)).toThrow(/needs the AWS account whose Security Hub receives the entra findings/);
    expect(renderAsff(result, { hubAccount: ACCOUNT })).toMatch(/^\[\n/);
  });
});

describe('dormant scan --format asff (built CLI)', () => {
  it('prints the ASFF findings of the report, the finding ids in their Ids', async () => {
    const args = ['scan', '--from-report', 'examples/credential-report.csv', '--as-of', AS_OF];
    const cwd = new URL('..', import.meta.url).pathname;
    const [json, asff] = await Promise.all([
      runCli([...args, '--format', 'json'], { cwd }),
      runCli([...args, '--format', 'asff'], { cwd }),
    ]);
    expect(asff.code, asff.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as ScanResult;
    const findings = JSON.parse(asff.stdout) as AwsSecurityFinding[];
    expect(findings.map((f) => f.Id)).toEqual(doc.findings.map((f) => `dormant/aws/${ACCOUNT}/${f.id}`));
    for (const f of findings) expectImportable(f);
  });
});
