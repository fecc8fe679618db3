// `--format ocsf` / `ocsf-jsonl` (DESIGN §10): every emitted object is an OCSF 1.9.0 Detection
// Finding by the definition files in test/fixtures/ocsf/1.9.0 (extracts of the published schema,
// checked by test/support/ocsf.ts), for AWS, Entra ID and Google findings alike; the finding's
// rule, severity, identity (resource and user), evidence and remediation are where a SIEM looks
// for them; finding_info.uid is the finding's stable id across scans; the built CLI prints both.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { scan } from '../src/engine/scan.js';
import type { ScanResult } from '../src/model/finding.js';
import { openDemoEntra } from '../src/providers/entra/entra-memory.js';
import { FileProvider } from '../src/providers/file/file-provider.js';
import { openDemoGoogle } from '../src/providers/google/memory/google-tenant-file.js';
import { PRODUCT } from '../src/report/interchange.js';
import { OCSF_VERSION, renderOcsfChunks, renderOcsfJsonlChunks, toOcsfFindings } from '../src/report/ocsf.js';
import { runCli } from './support/cli.js';
import { loadOcsfDefinitions, validateOcsf } from './support/ocsf.js';

const EXAMPLES = new URL('../examples/', import.meta.url);
const REPORT = new URL('credential-report.csv', EXAMPLES).pathname;
const AS_OF = '2026-11-22T12:00:00Z';
const DEFS = loadOcsfDefinitions('1.9.0');

const scans = new Map<string, Promise<ScanResult>>();

/** The shipped AWS report, Entra tenant and Google tenant, scanned in-process as of `asOf` (once). */
function scanExamples(asOf = AS_OF): Promise<ScanResult> {
  let result = scans.get(asOf);
  if (!result) scans.set(asOf, (result = scanOnce(asOf)));
  return result;
}

async function scanOnce(asOf: string): Promise<ScanResult> {
  const config = parseConfig({});
  const entra = await openDemoEntra(new URL('entra/tenant.json', EXAMPLES).pathname, { config });
  const google = openDemoGoogle(new URL('google/tenant.json', EXAMPLES).pathname, { config });
  return scan([new FileProvider(REPORT), entra.scanner, google.scanner], {
    config: google.config,
    now: new Date(asOf),
  });
}

function expectValid(objects: unknown[]): void {
  const problems = objects.flatMap((o, i) => validateOcsf(o, 'detection_finding', DEFS).map((p) => `#${i} ${p}`));
  expect(problems).toEqual([]);
}

