// DESIGN §2 "Data sources. They must agree": on one moto account covering every case, the
// credential report, the API and an exported report file give the same verdicts; and the API
// source follows IsTruncated/Marker to the last page (the fault proxy paginates ListUsers).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './support/faultProxy.js';
import { useMoto, type SeedResult } from './support/moto.js';
import { SCAN_CONFIG, expectedFindings, keysByName, scanCases, type ScanCase } from './scan-cases.js';
import {
  agoFrom,
  fetchReportCsv,
  findingsOf,
  freshDir,
  identity,
  parseReport,
  runCli,
  states,
  verdicts,
  wholeSecondNow,
  writeConfig,
  type JsonReport,
} from './scan-helpers.js';

const { moto } = useMoto();

describe('the sources agree on one account', () => {
  let cases: ScanCase[];
  let seeded: SeedResult;
  let keys: Map<string, string[]>;
  let dir: string;
  let configPath: string;
  let fromReport: JsonReport;
  let fromApi: JsonReport;

  beforeAll(async () => {
    await moto.reset();
    cases = scanCases(wholeSecondNow());
    seeded = await moto.seed({ users: cases.map((c) => c.user) });
    keys = keysByName(seeded);
    dir = freshDir();
    configPath = writeConfig(dir, SCAN_CONFIG);
    const [r, a] = await Promise.all([
      runCli(['scan', '--key-ids', '--format', 'json', '--config', configPath, '--source', 'report'], {
        endpoint: moto.endpoint,
      }),
      runCli(['scan', '--key-ids', '--format', 'json', '--config', configPath, '--source', 'api'], {
        endpoint: moto.endpoint,
      }),
    ]);
    fromReport = parseReport(r);
    fromApi = parseReport(a);
  });

  it('covers ~30 users and every rule', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(fromReport.source).toBe('credential-report');
    expect(fromApi.source).toBe('api');
    expect(new Set(fromApi.findings.map((f) => f.ruleId))).toEqual(
      new Set(['DORMANT-AWS-001', 'DORMANT-AWS-002', 'DORMANT-AWS-003', 'DORMANT-AWS-004', 'DORMANT-AWS-005']),
    );
    expect(new Set(Object.values(states(fromApi)))).toEqual(new Set(['active', 'inactive', 'exempt']));
  });

  it('--source report and --source api give the same findings (rule, user, key id) and states', () => {
    expect(verdicts(fromReport)).toEqual(verdicts(fromApi));
    expect(states(fromReport)).toEqual(states(fromApi));
    // The same findings hash to the same ids, and carry the same messages.
    const byTriple = (r: JsonReport) =>
      Object.fromEntries(
        r.findings.map((f) => [`${f.ruleId}|${f.identityName}|${f.credentialId ?? ''}`, [f.id, f.message]]),
      );
    expect(byTriple(fromReport)).toEqual(byTriple(fromApi));
    expect(fromReport.summary).toEqual(fromApi.summary);
    const reasons = (r: JsonReport) => Object.fromEntries(r.identities.map((i) => [i.name, i.exemptReason]));
    expect(reasons(fromReport)).toEqual(reasons(fromApi));
  });

  it('without --key-ids the report source names keys by slot and agrees with the API by slot', async () => {
    const bySlot = parseReport(
      await runCli(['scan', '--format', 'json', '--config', configPath, '--source', 'report'], {
        endpoint: moto.endpoint,
      }),
    );
    type Slotted = JsonReport['findings'][number] & { credentialSlot?: string };
    const keyed = (r: JsonReport) => (r.findings as Slotted[]).filter((f) => f.credentialSlot !== undefined);
    expect(keyed(bySlot).length).toBeGreaterThan(0);
    for (const f of keyed(bySlot)) expect(f.credentialId).toBe(f.credentialSlot);
    // --key-ids keeps the slot beside the id: the same report, read both ways, gives the same
    // (rule, user, slot) triples, and (above) the id-named ones are the API's.
    const triples = (r: JsonReport) =>
      (r.findings as Slotted[])
        .map((f) => `${f.ruleId}|${f.identityName}|${f.credentialSlot ?? f.credentialId ?? ''}`)
        .sort();
    expect(triples(bySlot)).toEqual(triples(fromReport));
    for (const f of keyed(fromReport)) expect(f.credentialId).toMatch(/^AKIA/);
    // The API source knows ids and has no slots.
    expect(keyed(fromApi)).toEqual([]);
    expect(states(bySlot)).toEqual(states(fromApi));
    expect(bySlot.summary).toEqual(fromApi.summary);
  });

  it('both match the expected verdicts', () => {
    const want = Object.fromEntries(
      cases.map((c) => [
        c.user.name,
        { state: c.state, findings: expectedFindings(c.findings, keys.get(c.user.name) ?? []) },
      ]),
    );
    for (const r of [fromReport, fromApi]) {
      const got = Object.fromEntries(
        cases.map((c) => [
          c.user.name,
          { state: identity(r, c.user.name).state, findings: findingsOf(r, c.user.name) },
        ]),
      );
      expect(got).toEqual(want);
    }
  });

  it('--from-report on the exported report gives the same verdicts, keys named by slot', async () => {
    const csv = await fetchReportCsv(moto.endpoint);
    const file = join(dir, 'credential-report.csv');
    writeFileSync(file, csv);
    // No AWS settings at all: the file path needs no network.
    const offline = parseReport(
      await runCli(['scan', '--key-ids', '--format', 'json', '--config', configPath, '--from-report', file]),
    );
    expect(offline.source).toBe('file');
    expect(offline.accounts).toEqual(fromApi.accounts);

    const want: Record<string, { state: string; findings: string[] }> = {};
    for (const c of cases) {
      const v = c.offline ?? { state: c.state, findings: c.findings };
      want[c.user.name] = { state: v.state, findings: expectedFindings(v.findings, [], 'slot') };
    }
    const got = Object.fromEntries(
      cases.map((c) => [
        c.user.name,
        { state: identity(offline, c.user.name).state, findings: findingsOf(offline, c.user.name) },
      ]),
    );
    expect(got).toEqual(want);

    // Against the live sources: identical (rule, user) pairs and states, except the users that
    // only a tag exempts (an exported report has no tags, and the scan says so).
    const tagOnly = new Set(cases.filter((c) => c.offline).map((c) => c.user.name));
    const pairs = (r: JsonReport) =>
      r.findings
        .filter((f) => !tagOnly.has(f.identityName))
        .map((f) => `${f.ruleId}|${f.identityName}`)
        .sort();
    expect(pairs(offline)).toEqual(pairs(fromApi));
    const liveStates = Object.fromEntries(Object.entries(states(fromApi)).filter(([n]) => !tagOnly.has(n)));
    const fileStates = Object.fromEntries(Object.entries(states(offline)).filter(([n]) => !tagOnly.has(n)));
    expect(fileStates).toEqual(liveStates);
    expect(offline.warnings?.join('\n')).toMatch(/no tags: tag exemptions were not applied/);
    // Keys are named by slot (access_key_1 / access_key_2), never by a guessed id.
    for (const f of offline.findings.filter((x) => x.ruleId === 'DORMANT-AWS-002' || x.ruleId === 'DORMANT-AWS-005')) {
      expect(f.credentialId).toMatch(/^access_key_[12]$/);
    }
  });
});

