// `dormant export securityhub` on moto (DESIGN §10): the findings go into Security Hub with
// BatchImportFindings and read back with GetFindings with the same ids, severity, resources and
// compliance; a second export after a user became active archives that user's findings (and
// leaves alone what the scan did not cover); a finding Security Hub refuses is retried, then
// named in one line (exit 3) while the others are kept.
import http from 'node:http';
import {
  BatchImportFindingsCommand,
  paginateGetFindings,
  SecurityHubClient,
  type AwsSecurityFinding,
} from '@aws-sdk/client-securityhub';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.js';
import { scan } from '../src/engine/scan.js';
import { exportFindings, importFindings } from '../src/providers/aws/aws-securityhub.js';
import { FileProvider } from '../src/providers/file/file-provider.js';
import { toAsffFindings } from '../src/report/asff.js';
import { forwardRequest, listenLocal, readBody, relay, type LocalServer } from './support/http.js';
import { awsTestEnv, MOTO_ACCOUNT_ID, useMoto } from './support/moto.js';
import { agoFrom, parseReport, runCli, wholeSecondNow, type CliResult } from './scan-helpers.js';

const { moto } = useMoto();
const PRODUCT_ARN = `arn:aws:securityhub:us-east-1:${MOTO_ACCOUNT_ID}:product/${MOTO_ACCOUNT_ID}/default`;
const SUMMARY = /^imported (\d+), archived (\d+), failed (\d+) \(Security Hub (\S+)\)\n$/;

