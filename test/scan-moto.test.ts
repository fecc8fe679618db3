// `dormant scan` end to end on moto over HTTP (DESIGN §2, §3): every rule and edge case on
// users with backdated timestamps, window boundaries at 89/90/91 days, --days, exemptions
// by tag and by config glob, IAM names with +=,.@_- and paths, and the JSON contract.
import { beforeAll, describe, expect, it } from 'vitest';
import { MOTO_ACCOUNT_ID, useMoto, type SeedResult } from './support/moto.js';
import { SCAN_CONFIG, expectedFindings, keysByName, scanCases, type ScanCase } from './scan-cases.js';
import {
  agoFrom,
  finding,
  findingsOf,
  freshDir,
  identity,
  parseReport,
  runCli,
  wholeSecondNow,
  writeConfig,
  type JsonReport,
} from './scan-helpers.js';

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const AKIA = /^AKIA[A-Z0-9]{16}$/;

const { moto } = useMoto();
let base: number;
let cases: ScanCase[];
let seeded: SeedResult;
let keys: Map<string, string[]>;
let configPath: string;
/** The default scan (`--source auto`, the credential report), JSON. */
let report: JsonReport;

function keyOf(name: string, n = 1): string {
  const id = keys.get(name)?.[n - 1];
  if (id === undefined) throw new Error(`no key ${n} for ${name}`);
  return id;
}

beforeAll(async () => {
  base = wholeSecondNow();
  cases = scanCases(base);
  seeded = await moto.seed({ users: cases.map((c) => c.user) });
  keys = keysByName(seeded);
  const dir = freshDir();
  configPath = writeConfig(dir, SCAN_CONFIG);
  report = parseReport(
    await runCli(['scan', '--key-ids', '--format', 'json', '--config', configPath], {
      endpoint: moto.endpoint,
      cwd: dir,
    }),
  );
});

