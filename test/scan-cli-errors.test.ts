// `dormant scan` on bad input and the output options (DESIGN §3, §6): each error is one clear
// line on stderr with the documented exit code and no stack trace; --fail-on, --output
// (atomic), and the csv / markdown formats.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { useMoto } from './support/moto.js';
import {
  FIXTURES,
  agoFrom,
  expectOneLineError,
  freshDir,
  parseReport,
  runCli,
  verdicts,
  wholeSecondNow,
  writeConfig,
} from './scan-helpers.js';

const { moto } = useMoto();
/** The seeded key ids by user. */
let keys: Record<string, string>;

beforeAll(async () => {
  const b = wholeSecondNow();
  const out = await moto.seed({
    users: [
      {
        name: 'never-used-key',
        createDate: agoFrom(b, 400),
        password: true,
        passwordLastUsed: agoFrom(b, 3),
        keys: [{ createDate: agoFrom(b, 120) }],
      },
      { name: 'no-credentials', createDate: agoFrom(b, 200) },
      // A name a spreadsheet would run as a formula.
      { name: '=cmd+x@y', createDate: agoFrom(b, 400), password: true, passwordLastUsed: agoFrom(b, 100) },
      {
        name: 'active-user',
        createDate: agoFrom(b, 400),
        keys: [{ createDate: agoFrom(b, 30), lastUsed: agoFrom(b, 1) }],
      },
    ],
  });
  keys = Object.fromEntries(out.users.filter((u) => u.keys.length > 0).map((u) => [u.name, u.keys[0]!]));
});

/** The findings every successful scan of this account must have. */
function expectedVerdicts(): string[] {
  const k = keys['never-used-key']!;
  return [
    `DORMANT-AWS-002|never-used-key|${k}`,
    `DORMANT-AWS-005|never-used-key|${k}`,
    'DORMANT-AWS-003|no-credentials|',
    'DORMANT-AWS-001|=cmd+x@y|',
    'DORMANT-AWS-004|=cmd+x@y|',
  ].sort();
}

describe.concurrent('bad input: exit 2 and one clear line', () => {
  it('a malformed credential report CSV', async () => {
    const file = join(FIXTURES, 'report-malformed.csv');
    const cwd = freshDir();
    const run = await runCli(['scan', '--key-ids', '--format', 'json', '--from-report', file], { cwd });
    expectOneLineError(run, 2, 'dormant:', 'malformed CSV', 'line 3', 'report-malformed.csv');
    expect(run.stdout).toBe('');
    // Nothing was written where it ran.
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a credential report with a missing column', async () => {
    const run = await runCli(['scan', '--key-ids', '--from-report', join(FIXTURES, 'report-missing-column.csv')]);
    expectOneLineError(run, 2, 'missing column', 'access_key_1_last_used_date', 'report-missing-column.csv');
    expect(run.stdout).toBe('');
  });

  it('--from-report naming a file that does not exist', async () => {
    const cwd = freshDir();
    const run = await runCli(['scan', '--key-ids', '--from-report', 'nope/missing-report.csv'], { cwd });
    expectOneLineError(run, 2, 'nope/missing-report.csv', 'not found', '--from-report');
  });

  it('a broken YAML config names the line', async () => {
    const cwd = freshDir();
    const config = writeConfig(cwd, 'inactiveDays: 90\nexempt:\n  users: [breakglass-*, admin\nrules: {}\n');
    const run = await runCli(['--config', config, 'scan', '--from-report', join(FIXTURES, 'report-real.csv')], { cwd });
    expectOneLineError(run, 2, 'invalid YAML', /line \d+/, 'test-config.yml');
  });

  it('a config with an unknown key names the key', async () => {
    const cwd = freshDir();
    const config = writeConfig(cwd, 'inactiveDays: 90\nexempt:\n  userz: [breakglass-*]\n');
    const run = await runCli(['--config', config, 'scan', '--from-report', join(FIXTURES, 'report-real.csv')], { cwd });
    expectOneLineError(run, 2, 'unknown key', "'exempt.userz'", 'test-config.yml');
  });

  it('a ./dormant.yml that is broken is reported too', async () => {
    const cwd = freshDir();
    writeConfig(cwd, 'aws: { maxAttempts: [\n', 'dormant.yml');
    const run = await runCli(['scan', '--key-ids', '--from-report', join(FIXTURES, 'report-real.csv')], { cwd });
    expectOneLineError(run, 2, 'dormant.yml', 'invalid YAML', /line \d+/);
  });

  it('--days abc', async () => {
    const run = await runCli([
      'scan',
      '--key-ids',
      '--days',
      'abc',
      '--from-report',
      join(FIXTURES, 'report-real.csv'),
    ]);
    expectOneLineError(run, 2, '--days', 'whole number', "'abc'");
  });

  it('--from-report with --source api', async () => {
    const run = await runCli([
      'scan',
      '--key-ids',
      '--source',
      'api',
      '--from-report',
      join(FIXTURES, 'report-real.csv'),
    ]);
    expectOneLineError(run, 2, '--from-report', '--source api');
  });

  it('an unknown flag', async () => {
    const run = await runCli(['scan', '--key-ids', '--bogus', '--from-report', join(FIXTURES, 'report-real.csv')]);
    expectOneLineError(run, 2, 'unknown option', '--bogus');
    expect(run.stdout).toBe('');
  });
});

