// Covers parseCredentialReport on real-format credential reports: sentinels, booleans, the root row, column order, and bad input.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import { evaluate } from '../../engine/scan.js';
import { UsageError } from '../../errors.js';
import type { Credential, Identity } from '../../model/identity.js';
import { DAY_MS, isoSeconds } from '../../model/time.js';
import {
  type AwsIdentity,
  KEY_TRACKING_SINCE,
  PASSWORD_TRACKING_SINCE,
  parseCredentialReport,
  parseUserArn,
} from './aws-credential-report.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, 'utf8');
}

const HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

/** Throws and returns the error, failing the test when nothing is thrown. */
function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

function byName(identities: Identity[], name: string): Identity {
  const found = identities.find((i) => i.name === name);
  if (!found) throw new Error(`no identity named ${name}`);
  return found;
}

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const EXPECTED_REAL: AwsIdentity[] = [
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/alice.chen',
    name: 'alice.chen',
    lastSignInAt: '2024-03-05T10:11:12Z',
    passwordLastUsedAt: '2024-03-05T10:11:12Z',
    path: '/',
    createdAt: '2021-01-15T09:30:00Z',
    mfaActive: true,
    credentials: [
      {
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: '2023-06-01T08:00:00Z',
        lastUse: 'used',
        lastUsedAt: '2024-03-05T10:11:12Z',
      },
      {
        kind: 'access-key',
        id: null,
        handle: 'access_key_1',
        slot: 'access_key_1',
        status: 'Active',
        enabled: true,
        createdAt: '2023-01-10T12:00:00Z',
        lastUse: 'used',
        lastUsedAt: '2024-03-04T22:01:02Z',
        lastUsedRegion: 'us-east-1',
        lastUsedService: 's3',
      },
      {
        kind: 'access-key',
        id: null,
        handle: 'access_key_2',
        slot: 'access_key_2',
        status: 'Inactive',
        enabled: false,
        createdAt: '2022-05-05T05:05:05Z',
        lastUse: 'used',
        lastUsedAt: '2023-02-02T02:02:02Z',
        lastUsedRegion: 'eu-west-1',
        lastUsedService: 'ec2',
      },
    ],
  },
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/bob.kim',
    name: 'bob.kim',
    path: '/',
    createdAt: '2022-02-02T10:00:00Z',
    mfaActive: false,
    credentials: [
      // no_information on a password set after tracking began: never used.
      {
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: '2022-02-02T10:05:00Z',
        lastUse: 'never',
        lastUsedAt: null,
      },
    ],
  },
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/legacy.ops',
    name: 'legacy.ops',
    path: '/',
    createdAt: '2013-02-11T16:20:00Z',
    mfaActive: false,
    credentials: [
      // no_information on credentials older than tracking: not "never", but "not since tracking began".
      {
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: '2013-06-03T09:00:00Z',
        lastUse: 'before-tracking',
        lastUsedAt: null,
        trackingSince: PASSWORD_TRACKING_SINCE,
      },
      {
        kind: 'access-key',
        id: null,
        handle: 'access_key_1',
        slot: 'access_key_1',
        status: 'Active',
        enabled: true,
        createdAt: '2014-01-20T11:00:00Z',
        lastUse: 'before-tracking',
        lastUsedAt: null,
        trackingSince: KEY_TRACKING_SINCE,
        lastUsedRegion: null,
        lastUsedService: null,
      },
    ],
  },
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/service-accounts/svc-partner-sftp',
    name: 'svc-partner-sftp',
    path: '/service-accounts/',
    createdAt: '2020-07-07T07:00:00Z',
    mfaActive: false,
    credentials: [
      // not_supported: unknown, never read as "never used".
      {
        kind: 'access-key',
        id: null,
        handle: 'access_key_1',
        slot: 'access_key_1',
        status: 'Active',
        enabled: true,
        createdAt: '2020-07-07T07:07:07Z',
        lastUse: 'unknown',
        lastUsedAt: null,
        lastUsedRegion: null,
        lastUsedService: null,
      },
    ],
  },
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/carol.diaz',
    name: 'carol.diaz',
    path: '/',
    createdAt: '2023-03-03T03:03:03Z',
    // mfa_active not_supported: no mfaActive property at all.
    credentials: [
      {
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: null,
        lastUse: 'unknown',
        lastUsedAt: null,
      },
    ],
  },
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/dave.wu',
    name: 'dave.wu',
    path: '/',
    createdAt: '2024-01-01T00:00:00Z',
    mfaActive: false,
    credentials: [
      {
        kind: 'access-key',
        id: null,
        handle: 'access_key_1',
        slot: 'access_key_1',
        status: 'Active',
        enabled: true,
        createdAt: '2024-01-02T09:15:00Z',
        lastUse: 'never',
        lastUsedAt: null,
        lastUsedRegion: null,
        lastUsedService: null,
      },
      {
        kind: 'access-key',
        id: null,
        handle: 'access_key_2',
        slot: 'access_key_2',
        status: 'Active',
        enabled: true,
        createdAt: '2024-02-02T09:15:00Z',
        lastUse: 'never',
        lastUsedAt: null,
        lastUsedRegion: null,
        lastUsedService: null,
      },
    ],
  },
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/contractors/ops,audit',
    name: 'ops,audit',
    lastSignInAt: '2024-02-29T23:59:59Z',
    passwordLastUsedAt: '2024-02-29T23:59:59Z',
    path: '/contractors/',
    createdAt: '2023-09-09T09:09:09Z',
    mfaActive: true,
    credentials: [
      {
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: '2023-09-09T09:10:00Z',
        lastUse: 'used',
        lastUsedAt: '2024-02-29T23:59:59Z',
      },
    ],
  },
  {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: 'arn:aws:iam::123456789012:user/mei.lin+ops=eu@example.com',
    name: 'mei.lin+ops=eu@example.com',
    lastSignInAt: '2024-03-01T12:00:00Z',
    passwordLastUsedAt: '2024-03-01T12:00:00Z',
    path: '/',
    createdAt: '2023-10-10T10:10:10Z',
    mfaActive: true,
    credentials: [
      {
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: '2023-10-10T10:11:00Z',
        lastUse: 'used',
        lastUsedAt: '2024-03-01T12:00:00Z',
      },
    ],
  },
];