describe('scan on moto (default source: the credential report)', () => {
  it('prints the DESIGN §3 document', () => {
    expect(report.schemaVersion).toBe(1);
    expect(report.generatedAt).toMatch(ISO_SECONDS);
    expect(Math.abs(Date.parse(report.generatedAt) - Date.now())).toBeLessThan(120_000);
    expect(report.source).toBe('credential-report');
    expect(report.accounts).toEqual([MOTO_ACCOUNT_ID]);
    expect(report.settings).toEqual({ inactiveDays: 90 });
    expect(report.identities.map((i) => i.name).sort()).toEqual(cases.map((c) => c.user.name).sort());

    for (const i of report.identities) {
      expect(Object.keys(i)).toEqual(
        expect.arrayContaining([
          'provider',
          'account',
          'kind',
          'id',
          'name',
          'path',
          'createdAt',
          'lastActivityAt',
          'state',
          'exemptReason',
          'credentials',
        ]),
      );
      expect(i.provider).toBe('aws');
      expect(i.account).toBe(MOTO_ACCOUNT_ID);
      expect(i.kind).toBe('user');
      expect(i.id).toBe(`arn:aws:iam::${MOTO_ACCOUNT_ID}:user${i.path}${i.name}`);
      expect(i.createdAt).toMatch(ISO_SECONDS);
      expect(['active', 'inactive', 'exempt']).toContain(i.state);
      for (const c of i.credentials) {
        expect(Object.keys(c)).toEqual(expect.arrayContaining(['kind', 'id', 'status', 'createdAt', 'lastUsedAt']));
        if (c.kind === 'password') {
          expect(c.id).toBeNull();
          expect(c.status).toBe('enabled');
        } else {
          expect(['Active', 'Inactive']).toContain(c.status);
        }
      }
    }

    expect(report.findings.length).toBeGreaterThan(0);
    for (const f of report.findings) {
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining([
          'id',
          'ruleId',
          'rule',
          'severity',
          'identityId',
          'identityName',
          'credentialId',
          'message',
          'lastActivityAt',
          'daysSinceActivity',
          'compliance',
          'recommendedAction',
        ]),
      );
      expect(f.id).toMatch(/^[0-9a-f]{16}$/);
      expect(f.identityId).toBe(identity(report, f.identityName).id);
      expect(f.compliance.length).toBeGreaterThan(0);
    }
    // Finding ids are unique (a stable hash of rule + identity + credential).
    expect(new Set(report.findings.map((f) => f.id)).size).toBe(report.findings.length);

    expect(report.summary).toEqual({
      identities: report.identities.length,
      inactive: report.identities.filter((i) => i.state === 'inactive').length,
      exempt: report.identities.filter((i) => i.state === 'exempt').length,
      findings: report.findings.length,
    });
    expect(report.summary.exempt).toBe(4);
  });

  it('gives every user its exact verdicts and state', () => {
    const got = Object.fromEntries(
      cases.map((c) => [
        c.user.name,
        { state: identity(report, c.user.name).state, findings: findingsOf(report, c.user.name) },
      ]),
    );
    const want = Object.fromEntries(
      cases.map((c) => [
        c.user.name,
        { state: c.state, findings: expectedFindings(c.findings, keys.get(c.user.name) ?? []) },
      ]),
    );
    expect(got).toEqual(want);
  });

  it('carries the documented rule metadata on each finding', () => {
    const meta = {
      'DORMANT-AWS-001': ['inactive-user', 'medium', 'disable-user'],
      'DORMANT-AWS-002': ['unused-access-key', 'medium', 'deactivate-key'],
      'DORMANT-AWS-003': ['unused-user', 'medium', 'delete-user'],
      'DORMANT-AWS-004': ['unused-password', 'medium', 'remove-password'],
      'DORMANT-AWS-005': ['unrotated-access-key', 'low', 'notify'],
    } as const;
    const seen = new Set<string>();
    for (const f of report.findings) {
      const m = meta[f.ruleId as keyof typeof meta];
      expect(m, f.ruleId).toBeDefined();
      expect([f.rule, f.severity, f.recommendedAction]).toEqual([...m]);
      seen.add(f.ruleId);
    }
    expect([...seen].sort()).toEqual(Object.keys(meta));
    expect(finding(report, 'inactive-100', 'DORMANT-AWS-001').compliance).toEqual(
      expect.arrayContaining(['CIS AWS 1.12 (v3.0)', 'NIST 800-53 AC-2(3)', 'PCI DSS 4.0 8.2.6']),
    );
  });

  it('does not flag a key created yesterday on an old user', () => {
    const u = identity(report, 'fresh-key-old-user');
    expect(u.state).toBe('active');
    expect(u.credentials).toEqual([
      expect.objectContaining({
        kind: 'access-key',
        status: 'Active',
        createdAt: agoFrom(base, 1),
        lastUsedAt: null,
      }),
    ]);
    expect(u.lastActivityAt).toBe(agoFrom(base, 1));
    expect(findingsOf(report, 'fresh-key-old-user')).toEqual([]);
  });

  it('flags a never-used key older than the window with its real key id (DORMANT-AWS-002)', () => {
    const id = keyOf('never-used-key');
    expect(id).toMatch(AKIA);
    const f = finding(report, 'never-used-key', 'DORMANT-AWS-002');
    expect(f.credentialId).toBe(id);
    expect(f.message).toBe(
      `Access key ${id} of never-used-key was created 120 days ago and never used (window 90 days).`,
    );
    expect(f.lastActivityAt).toBe(agoFrom(base, 120));
    expect(f.daysSinceActivity).toBe(120);
    expect(identity(report, 'never-used-key').state).toBe('active');
  });

  it('never flags an Inactive key as unused', () => {
    expect(
      report.findings.filter((f) => f.ruleId === 'DORMANT-AWS-002' && f.identityName.includes('inactive-key')),
    ).toEqual([]);
    expect(identity(report, 'inactive-key').credentials.find((c) => c.kind === 'access-key')?.status).toBe('Inactive');
    expect(findingsOf(report, 'old-inactive-key-only')).toEqual(['DORMANT-AWS-001']);
  });

  it('flags users that never signed in and have no keys (DORMANT-AWS-003), not as 001', () => {
    const f = finding(report, 'password-never-signed-in', 'DORMANT-AWS-003');
    expect(f.credentialId).toBeNull();
    expect(f.message).toBe(
      'User password-never-signed-in was created 200 days ago, has a console password that was never used and has no access keys (window 90 days).',
    );
    expect(finding(report, 'no-credentials', 'DORMANT-AWS-003').message).toBe(
      'User no-credentials was created 200 days ago, has never signed in and has no access keys (window 90 days).',
    );
    expect(identity(report, 'no-credentials')).toMatchObject({
      state: 'inactive',
      credentials: [],
      lastActivityAt: agoFrom(base, 200),
    });
  });

  it('flags a user inactive for 100 days (DORMANT-AWS-001)', () => {
    const f = finding(report, 'inactive-100', 'DORMANT-AWS-001');
    expect(f).toMatchObject({
      credentialId: null,
      daysSinceActivity: 100,
      lastActivityAt: agoFrom(base, 100),
      message: 'User inactive-100 has had no activity for 100 days (window 90 days).',
    });
    expect(identity(report, 'inactive-100')).toMatchObject({ state: 'inactive', lastActivityAt: agoFrom(base, 100) });
  });

  it('flags a password unused for 120 days on an otherwise active user (DORMANT-AWS-004)', () => {
    const f = finding(report, 'password-120', 'DORMANT-AWS-004');
    expect(f).toMatchObject({
      credentialId: null,
      daysSinceActivity: 120,
      message: 'Console password of password-120 was last used 120 days ago (window 90 days).',
    });
    expect(identity(report, 'password-120').state).toBe('active');
  });

  it('gives an old key in use only the rotation finding (DORMANT-AWS-005)', () => {
    const id = keyOf('old-used-key');
    expect(findingsOf(report, 'old-used-key')).toEqual([`DORMANT-AWS-005 ${id}`]);
    expect(finding(report, 'old-used-key', 'DORMANT-AWS-005')).toMatchObject({
      severity: 'low',
      message: `Access key ${id} of old-used-key was created 200 days ago and not rotated (rotation period 90 days).`,
      lastActivityAt: agoFrom(base, 2),
      daysSinceActivity: 2,
    });
  });

  it('tells twin keys (created in the same second) apart by their last use', () => {
    const [k1, k2] = [keyOf('twin-keys', 1), keyOf('twin-keys', 2)];
    expect(finding(report, 'twin-keys', 'DORMANT-AWS-002').credentialId).toBe(k1);
    expect(findingsOf(report, 'twin-keys')).toEqual(
      [`DORMANT-AWS-002 ${k1}`, `DORMANT-AWS-005 ${k1}`, `DORMANT-AWS-005 ${k2}`].sort(),
    );
  });

  it('exempts a user tagged dormant:exempt=true: state exempt, the reason, no findings', () => {
    for (const name of ['tag-exempt', 'tag-exempt-upper']) {
      expect(identity(report, name)).toMatchObject({ state: 'exempt', exemptReason: 'tag dormant:exempt=true' });
      expect(findingsOf(report, name)).toEqual([]);
    }
    expect(identity(report, 'tag-not-true')).toMatchObject({ state: 'inactive', exemptReason: null });
  });

  it('exempts users matched by a config glob on the name or the ARN', () => {
    expect(identity(report, 'breakglass-admin')).toMatchObject({
      state: 'exempt',
      exemptReason: "config exempt.users matches 'breakglass-*'",
    });
    expect(identity(report, 'vendor-bot')).toMatchObject({
      state: 'exempt',
      path: '/vendors/',
      exemptReason: "config exempt.users matches 'arn:aws:iam::*:user/vendors/*'",
    });
    expect(findingsOf(report, 'breakglass-admin')).toEqual([]);
    expect(findingsOf(report, 'vendor-bot')).toEqual([]);
    for (const i of report.identities.filter((x) => x.state !== 'exempt')) expect(i.exemptReason).toBeNull();
  });

  it('handles names with +=.@_- under the path /contractors/', () => {
    const name = 'ops+ci=bot.x@z_w-1';
    const u = identity(report, name);
    expect(u).toMatchObject({
      path: '/contractors/',
      id: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/contractors/${name}`,
      state: 'inactive',
    });
    const f = finding(report, name, 'DORMANT-AWS-002');
    expect(f.credentialId).toBe(keyOf(name));
    expect(f.identityId).toBe(u.id);
    expect(f.message).toBe(`Access key ${keyOf(name)} of ${name} was last used 120 days ago (window 90 days).`);
    expect(identity(report, 'dana.contractor')).toMatchObject({ path: '/contractors/', state: 'active' });
  });

  it('puts 89 days inside the window and 90 and 91 outside it', () => {
    expect(findingsOf(report, 'edge-89')).toEqual([]);
    expect(finding(report, 'edge-90', 'DORMANT-AWS-001')).toMatchObject({
      daysSinceActivity: 90,
      lastActivityAt: agoFrom(base, 90),
    });
    expect(finding(report, 'edge-90', 'DORMANT-AWS-004').daysSinceActivity).toBe(90);
    expect(finding(report, 'edge-91', 'DORMANT-AWS-001').daysSinceActivity).toBe(91);
    expect(findingsOf(report, 'key-edge-89')).toEqual([`DORMANT-AWS-005 ${keyOf('key-edge-89')}`]);
    expect(finding(report, 'key-edge-90', 'DORMANT-AWS-002')).toMatchObject({
      credentialId: keyOf('key-edge-90'),
      daysSinceActivity: 90,
    });
    expect(finding(report, 'key-edge-91', 'DORMANT-AWS-002').daysSinceActivity).toBe(91);
  });
});

describe('scan on moto with flags', () => {
  it('treats exactly 90 days as outside the window and one second less as inside (--as-of)', async () => {
    const at = new Date(base).toISOString();
    const exact = parseReport(
      await runCli(['scan', '--key-ids', '--format', 'json', '--config', configPath, '--as-of', at], {
        endpoint: moto.endpoint,
      }),
    );
    expect(exact.generatedAt).toBe(agoFrom(base, 0));
    expect(findingsOf(exact, 'edge-90')).toEqual(['DORMANT-AWS-001', 'DORMANT-AWS-004']);
    expect(finding(exact, 'edge-90', 'DORMANT-AWS-001').daysSinceActivity).toBe(90);
    expect(findingsOf(exact, 'key-edge-90')).toEqual(
      [`DORMANT-AWS-002 ${keyOf('key-edge-90')}`, `DORMANT-AWS-005 ${keyOf('key-edge-90')}`].sort(),
    );

    const before = parseReport(
      await runCli(
        [
          'scan',
          '--key-ids',
          '--format',
          'json',
          '--config',
          configPath,
          '--as-of',
          new Date(base - 1000).toISOString(),
        ],
        { endpoint: moto.endpoint },
      ),
    );
    expect(findingsOf(before, 'edge-90')).toEqual([]);
    expect(identity(before, 'edge-90').state).toBe('active');
    expect(findingsOf(before, 'key-edge-90')).toEqual([`DORMANT-AWS-005 ${keyOf('key-edge-90')}`]);
    expect(findingsOf(before, 'edge-91')).toEqual(['DORMANT-AWS-001', 'DORMANT-AWS-004']);
  });

  it('--days 30 overrides the window (not the rotation period)', async () => {
    const r = parseReport(
      await runCli(['scan', '--key-ids', '--format', 'json', '--config', configPath, '--days', '30'], {
        endpoint: moto.endpoint,
      }),
    );
    expect(r.settings).toEqual({ inactiveDays: 30 });
    expect(findingsOf(r, 'recent-45')).toEqual(['DORMANT-AWS-001', 'DORMANT-AWS-004']);
    expect(finding(r, 'recent-45', 'DORMANT-AWS-001').message).toBe(
      'User recent-45 has had no activity for 45 days (window 30 days).',
    );
    expect(findingsOf(r, 'edge-89')).toEqual(['DORMANT-AWS-001', 'DORMANT-AWS-004']);
    // A key created 60 days ago and never used is outside a 30-day window.
    expect(findingsOf(r, 'young-unused-key')).toEqual([
      'DORMANT-AWS-001',
      `DORMANT-AWS-002 ${keyOf('young-unused-key')}`,
    ]);
    // Activity inside 30 days still counts; the rotation period stays 90 days.
    expect(findingsOf(r, 'fresh-key-old-user')).toEqual([]);
    expect(findingsOf(r, 'old-used-key')).toEqual([`DORMANT-AWS-005 ${keyOf('old-used-key')}`]);
    expect(findingsOf(r, 'dana.contractor')).toEqual([]);
    expect(findingsOf(r, 'young-user')).toEqual([]);
    // Same account at 90 days, for contrast.
    expect(findingsOf(report, 'recent-45')).toEqual([]);
  });

  it('without the config, the glob-exempt users get their findings', async () => {
    const r = parseReport(await runCli(['scan', '--key-ids', '--format', 'json'], { endpoint: moto.endpoint }));
    expect(identity(r, 'breakglass-admin')).toMatchObject({ state: 'inactive', exemptReason: null });
    expect(findingsOf(r, 'breakglass-admin')).toEqual(['DORMANT-AWS-001', 'DORMANT-AWS-004']);
    expect(findingsOf(r, 'vendor-bot')).toEqual(
      ['DORMANT-AWS-001', `DORMANT-AWS-002 ${keyOf('vendor-bot')}`, `DORMANT-AWS-005 ${keyOf('vendor-bot')}`].sort(),
    );
    // Tag exemptions need no config.
    expect(identity(r, 'tag-exempt').state).toBe('exempt');
  });
});

describe('a user name with a comma', () => {
  // IAM allows `,` in user names; the credential report is CSV.
  const name = 'ops+ci=bot,x.y@z_w-1';
  let k1: string;

  beforeAll(async () => {
    await moto.reset();
    const b = wholeSecondNow();
    const out = await moto.seed({
      users: [
        {
          name,
          path: '/contractors/',
          createDate: agoFrom(b, 200),
          keys: [{ createDate: agoFrom(b, 150), lastUsed: agoFrom(b, 120) }],
        },
        { name: 'plain', createDate: agoFrom(b, 200) },
      ],
    });
    k1 = out.users[0]!.keys[0]!;
  });

  for (const source of ['api', 'auto'] as const) {
    it(`is scanned with --source ${source}`, async () => {
      const r = parseReport(
        await runCli(['scan', '--key-ids', '--format', 'json', '--source', source], { endpoint: moto.endpoint }),
      );
      expect(identity(r, name)).toMatchObject({
        path: '/contractors/',
        id: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/contractors/${name}`,
        state: 'inactive',
      });
      expect(findingsOf(r, name)).toEqual(['DORMANT-AWS-001', `DORMANT-AWS-002 ${k1}`, `DORMANT-AWS-005 ${k1}`]);
      expect(findingsOf(r, 'plain')).toEqual(['DORMANT-AWS-003']);
    });
  }
});