describe.concurrent('output options on moto', () => {
  it('--fail-on medium with findings exits 1 and still prints the report', async () => {
    const run = await runCli(['scan', '--key-ids', '--format', 'json', '--fail-on', 'medium'], {
      endpoint: moto.endpoint,
    });
    const r = parseReport(run, 1);
    expect(verdicts(r)).toEqual(expectedVerdicts());
    expect(run.stderr).not.toMatch(/error/i);
  });

  it('--fail-on high with only medium and low findings exits 0', async () => {
    const r = parseReport(
      await runCli(['scan', '--key-ids', '--format', 'json', '--fail-on', 'high'], { endpoint: moto.endpoint }),
      0,
    );
    expect(verdicts(r)).toEqual(expectedVerdicts());
  });

  it('--output FILE writes the report atomically, nothing on stdout, no temp file left', async () => {
    const cwd = freshDir();
    const run = await runCli(['scan', '--key-ids', '--output', 'report.json'], { endpoint: moto.endpoint, cwd });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual(['report.json']);
    const r = JSON.parse(readFileSync(join(cwd, 'report.json'), 'utf8')) as Parameters<typeof verdicts>[0];
    expect(r.schemaVersion).toBe(1);
    expect(verdicts(r)).toEqual(expectedVerdicts());
  });

  it('--output FILE replaces an existing file, and --format wins over the extension', async () => {
    const cwd = freshDir();
    writeConfig(cwd, 'old content\n', 'out.txt');
    const run = await runCli(['scan', '--key-ids', '--format', 'csv', '--output', 'out.txt'], {
      endpoint: moto.endpoint,
      cwd,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual(['out.txt']);
    expect(readFileSync(join(cwd, 'out.txt'), 'utf8')).toMatch(/^ruleId,rule,severity,/);
  });

  it('--output into a directory that does not exist fails cleanly (exit 2) and leaves nothing', async () => {
    const cwd = freshDir();
    const run = await runCli(['scan', '--key-ids', '--output', 'no-such-dir/report.json'], {
      endpoint: moto.endpoint,
      cwd,
    });
    // The scan's own warnings may come first; the error is the last line.
    expect(run.status).toBe(2);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const lines = run.stderr.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('dormant: warning:'))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/cannot write --output no-such-dir\/report\.json \(ENOENT\)/);
    expect(run.stdout).toBe('');
    expect(existsSync(join(cwd, 'no-such-dir'))).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--format csv has one row per finding, formula-like names neutralized', async () => {
    const run = await runCli(['scan', '--key-ids', '--format', 'csv'], { endpoint: moto.endpoint });
    expect(run.status, run.stderr).toBe(0);
    const rows = parse(run.stdout, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0] ?? {})).toEqual(
      expect.arrayContaining([
        'ruleId',
        'rule',
        'severity',
        'identityName',
        'identityId',
        'credentialId',
        'message',
        'findingId',
      ]),
    );
    const unformula = (s: string) => s.replace(/^'(?=[=+\-@])/, '');
    expect(rows.map((r) => `${r.ruleId}|${unformula(r.identityName ?? '')}|${r.credentialId}`).sort()).toEqual(
      expectedVerdicts(),
    );
    const k = keys['never-used-key']!;
    const row = rows.find((r) => r.ruleId === 'DORMANT-AWS-002');
    expect(row).toMatchObject({
      rule: 'unused-access-key',
      severity: 'medium',
      identityName: 'never-used-key',
      credentialId: k,
      daysSinceActivity: '120',
      recommendedAction: 'deactivate-key',
      message: `Access key ${k} of never-used-key was created 120 days ago and never used (window 90 days).`,
    });
    // A cell starting with = is prefixed so a spreadsheet does not run it.
    expect(rows.filter((r) => r.identityName === "'=cmd+x@y")).toHaveLength(2);
    expect(rows.some((r) => r.identityName === '=cmd+x@y')).toBe(false);
  });

  it('--format markdown has a table row per finding', async () => {
    const run = await runCli(['scan', '--key-ids', '--format', 'markdown'], { endpoint: moto.endpoint });
    expect(run.status, run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toContain('| User | Rule | Severity | Credential | Days | Action | Finding |');
    const k = keys['never-used-key']!;
    expect(out).toContain(
      `| never-used-key | DORMANT-AWS-002 unused-access-key | medium | ${k} | 120 | deactivate-key | Access key ${k} of never-used-key was created 120 days ago and never used (window 90 days). |`,
    );
    expect(out).toContain('| no-credentials | DORMANT-AWS-003 unused-user | medium |  | 200 | delete-user |');
    expect(out).toMatch(/\| =cmd\+x@y \| DORMANT-AWS-001 inactive-user \| medium \| {2}\| 100 \| disable-user \|/);
    const rows = out.split('\n').filter((l) => /^\| .* \| DORMANT-AWS-00\d /.test(l));
    expect(rows).toHaveLength(expectedVerdicts().length);
  });
});