describe('OCSF Detection Findings', () => {
  it('are valid OCSF 1.9.0 Detection Findings for every provider, one per finding', async () => {
    const result = await scanExamples();
    expect(new Set(result.findings.map((f) => f.provider))).toEqual(new Set(['aws', 'entra', 'google']));
    const objects = JSON.parse([...renderOcsfChunks(result)].join('')) as unknown[];
    expect(objects).toHaveLength(result.findings.length);
    expectValid(objects);
    expect(OCSF_VERSION).toBe('1.9.0');
  });

  it('carry the rule, severity, identity, evidence, remediation and compliance of the finding', async () => {
    const result = await scanExamples();
    const objects = toOcsfFindings(result);
    const severityIds = { low: 2, medium: 3, high: 4 } as const;
    result.findings.forEach((f, i) => {
      const o = objects[i]!;
      expect(o).toMatchObject({
        class_uid: 2004,
        category_uid: 2,
        activity_id: 1,
        type_uid: 200401,
        severity_id: severityIds[f.severity],
        status_id: 1,
        time: Date.parse(result.generatedAt),
        message: f.message,
        metadata: { version: '1.9.0', product: { name: 'dormant', vendor_name: 'dormant', version: PRODUCT.version } },
        finding_info: {
          uid: f.id,
          desc: f.message,
          analytic: { uid: f.ruleId, name: f.rule, type_id: 1, type: 'Rule' },
          created_time: Date.parse(result.generatedAt),
          modified_time: Date.parse(result.generatedAt),
        },
        cloud: { account: { uid: f.account } },
        evidences: [{ user: { uid: f.identityId, name: f.identityName, account: { uid: f.account } } }],
      });
      expect(o.resources[0]).toMatchObject({ uid: f.identityId, name: f.identityName });
      expect(o.finding_info.tags).toEqual([{ name: 'compliance', values: f.compliance }]);
      expect(o.remediation.desc.length).toBeGreaterThan(10);
    });

    const byUid = new Map(objects.map((o) => [o.finding_info.uid, o]));
    const find = (rule: string, name: string) => {
      const f = result.findings.find((x) => x.ruleId === rule && x.identityName === name);
      if (!f) throw new Error(`no finding ${rule} ${name}`);
      return byUid.get(f.id)!;
    };
    // AWS: the IAM user is the resource, and the plan's sentence is the remediation.
    const greg = find('DORMANT-AWS-001', 'greg.jenkins');
    expect(greg).toMatchObject({
      severity: 'Medium',
      cloud: { provider: 'AWS', account: { uid: '123456789012', type_id: 10, type: 'AWS Account' } },
      resources: [{ type: 'AwsIamUser', cloud_partition: 'aws', uid: 'arn:aws:iam::123456789012:user/greg.jenkins' }],
      evidences: [
        {
          user: { type_id: 1, type: 'User' },
          data: { daysSinceActivity: 500, lastActivityAt: '2025-07-10T11:13:23Z' },
        },
      ],
      remediation: {
        desc: 'Disable user greg.jenkins: deactivate its access keys and remove its console password (inactive 500 days)',
      },
    });
    expect(greg.finding_info.title).toBe('User with no activity inside the window');
    // A rotation reminder is low.
    expect(find('DORMANT-AWS-005', 'sofia.garcia')).toMatchObject({ severity_id: 2, severity: 'Low' });
    // Entra: the tenant is the account, a guest is a user of type Other.
    expect(find('DORMANT-ENTRA-002', 'gina.lopez_fabrikam.com#EXT#@contoso.onmicrosoft.com')).toMatchObject({
      cloud: { provider: 'Azure', account: { type_id: 17, type: 'M365 Tenant' } },
      evidences: [{ user: { type_id: 99, type: 'Guest', email_addr: 'gina.lopez@fabrikam.com', status_id: 1 } }],
    });
    // Google: a service account key is a second resource; its project the account.
    const key = find('DORMANT-GCP-001', 'ci-deployer@acme-prod.iam.gserviceaccount.com');
    expect(key).toMatchObject({
      cloud: { provider: 'GCP', account: { uid: 'acme-prod', type_id: 11, type: 'GCP Project' } },
      evidences: [
        {
          user: { type_id: 4, type: 'Service' },
          data: { credential: { kind: 'key', id: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432' } },
        },
      ],
    });
    expect(key.resources.map((r) => r.type)).toEqual([
      'Google Cloud service account',
      'Google Cloud service account key',
    ]);
    expect(key.resources[1]!.uid).toBe('9f8e7d6c5b4a39281706f5e4d3c2b1a098765432');
    expect(find('DORMANT-GWS-001', 'ben.ortiz@example.com').cloud).toEqual({
      provider: 'Google Workspace',
      account: { uid: 'C03az79cb', type_id: 15, type: 'Google Workspace' },
    });
  });

  it('keep finding_info.uid across scans: the same finding is the same uid a day later', async () => {
    const first = toOcsfFindings(await scanExamples(AS_OF));
    const second = toOcsfFindings(await scanExamples('2026-11-23T12:00:00Z'));
    const key = (o: (typeof first)[number]) => {
      const credential = o.evidences[0]!.data['credential'] as { id?: string | null; handle?: string } | undefined;
      return `${o.finding_info.analytic.uid} ${o.resources[0]!.uid} ${credential?.id ?? credential?.handle ?? ''}`;
    };
    const uids = new Map(first.map((o) => [key(o), o.finding_info.uid]));
    let same = 0;
    for (const o of second) {
      const before = uids.get(key(o));
      if (before !== undefined) {
        expect(o.finding_info.uid).toBe(before);
        expect(o.time).toBe(Date.parse('2026-11-23T12:00:00Z'));
        same++;
      }
    }
    expect(same).toBeGreaterThan(first.length / 2);
    // …and it is the finding id of the JSON document, which is a hash of rule + identity + credential.
    expect(new Set(first.map((o) => o.finding_info.uid)).size).toBe(first.length);
  });

  it('jsonl is the same objects, one per line', async () => {
    const result = await scanExamples();
    const lines = [...renderOcsfJsonlChunks(result)].join('').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(JSON.parse([...renderOcsfChunks(result)].join('')));
  });

  it('name the version of package.json as the product version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(PRODUCT.version).toBe(pkg.version);
  });
});

describe('the validator (so a pass means something)', () => {
  const good = async () => toOcsfFindings(await scanExamples())[0] as unknown as Record<string, unknown>;
  const problems = (o: unknown) => validateOcsf(o, 'detection_finding', DEFS);

  it('rejects an unknown top-level attribute, and one deeper down', async () => {
    expect(problems({ ...(await good()), compliance: { status: 'Fail' } })).toEqual([
      'detection_finding.compliance: not an attribute of detection_finding',
    ]);
    const o = await good();
    expect(problems({ ...o, metadata: { ...(o['metadata'] as object), vendor: 'x' } })).toEqual([
      'detection_finding.metadata.vendor: not an attribute of metadata',
    ]);
  });

  it('rejects a missing required attribute, a wrong enum id or sibling, a wrong type and a wrong type_uid', async () => {
    const o = await good();
    expect(problems({ ...o, finding_info: undefined })).toContain(
      'detection_finding.finding_info: required by detection_finding',
    );
    expect(problems({ ...o, cloud: undefined })).toContain(
      'detection_finding.cloud: required by detection_finding (cloud profile)',
    );
    expect(problems({ ...o, severity_id: 7 })[0]).toMatch(/^detection_finding\.severity_id: 7 is not one of/);
    expect(problems({ ...o, severity: 'Low' })).toEqual([
      'detection_finding.severity: should be \'Medium\' (the caption of severity_id 3), got "Low"',
    ]);
    expect(problems({ ...o, time: '2026-11-22T12:00:00Z' })[0]).toMatch(
      /^detection_finding\.time: expected an integer/,
    );
    expect(problems({ ...o, class_uid: 2003 })).toContain('detection_finding.class_uid: 2003 is not one of 2004');
    expect(problems({ ...o, type_uid: 200402 })).toEqual([
      'detection_finding.type_uid: should be class_uid * 100 + activity_id = 200401, got 200402',
    ]);
    expect(problems({ ...o, evidences: [{ name: 'nothing' }] })).toEqual([
      'detection_finding.evidences[0]: evidences needs at least one of actor, api, connection_info, data, database, databucket, device, dst_endpoint, email, file, process, query, resources, src_endpoint, url, user, job, script',
    ]);
  });
});

describe('dormant scan --format ocsf / ocsf-jsonl (built CLI)', () => {
  const args = ['scan', '--from-report', 'examples/credential-report.csv', '--as-of', AS_OF];
  const cwd = new URL('..', import.meta.url).pathname;

  it('prints a JSON array of valid Detection Findings, one per finding of the JSON document', async () => {
    const json = await runCli([...args, '--format', 'json'], { cwd });
    const ocsf = await runCli([...args, '--format', 'ocsf'], { cwd });
    expect(ocsf.code, ocsf.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as ScanResult;
    const objects = JSON.parse(ocsf.stdout) as { finding_info: { uid: string } }[];
    expect(objects.map((o) => o.finding_info.uid)).toEqual(doc.findings.map((f) => f.id));
    expectValid(objects);
  });

  it('prints one Detection Finding per line with ocsf-jsonl, the same as the array', async () => {
    const [ocsf, jsonl] = await Promise.all([
      runCli([...args, '--format', 'ocsf'], { cwd }),
      runCli([...args, '--format', 'ocsf-jsonl'], { cwd }),
    ]);
    expect(jsonl.code, jsonl.stderr).toBe(0);
    const lines = jsonl.stdout.trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as unknown);
    expect(parsed).toEqual(JSON.parse(ocsf.stdout));
    expectValid(parsed);
  });
});