describe('parseCredentialReport on a real-format report', () => {
  const parsed = parseCredentialReport(fixture('report-real.csv'), 'report-real.csv');

  it('reads every user row into the expected identities', () => {
    expect(parsed.identities).toEqual(EXPECTED_REAL);
  });

  it('excludes the <root_account> row but records its account', () => {
    expect(parsed.identities.map((i) => i.name)).not.toContain('<root_account>');
    expect(parsed.identities.some((i) => i.id.endsWith(':root'))).toBe(false);
    expect(parsed.accounts).toEqual(['123456789012']);
  });

  it('records the account from a report that holds only the root row', () => {
    const text = fixture('report-real.csv').split('\n').slice(0, 2).join('\n');
    const onlyRoot = parseCredentialReport(text, 'root-only.csv');
    expect(onlyRoot.identities).toEqual([]);
    expect(onlyRoot.accounts).toEqual(['123456789012']);
  });

  it('never turns a sentinel into a date', () => {
    for (const identity of parsed.identities) {
      if (identity.createdAt !== null) expect(identity.createdAt).toMatch(ISO_SECONDS);
      for (const c of identity.credentials) {
        if (c.createdAt !== null) expect(c.createdAt).toMatch(ISO_SECONDS);
        if (c.lastUsedAt !== null) expect(c.lastUsedAt).toMatch(ISO_SECONDS);
        // A last-use date exists exactly when the credential was used.
        expect(c.lastUsedAt !== null).toBe(c.lastUse === 'used');
        for (const v of [c.lastUsedRegion, c.lastUsedService]) {
          if (v !== undefined && v !== null)
            expect(v.toLowerCase()).not.toMatch(/^(n\/a|no_information|not_supported)$/);
        }
      }
    }
  });

  it("keeps not_supported as 'unknown', never as 'never'", () => {
    const sftp = byName(parsed.identities, 'svc-partner-sftp');
    expect(sftp.credentials.map((c) => c.lastUse)).toEqual(['unknown']);
    const carol = byName(parsed.identities, 'carol.diaz');
    expect(carol.credentials.map((c) => [c.kind, c.lastUse])).toEqual([['password', 'unknown']]);
  });

  it('warns when password_enabled is not reported', () => {
    expect(parsed.warnings).toEqual([
      'carol.diaz: password_enabled is not reported; console password activity unknown',
    ]);
  });

  it('compares booleans case-insensitively (TRUE, true, True, FALSE, False, false)', () => {
    const alice = byName(parsed.identities, 'alice.chen');
    expect(alice.credentials.map((c) => c.status)).toEqual(['enabled', 'Active', 'Inactive']);
    const dave = byName(parsed.identities, 'dave.wu');
    expect(dave.credentials.map((c) => c.status)).toEqual(['Active', 'Active']);
    const sftp = byName(parsed.identities, 'svc-partner-sftp');
    expect(sftp.credentials.some((c) => c.kind === 'password')).toBe(false);
  });

  it('reads a quoted name and ARN containing a comma, and the path from the ARN', () => {
    const ops = byName(parsed.identities, 'ops,audit');
    expect(ops.id).toBe('arn:aws:iam::123456789012:user/contractors/ops,audit');
    expect(ops.path).toBe('/contractors/');
  });
});

