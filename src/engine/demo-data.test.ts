// Covers the shipped demo data: examples/credential-report.csv with examples/dormant.yml gives exactly the verdicts in examples/EXPECTED.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { parseCredentialReport } from '../providers/aws/aws-credential-report.js';
import { evaluate } from './scan.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const NOW = new Date('2026-11-22T12:00:00Z');
const USER_LEVEL = new Set(['DORMANT-AWS-001', 'DORMANT-AWS-003']);

interface ExpectedRow {
  name: string;
  verdict: string;
  state: string;
}

/** The user table of EXPECTED.md: rows whose first cell is a backticked user name. */
function readExpected(): ExpectedRow[] {
  const rows: ExpectedRow[] = [];
  for (const line of readFileSync(`${EXAMPLES}EXPECTED.md`, 'utf8').split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|([^|]+)\|([^|]+)\|/.exec(line);
    if (m) rows.push({ name: m[1]!, verdict: m[2]!.trim(), state: m[3]!.trim() });
  }
  return rows;
}

const expected = readExpected();
const report = parseCredentialReport(
  readFileSync(`${EXAMPLES}credential-report.csv`, 'utf8'),
  'examples/credential-report.csv',
);
const { config } = loadConfig(`${EXAMPLES}dormant.yml`);
const results = new Map(evaluate(report.identities, config, NOW).map((e) => [e.identity.name, e]));

function resultFor(name: string): NonNullable<ReturnType<typeof results.get>> {
  const result = results.get(name);
  if (!result) throw new Error(`${name} is in EXPECTED.md but not in the report`);
  return result;
}

/** The same notation as EXPECTED.md: `active`, `exempt`, or rule ids with the key slot. */
function verdictOf(name: string): string {
  const { hits, exemptReason } = resultFor(name);
  if (exemptReason !== null) return 'exempt';
  if (hits.length === 0) return 'active';
  return hits
    .map(({ rule, hit }) =>
      hit.credential?.kind === 'access-key'
        ? `${rule.id} (${hit.credential.id ?? hit.credential.handle ?? '?'})`
        : rule.id,
    )
    .join(', ');
}

function stateOf(name: string): string {
  const { hits, exemptReason } = resultFor(name);
  if (exemptReason !== null) return 'exempt';
  return hits.some((h) => USER_LEVEL.has(h.rule.id)) ? 'inactive' : 'active';
}

describe('demo data (examples/)', () => {
  it('parses the report: 46 users, the root row left out, one account, no warnings', () => {
    expect(report.identities).toHaveLength(46);
    expect(report.identities.map((i) => i.name)).not.toContain('<root_account>');
    expect(report.accounts).toEqual(['123456789012']);
    expect(report.warnings).toEqual([]);
  });

  it('loads examples/dormant.yml with the 90-day window and the breakglass exemption', () => {
    expect(config.inactiveDays).toBe(90);
    expect(config.exempt.users).toEqual(['breakglass-*']);
  });

  it('EXPECTED.md lists every user of the report exactly once', () => {
    const listed = expected.map((r) => r.name);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(report.identities.map((i) => i.name).sort());
  });

  it.each(expected)('$name: $verdict', ({ name, verdict, state }) => {
    expect(verdictOf(name)).toBe(verdict);
    expect(stateOf(name)).toBe(state);
  });

  it('exempts the breakglass users by config, with the reason', () => {
    for (const name of ['breakglass-admin', 'breakglass-readonly']) {
      expect(resultFor(name).exemptReason).toBe("config exempt.users matches 'breakglass-*'");
    }
  });

  it('puts the boundary users on the right side of the window to the second', () => {
    expect(resultFor('raj.patel').hits).toEqual([]);
    const boundary = ['li.wei', 'omar.farouk'].map((name) =>
      resultFor(name).hits.map(({ rule, hit }) => [rule.id, hit.lastActivityAt, hit.daysSinceActivity, hit.message]),
    );
    expect(boundary).toEqual([
      [
        [
          'DORMANT-AWS-001',
          '2026-08-24T12:00:00Z',
          90,
          'User li.wei has had no activity for 90 days (window 90 days).',
        ],
        [
          'DORMANT-AWS-004',
          '2026-08-24T12:00:00Z',
          90,
          'Console password of li.wei was last used 90 days ago (window 90 days).',
        ],
      ],
      [
        [
          'DORMANT-AWS-001',
          '2026-08-23T12:00:00Z',
          91,
          'User omar.farouk has had no activity for 91 days (window 90 days).',
        ],
        [
          'DORMANT-AWS-004',
          '2026-08-23T12:00:00Z',
          91,
          'Console password of omar.farouk was last used 91 days ago (window 90 days).',
        ],
      ],
    ]);
  });

  it('keeps most of the account active, as in a real account', () => {
    const states = expected.map((r) => r.state);
    expect(states.filter((s) => s === 'active').length).toBeGreaterThan(expected.length / 2);
    expect(states.filter((s) => s === 'exempt')).toHaveLength(2);
  });
});