function hubClient(endpoint: string): SecurityHubClient {
  const env = awsTestEnv(endpoint);
  return new SecurityHubClient({
    endpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

async function allFindings(client: SecurityHubClient): Promise<Map<string, AwsSecurityFinding>> {
  const out = new Map<string, AwsSecurityFinding>();
  for await (const page of paginateGetFindings({ client, pageSize: 100 }, {})) {
    for (const f of page.Findings ?? []) out.set(f.Id!, f);
  }
  return out;
}

function summary(run: CliResult): { imported: number; archived: number; failed: number; productArn: string } {
  const m = SUMMARY.exec(run.stdout);
  if (!m) throw new Error(`no summary line in:\n${run.stdout}\n${run.stderr}`);
  return { imported: Number(m[1]), archived: Number(m[2]), failed: Number(m[3]), productArn: m[4]! };
}

let base: number;

/** Four users: one active, two inactive (one with an old key), one too new to judge. */
async function seedUsers(): Promise<Map<string, string[]>> {
  base = wholeSecondNow();
  const seeded = await moto.seed({
    users: [
      { name: 'active-alice', createDate: agoFrom(base, 400), password: true, passwordLastUsed: agoFrom(base, 1) },
      { name: 'idle-bob', createDate: agoFrom(base, 400), password: true, passwordLastUsed: agoFrom(base, 200) },
      {
        name: 'idle-carol',
        createDate: agoFrom(base, 300),
        keys: [{ createDate: agoFrom(base, 300), lastUsed: agoFrom(base, 150) }],
      },
      { name: 'new-dave', createDate: agoFrom(base, 10) },
    ],
  });
  return new Map(seeded.users.map((u) => [u.name, u.keys]));
}

const EXPORT = ['export', 'securityhub', '--source', 'api'];

beforeEach(() => moto.reset());

describe('dormant export securityhub on moto', () => {
  it('imports every finding; GetFindings reads back the same ids, severity, resources and compliance', async () => {
    const keys = await seedUsers();
    const [run, json] = await Promise.all([
      runCli(EXPORT, { endpoint: moto.endpoint }),
      runCli(['scan', '--source', 'api', '--format', 'json'], { endpoint: moto.endpoint }),
    ]);
    expect(run.status, run.stderr).toBe(0);
    const doc = parseReport(json);
    expect(summary(run)).toEqual({ imported: doc.findings.length, archived: 0, failed: 0, productArn: PRODUCT_ARN });
    expect(new Set(doc.findings.map((f) => f.identityName))).toEqual(new Set(['idle-bob', 'idle-carol']));

    const client = hubClient(moto.endpoint);
    try {
      const stored = await allFindings(client);
      expect([...stored.keys()].sort()).toEqual(
        doc.findings.map((f) => `dormant/aws/${MOTO_ACCOUNT_ID}/${f.id}`).sort(),
      );
      for (const f of doc.findings) {
        const s = stored.get(`dormant/aws/${MOTO_ACCOUNT_ID}/${f.id}`)!;
        expect(s).toMatchObject({
          SchemaVersion: '2018-10-08',
          ProductArn: PRODUCT_ARN,
          GeneratorId: f.ruleId,
          AwsAccountId: MOTO_ACCOUNT_ID,
          Severity: { Label: f.severity.toUpperCase() },
          Description: f.message,
          Compliance: { Status: 'FAILED', RelatedRequirements: f.compliance },
          RecordState: 'ACTIVE',
          Workflow: { Status: 'NEW' },
        });
        expect(s.Resources![0]).toMatchObject({
          Type: 'AwsIamUser',
          Id: f.identityId,
          Partition: 'aws',
          Region: 'us-east-1',
          Details: { AwsIamUser: { UserName: f.identityName } },
        });
      }
      // The API source names keys by id: the key is a resource of its own.
      const carolKey = keys.get('idle-carol')![0]!;
      const keyFinding = doc.findings.find((f) => f.ruleId === 'DORMANT-AWS-002')!;
      expect(keyFinding.credentialId).toBe(carolKey);
      expect(stored.get(`dormant/aws/${MOTO_ACCOUNT_ID}/${keyFinding.id}`)!.Resources![1]).toMatchObject({
        Type: 'AwsIamAccessKey',
        Id: carolKey,
        Details: { AwsIamAccessKey: { AccessKeyId: carolKey, PrincipalName: 'idle-carol', Status: 'Active' } },
      });
    } finally {
      client.destroy();
    }
  });

  it('archives, on the next export, the findings of a user who became active, and keeps the rest', async () => {
    await seedUsers();
    const client = hubClient(moto.endpoint);
    try {
      // A dormant finding of an account this scan does not cover: not ours to archive.
      const foreign: AwsSecurityFinding = {
        SchemaVersion: '2018-10-08',
        Id: 'dormant/aws/999999999999/0123456789abcdef',
        ProductArn: PRODUCT_ARN,
        GeneratorId: 'DORMANT-AWS-001',
        AwsAccountId: MOTO_ACCOUNT_ID,
        Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
        CreatedAt: '2026-01-01T00:00:00Z',
        UpdatedAt: '2026-01-01T00:00:00Z',
        Severity: { Label: 'MEDIUM' },
        Title: 'User with no activity inside the window: someone',
        Description: 'someone elsewhere',
        Resources: [{ Type: 'AwsIamUser', Id: 'arn:aws:iam::999999999999:user/someone' }],
        ProductFields: { 'dormant/provider': 'aws', 'dormant/account': '999999999999' },
        RecordState: 'ACTIVE',
      };
      await client.send(new BatchImportFindingsCommand({ Findings: [foreign] }));

      const first = await runCli(EXPORT, { endpoint: moto.endpoint });
      expect(first.status, first.stderr).toBe(0);
      const firstStored = await allFindings(client);
      const bobIds = [...firstStored.values()]
        .filter((f) => f.ProductFields?.['dormant/identityName'] === 'idle-bob')
        .map((f) => f.Id!);
      expect(bobIds.length).toBe(2); // inactive user, unused password

      // Bob signs in again.
      await moto.backdate({ users: [{ name: 'idle-bob', passwordLastUsed: agoFrom(wholeSecondNow(), 0) }] });
      const second = await runCli(EXPORT, { endpoint: moto.endpoint });
      expect(second.status, second.stderr).toBe(0);
      expect(summary(second)).toMatchObject({ imported: summary(first).imported - 2, archived: 2, failed: 0 });

      const stored = await allFindings(client);
      for (const id of bobIds) {
        expect(stored.get(id)).toMatchObject({ RecordState: 'ARCHIVED', Compliance: { Status: 'PASSED' } });
      }
      for (const [id, f] of stored) {
        if (bobIds.includes(id)) continue;
        expect(f.RecordState, id).toBe('ACTIVE');
        if (id === foreign.Id) continue;
        // A finding exported again keeps when it was first created; its update is newer.
        expect(f.CreatedAt).toBe(firstStored.get(id)!.CreatedAt);
        expect(Date.parse(f.UpdatedAt!)).toBeGreaterThanOrEqual(Date.parse(firstStored.get(id)!.UpdatedAt!));
      }
      expect(stored.get(foreign.Id!)!.UpdatedAt).toBe('2026-01-01T00:00:00Z');

      // A third export finds nothing more to archive: archived findings are not read back as ACTIVE.
      const third = await runCli(EXPORT, { endpoint: moto.endpoint });
      expect(summary(third)).toMatchObject({ archived: 0, failed: 0 });
    } finally {
      client.destroy();
    }
  });

  it('names, in one line, the finding Security Hub keeps refusing (exit 3), and keeps the others', async () => {
    await seedUsers();
    // In front of moto: every BatchImportFindings loses the Resources of carol's key finding,
    // so moto refuses that one finding ("at least one resource") each time it is sent.
    const target = new URL(moto.endpoint);
    let refusedSends = 0;
    const server = http.createServer((req, res) => {
      void (async () => {
        let body = await readBody(req);
        if (req.method === 'POST' && req.url?.endsWith('/findings/import')) {
          const input = JSON.parse(body.toString('utf8')) as { Findings: AwsSecurityFinding[] };
          for (const f of input.Findings) {
            if (f.GeneratorId === 'DORMANT-AWS-002') {
              f.Resources = [];
              refusedSends++;
            }
          }
          body = Buffer.from(JSON.stringify(input));
        }
        relay(res, await forwardRequest(target, req.method ?? 'GET', req.url ?? '/', req.headers, body));
      })().catch((err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      });
    });
    const proxy: LocalServer = await listenLocal(server);
    const client = hubClient(moto.endpoint);
    try {
      const run = await runCli(EXPORT, { endpoint: proxy.url });
      expect(run.status, run.stderr).toBe(3);
      const s = summary(run);
      expect(s.failed).toBe(1);
      const lines = run.stderr.trim().split('\n');
      const line = lines.at(-1)!;
      expect(line).toMatch(
        /^dormant: Security Hub refused 1 finding\(s\) after retries: dormant\/aws\/123456789012\/[0-9a-f]{16} \(InvalidInput: .*at least one resource.*\); the others were imported$/,
      );
      // Sent once, then retried three times.
      expect(refusedSends).toBe(4);
      const stored = await allFindings(client);
      expect(stored.size).toBe(s.imported);
      expect([...stored.values()].some((f) => f.GeneratorId === 'DORMANT-AWS-002')).toBe(false);
      expect([...stored.values()].filter((f) => f.ProductFields?.['dormant/identityName'] === 'idle-bob')).toHaveLength(
        2,
      );
    } finally {
      client.destroy();
      await proxy.stop();
    }
  });
  it('says how to enable Security Hub when the account is not subscribed (exit 3, one line)', async () => {
    await seedUsers();
    const target = new URL(moto.endpoint);
    // In front of moto: GetFindings answers like a hub that was never enabled.
    const server = http.createServer((req, res) => {
      void (async () => {
        const body = await readBody(req);
        if (req.method === 'POST' && req.url?.replace(/\?.*$/, '').endsWith('/findings')) {
          const reply = JSON.stringify({ Message: 'Account 123456789012 is not subscribed to AWS Security Hub' });
          res.writeHead(401, { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidAccessException' });
          res.end(reply);
          return;
        }
        relay(res, await forwardRequest(target, req.method ?? 'GET', req.url ?? '/', req.headers, body));
      })().catch((err: unknown) => {
        res.writeHead(502);
        res.end(String(err));
      });
    });
    const proxy = await listenLocal(server);
    try {
      const run = await runCli(EXPORT, { endpoint: proxy.url });
      expect(run.status).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n').at(-1)).toBe(
        "dormant: Security Hub refused securityhub:GetFindings in us-east-1 (InvalidAccessException): enable Security Hub in this account and region ('aws securityhub enable-security-hub --region us-east-1'), or pass --region where it is enabled",
      );
    } finally {
      await proxy.stop();
    }
  });
});

describe('importFindings (in-process, on moto)', () => {
  it('retries a finding refused once, with backoff, and then counts it imported', async () => {
    const config = parseConfig({});
    const result = await scan(
      new FileProvider(new URL('../examples/credential-report.csv', import.meta.url).pathname),
      {
        config,
        now: new Date('2026-11-22T12:00:00Z'),
      },
    );
    // 150 findings (the report has 32; the rest are copies under other ids): two calls of ≤ 100.
    const asff = toAsffFindings(result, { hubAccount: MOTO_ACCOUNT_ID });
    const findings = Array.from({ length: 150 }, (_, i) => ({
      ...asff[i % asff.length]!,
      Id: `dormant/aws/${MOTO_ACCOUNT_ID}/${i.toString(16).padStart(16, '0')}`,
    }));
    const victim = findings[120]!.Id!;
    const client = hubClient(moto.endpoint);
    let calls = 0;
    let spoiled = 0;
    // Before serialization: the first time the victim is sent, it goes without resources.
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Findings?: AwsSecurityFinding[] };
        calls++;
        if (spoiled === 0) {
          const v = input.Findings?.find((f) => f.Id === victim);
          if (v) {
            spoiled++;
            input.Findings = input.Findings!.map((f) => (f.Id === victim ? { ...f, Resources: [] } : f));
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'spoilOnce' },
    );
    try {
      const options = {
        productArn: `arn:aws:securityhub:us-east-1:${MOTO_ACCOUNT_ID}:product/${MOTO_ACCOUNT_ID}/default`,
        region: 'us-east-1',
        scope: [{ provider: 'aws', account: MOTO_ACCOUNT_ID }],
        now: new Date(),
        retryDelayMs: 1,
      };
      const { taken, failed } = await importFindings(client, findings, options);
      expect(failed).toEqual([]);
      expect(taken.size).toBe(findings.length);
      // 150 findings: two calls of at most 100, and one retry of the victim.
      expect(calls).toBe(3);
      const stored = await allFindings(client);
      expect(stored.has(victim)).toBe(true);

      // exportFindings on the same hub: nothing new, nothing to archive.
      const report = await exportFindings(client, findings, options);
      expect(report).toEqual({ imported: findings.length, archived: 0, failed: [] });

      // A scan that could not judge an identity (its data unknown) archives none of its findings:
      // no verdict is not a pass. The others, no longer found, are archived.
      const unjudged = findings[0]!;
      const who = (f: AwsSecurityFinding) => `aws\n${f.ProductFields?.['dormant/identityId'] ?? ''}`;
      const rest = await exportFindings(client, [], { ...options, unjudged: new Set([who(unjudged)]) });
      const sameIdentity = findings.filter((f) => who(f) === who(unjudged)).length;
      expect(sameIdentity).toBeGreaterThan(0);
      expect(rest.archived).toBe(findings.length - sameIdentity);
      const after = await allFindings(client);
      expect(after.get(unjudged.Id!)?.RecordState ?? 'ACTIVE').toBe('ACTIVE');
    } finally {
      client.destroy();
    }
  });
});