describe('parseCredentialReport is independent of column order and encoding', () => {
  const canonical = parseCredentialReport(fixture('report-real.csv'), 'report-real.csv');

  it('gives identical identities for reordered and extra columns', () => {
    const reordered = parseCredentialReport(fixture('report-reordered.csv'), 'report-reordered.csv');
    expect(reordered.identities).toEqual(canonical.identities);
    expect(reordered.accounts).toEqual(canonical.accounts);
    expect(reordered.warnings).toEqual(canonical.warnings);
  });

  it('gives identical identities with a byte-order mark and CRLF line ends', () => {
    const text = `\uFEFF${fixture('report-real.csv').replace(/\n/g, '\r\n')}`;
    expect(parseCredentialReport(text, 'crlf.csv').identities).toEqual(canonical.identities);
  });

  it('reads header names regardless of case and surrounding spaces', () => {
    const [header, ...rest] = fixture('report-real.csv').split('\n');
    const shouty = (header ?? '')
      .split(',')
      .map((h) => ` ${h.toUpperCase()} `)
      .join(',');
    expect(parseCredentialReport([shouty, ...rest].join('\n'), 'upper.csv').identities).toEqual(canonical.identities);
  });
});

describe('parseCredentialReport rejects bad input with a one-line UsageError (exit 2)', () => {
  function expectOneLine(err: UsageError): void {
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toContain('\n');
  }

  it('names the missing column and how to get a real report', () => {
    const err = errorOf(() => parseCredentialReport(fixture('report-missing-column.csv'), 'report-missing-column.csv'));
    expectOneLine(err);
    expect(err.message).toBe(
      "report-missing-column.csv: not a credential report, missing column(s) access_key_1_last_used_date; export it with 'aws iam get-credential-report'",
    );
  });

  it('reports an unterminated quote with the file and line', () => {
    const err = errorOf(() => parseCredentialReport(fixture('report-malformed.csv'), 'report-malformed.csv'));
    expectOneLine(err);
    expect(err.message).toMatch(/^report-malformed\.csv: malformed CSV at line \d+ \(Quote Not Closed/);
    expect(err.message).toMatch(/; export the report again$/);
  });

  it('reports a row with the wrong number of columns with the file and line', () => {
    const err = errorOf(() => parseCredentialReport(fixture('report-short-row.csv'), 'report-short-row.csv'));
    expectOneLine(err);
    expect(err.message).toMatch(/^report-short-row\.csv: malformed CSV at line 3 /);
    expect(err.message).toContain('expect 22, got 21');
    expect(err.message).toMatch(/; export the report again$/);
  });

  it('names the file, line and column of a value that is neither a date nor a sentinel', () => {
    const err = errorOf(() => parseCredentialReport(fixture('report-bad-date.csv'), 'report-bad-date.csv'));
    expectOneLine(err);
    expect(err.message).toBe(
      "report-bad-date.csv line 4, column password_last_used: '2024-03-05 10:11:12' is neither a timestamp nor N/A, no_information or not_supported; export the report again",
    );
  });

  it('rejects a boolean that is not true or false', () => {
    const row =
      'bob.kim,arn:aws:iam::123456789012:user/bob.kim,2022-02-02T10:00:00+00:00,yes,no_information,2022-02-02T10:05:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';
    const err = errorOf(() => parseCredentialReport(`${HEADER}\n${row}\n`, 'r.csv'));
    expectOneLine(err);
    expect(err.message).toBe(
      "r.csv line 2, column password_enabled: 'yes' is not true or false; export the report again",
    );
  });

  it('rejects an ARN that is not an IAM user ARN', () => {
    const row =
      'bob.kim,arn:aws:iam::123456789012:role/bob.kim,2022-02-02T10:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';
    const err = errorOf(() => parseCredentialReport(`${HEADER}\n${row}\n`, 'r.csv'));
    expectOneLine(err);
    expect(err.message).toContain(
      "r.csv line 2, column arn: 'arn:aws:iam::123456789012:role/bob.kim' is not an IAM user ARN",
    );
  });

  it('rejects an empty file', () => {
    const err = errorOf(() => parseCredentialReport('', 'empty.csv'));
    expectOneLine(err);
    expect(err.message).toBe('empty.csv: the credential report is empty; export it again');
  });

  it('rejects an impossible calendar date (2024-02-30) instead of rolling it over to March', () => {
    const row =
      'bob.kim,arn:aws:iam::123456789012:user/bob.kim,2024-02-30T10:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';
    const err = errorOf(() => parseCredentialReport(`${HEADER}\n${row}\n`, 'r.csv'));
    expectOneLine(err);
    expect(err.message).toContain('r.csv line 2, column user_creation_time');
  });

  it('names the physical line of a bad value when the file has a blank line before it', () => {
    const good =
      'alice.chen,arn:aws:iam::123456789012:user/alice.chen,2021-01-15T09:30:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';
    const bad =
      'bob.kim,arn:aws:iam::123456789012:user/bob.kim,yesterday,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';
    // Line 1 header, line 2 alice, line 3 blank, line 4 bob.
    const err = errorOf(() => parseCredentialReport(`${HEADER}\n${good}\n\n${bad}\n`, 'r.csv'));
    expect(err.message).toContain('r.csv line 4, column user_creation_time');
  });
});

describe('parseCredentialReport keeps what the report knows about removed or unknown credentials', () => {
  const NOW = new Date('2026-11-22T12:00:00Z');
  const ago = (days: number): string => isoSeconds(NOW.getTime() - days * DAY_MS).replace('Z', '+00:00');

  // AWS keeps password_last_used after the login profile is deleted (see prowler-cloud/prowler#231).
  it.each([
    { signedIn: 10, created: 200, expected: [] },
    { signedIn: 400, created: 500, expected: ['DORMANT-AWS-001'] },
  ])(
    'counts the sign-in $signedIn days ago of a user whose console password was removed (never unused-user)',
    ({ signedIn, created, expected }) => {
      const row = `pat.lee,arn:aws:iam::123456789012:user/pat.lee,${ago(created)},false,${ago(signedIn)},N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;
      const { identities } = parseCredentialReport(`${HEADER}\n${row}\n`, 'r.csv');
      const [result] = evaluate(identities, parseConfig({}), NOW);
      expect(result?.hits.map((h) => h.rule.id)).toEqual(expected);
    },
  );

  it('keeps a slot marked active whose rotation date is not_supported, as a key of unknown age', () => {
    const row = `svc-x,arn:aws:iam::123456789012:user/svc-x,${ago(400)},false,N/A,N/A,N/A,false,true,not_supported,not_supported,not_supported,not_supported,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`;
    const { identities } = parseCredentialReport(`${HEADER}\n${row}\n`, 'r.csv');
    const keys = identities[0]?.credentials.filter((c): c is Credential => c.kind === 'access-key') ?? [];
    expect(keys.map((k) => [k.status, k.createdAt])).toEqual([['Active', null]]);
    // And so it is never an "unused user with no access keys" (delete-user).
    const [result] = evaluate(identities, parseConfig({}), NOW);
    expect(result?.hits.map((h) => h.rule.id)).not.toContain('DORMANT-AWS-003');
  });
});

describe('parseUserArn', () => {
  it.each([
    ['arn:aws:iam::123456789012:user/alice', { account: '123456789012', path: '/' }],
    ['arn:aws:iam::123456789012:user/division/team/alice', { account: '123456789012', path: '/division/team/' }],
    ['arn:aws-us-gov:iam::123456789012:user/alice', { account: '123456789012', path: '/' }],
    ['arn:aws:iam::123456789012:root', null],
    ['arn:aws:iam::123456789012:role/alice', null],
    ['arn:aws:iam::12345:user/alice', null],
  ])('%s', (arn, expected) => {
    expect(parseUserArn(arn)).toEqual(expected);
  });
});

describe('parseCredentialReport with unquoted commas in user names', () => {
  const header =
    'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';
  const tail =
    '2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A';

  it('rebuilds the name and ARN when both carry the same unquoted commas', () => {
    const text = `${header}\nops+ci=bot,x.y@z,w-1,arn:aws:iam::123456789012:user/team/ops+ci=bot,x.y@z,w-1,${tail}\n`;
    const parsed = parseCredentialReport(text, 'r.csv');
    expect(parsed.identities.map((i) => [i.name, i.id, i.path])).toEqual([
      ['ops+ci=bot,x.y@z,w-1', 'arn:aws:iam::123456789012:user/team/ops+ci=bot,x.y@z,w-1', '/team/'],
    ]);
  });

  it('still rejects extra fields that do not rebuild into a matching name and ARN', () => {
    const text = `${header}\nalice,extra,arn:aws:iam::123456789012:user/alice,other,${tail}\n`;
    expect(() => parseCredentialReport(text, 'r.csv')).toThrow(
      'r.csv: malformed CSV at line 2 (wrong number of fields: expect 22, got 24); export the report again',
    );
  });
});