describe('twin keys created in the same second', () => {
  // Two keys with the same CreateDate that the credential report still tells apart: one is
  // Active, the other Inactive, and neither was used. The report's slot (access_key_N_active)
  // and ListAccessKeys (Status) agree on which is which, so the report source can name the key.
  let k1: string;
  let k2: string;

  beforeAll(async () => {
    await moto.reset();
    const b = wholeSecondNow();
    const out = await moto.seed({
      users: [
        {
          name: 'twin-status',
          createDate: agoFrom(b, 400),
          password: true,
          passwordLastUsed: agoFrom(b, 3),
          keys: [
            { createDate: agoFrom(b, 200), status: 'Active' },
            { createDate: agoFrom(b, 200), status: 'Inactive' },
          ],
        },
      ],
    });
    [k1, k2] = out.users[0]!.keys as [string, string];
  });

  it('get the same verdicts from the report and the API', async () => {
    const [r, a] = await Promise.all([
      runCli(['scan', '--key-ids', '--format', 'json', '--source', 'report'], { endpoint: moto.endpoint }),
      runCli(['scan', '--key-ids', '--format', 'json', '--source', 'api'], { endpoint: moto.endpoint }),
    ]);
    const api = parseReport(a);
    expect(findingsOf(api, 'twin-status')).toEqual([`DORMANT-AWS-002 ${k1}`, `DORMANT-AWS-005 ${k1}`]);
    expect(k2).not.toBe(k1);
    const report = parseReport(r);
    expect(verdicts(report)).toEqual(verdicts(api));
  });
});

describe('API source pagination', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    await moto.reset();
    const b = wholeSecondNow();
    await moto.seed({
      users: Array.from({ length: 10 }, (_, i) => ({
        name: `page-user-${String(i).padStart(2, '0')}`,
        createDate: agoFrom(b, i % 2 === 0 ? 200 : 5),
      })),
    });
    proxy = await startFaultProxy(moto.endpoint, { pageSize: 3 });
  });

  afterAll(async () => {
    await proxy?.stop();
  });

  it('follows IsTruncated/Marker to the last page', async () => {
    const r = parseReport(
      await runCli(['scan', '--key-ids', '--format', 'json', '--source', 'api'], { endpoint: proxy.url }),
    );
    expect(r.identities.map((i) => i.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `page-user-${String(i).padStart(2, '0')}`),
    );
    expect(r.summary.identities).toBe(10);
    // Even-numbered users are 200 days old with no credentials; odd ones are 5 days old.
    expect(r.findings.map((f) => `${f.ruleId}|${f.identityName}`)).toEqual(
      [0, 2, 4, 6, 8].map((i) => `DORMANT-AWS-003|page-user-0${i}`),
    );

    const listUsers = proxy.requests.filter((q) => q.action === 'ListUsers');
    expect(listUsers.length).toBeGreaterThanOrEqual(4);
    expect(listUsers[0]!.params.has('Marker')).toBe(false);
    for (const q of listUsers.slice(1)) expect(q.params.get('Marker')).toBeTruthy();
    // Every marker is used once: no page is fetched twice.
    const markers = listUsers.slice(1).map((q) => q.params.get('Marker'));
    expect(new Set(markers).size).toBe(markers.length);
  });
});
