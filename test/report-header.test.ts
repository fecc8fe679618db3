// Issue 13: a file that is not an IAM credential report is said to be one, from its first line,
// before its body is read as CSV (README "Exit codes": bad input file, exit 2). The parser
// directly, and the built CLI (`npm run build` first) on the README itself.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DormantError } from '../src/errors.js';
import { parseCredentialReport } from '../src/providers/aws/aws-credential-report.js';
import { describeRun, runCli } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dormant-report-header-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const README_PATH = new URL('../README.md', import.meta.url).pathname;
const REPORT_PATH = new URL('../examples/credential-report.csv', import.meta.url).pathname;
const HINT = "export one with 'aws iam get-credential-report'";

function errorOf(text: string, label: string): DormantError {
  try {
    parseCredentialReport(text, label);
  } catch (err) {
    expect(err).toBeInstanceOf(DormantError);
    const e = err as DormantError;
    expect(e.exitCode).toBe(2);
    expect(e.message).not.toMatch(/\n/);
    return e;
  }
  throw new Error('parsed without an error');
}

describe('a file that is not a credential report', () => {
  it('the README: named as not a report, quoting its first line, never "malformed CSV"', () => {
    const e = errorOf(readFileSync(README_PATH, 'utf8'), 'README.md');
    expect(e.message).toBe(
      `README.md is not an IAM credential report: its first line ('# dormant') lacks the user, arn, … columns; ${HINT}`,
    );
  });

  it('a CSV with another header: the same, whatever its body', () => {
    const text = 'name,email,team\nalice,alice@example.com,"ops\nbob,"bob@example.com",dev\n';
    const e = errorOf(text, 'people.csv');
    expect(e.message).toBe(
      `people.csv is not an IAM credential report: its first line ('name,email,team') lacks the user, arn, … columns; ${HINT}`,
    );
  });

  it('a CSV with user but no arn column: not a report', () => {
    const e = errorOf('user,created\nalice,2024-01-01\n', 'users.csv');
    expect(e.message).toMatch(/^users\.csv is not an IAM credential report: its first line \('user,created'\)/);
  });

  it('a first line that is not CSV at all (an unterminated quote) is not a report either', () => {
    const e = errorOf('"{ "schemaVersion": 1,\n  "findings": []\n}\n', 'findings.json');
    expect(e.message).toMatch(
      /^findings\.json is not an IAM credential report: its first line \('"\{ "schemaVersion": 1,'\)/,
    );
  });

  it('quotes at most 60 characters of a long first line, and shows control characters as ?', () => {
    const line = `\u001b[31mred\u202e${'x'.repeat(100)}`;
    const e = errorOf(`${line}\nmore\n`, 'odd.txt');
    const quoted = /its first line \('(.*)'\) lacks/.exec(e.message)![1]!;
    expect(quoted).toBe(`?[31mred?${'x'.repeat(51)}…`);
    expect([...quoted.slice(0, -1)]).toHaveLength(60);
    // eslint-disable-next-line no-control-regex
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
  });

  it('skips a BOM and leading blank lines before reading the first line', () => {
    const e = errorOf('\uFEFF\n\r\nhello world\n', 'blank.txt');
    expect(e.message).toMatch(/its first line \('hello world'\)/);
  });

  it('a header with user and arn but missing columns keeps naming the missing columns', () => {
    const header = readFileSync(REPORT_PATH, 'utf8').split('\n')[0]!.replace(',access_key_1_last_used_date', '');
    const e = errorOf(`${header}\n`, 'short.csv');
    expect(e.message).toBe(
      "short.csv: not a credential report, missing column(s) access_key_1_last_used_date; export it with 'aws iam get-credential-report'",
    );
  });

  it('an empty file is still an empty report', () => {
    expect(errorOf('', 'empty.csv').message).toBe('empty.csv: the credential report is empty; export it again');
    expect(errorOf('\uFEFF\n\n', 'empty.csv').message).toBe(
      'empty.csv: the credential report is empty; export it again',
    );
  });

  it('a real report still parses', () => {
    const parsed = parseCredentialReport(readFileSync(REPORT_PATH, 'utf8'), 'credential-report.csv');
    expect(parsed.identities.length).toBeGreaterThan(0);
  });
});

describe('dormant scan --from-report on a file that is not a report', () => {
  it('README.md: exit 2, one line, the file named as not a credential report', async () => {
    const r = await runCli(['scan', '--from-report', README_PATH], { cwd: dir });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      `dormant: ${README_PATH} is not an IAM credential report: its first line ('# dormant') lacks the user, arn, … columns; ${HINT}`,
      '',
    ]);
  });

  it('a CSV with the wrong header: exit 2, one line', async () => {
    const path = join(dir, 'people.csv');
    writeFileSync(path, 'name,email\nalice,alice@example.com\n');
    const r = await runCli(['scan', '--from-report', path], { cwd: dir });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr.split('\n')).toEqual([
      `dormant: ${path} is not an IAM credential report: its first line ('name,email') lacks the user, arn, … columns; ${HINT}`,
      '',
    ]);
  });
});
