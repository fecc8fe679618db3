/**
 * Parser for the IAM credential report CSV, shared by the AWS report source and the
 * offline file source. Columns are read by header name, never by position; booleans are
 * compared case-insensitively; the sentinels N/A, no_information and not_supported are
 * never read as dates (DESIGN §2).
 */
import { parse } from 'csv-parse/sync';
import type { Credential, Identity, LastUse } from '../../model/identity.js';
import { isoSeconds } from '../../model/time.js';
import { UsageError } from '../../errors.js';

/**
 * The names the scan document used before the model became provider-neutral, kept on AWS
 * identities so scripts reading them keep working (README "The JSON document"): `slot` is the
 * model's `handle`, `passwordLastUsedAt` its `lastSignInAt`. Nothing in dormant reads them.
 */
export interface AwsCredential extends Credential {
  slot?: string;
}
export interface AwsIdentity extends Identity {
  passwordLastUsedAt?: string | null;
  credentials: AwsCredential[];
}

export const ROOT_ROW = '<root_account>';

/** IAM began recording console sign-ins on this date; `no_information` means "not since". */
export const PASSWORD_TRACKING_SINCE = '2014-10-20T00:00:00Z';
/** IAM began recording access key use on this date. */
export const KEY_TRACKING_SINCE = '2015-04-22T00:00:00Z';

const REQUIRED = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
] as const;

const SENTINELS = ['n/a', 'no_information', 'not_supported'] as const;
type Sentinel = (typeof SENTINELS)[number];
type Cell = { date: string } | { sentinel: Sentinel };

export interface ParsedReport {
  identities: Identity[];
  accounts: string[];
  warnings: string[];
}

class RowReader {
  constructor(
    private readonly label: string,
    private readonly index: Map<string, number>,
    private readonly row: string[],
    private readonly line: number,
  ) {}

  fail(column: string, problem: string): never {
    throw new UsageError(`${this.label} line ${this.line}, column ${column}: ${problem}; export the report again`);
  }

  raw(column: string): string | undefined {
    const i = this.index.get(column);
    return i === undefined ? undefined : (this.row[i] ?? '').trim();
  }

  text(column: string): string {
    const v = this.raw(column);
    if (v === undefined || v === '') this.fail(column, 'empty value');
    return v;
  }

  cell(column: string): Cell {
    const v = this.text(column);
    const lower = v.toLowerCase();
    if ((SENTINELS as readonly string[]).includes(lower)) return { sentinel: lower as Sentinel };
    // Only full ISO 8601 timestamps are dates; anything else is a malformed report.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
      this.fail(column, `'${v}' is neither a timestamp nor N/A, no_information or not_supported`);
    }
    const ms = Date.parse(v);
    const [y, mo, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
    // Date.parse rolls 2024-02-30 over to March; a report never contains such a date.
    const calendarOk = mo >= 1 && mo <= 12 && d >= 1 && d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (Number.isNaN(ms) || !calendarOk) this.fail(column, `'${v}' is not a valid timestamp`);
    return { date: isoSeconds(ms) };
  }

  /** true / false in any case; null for a sentinel (no data). */
  bool(column: string): boolean | null {
    const v = this.text(column).toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    if ((SENTINELS as readonly string[]).includes(v)) return null;
    return this.fail(column, `'${v}' is not true or false`);
  }

  optionalText(column: string): string | null {
    const v = this.raw(column);
    if (v === undefined || v === '' || (SENTINELS as readonly string[]).includes(v.toLowerCase())) return null;
    return v;
  }
}

function dateOf(cell: Cell): string | null {
  return 'date' in cell ? cell.date : null;
}

/**
 * Read a last-used cell. N/A on an existing credential is AWS's "never used";
 * no_information means "not used since tracking began", which is "never used" only
 * when the credential was created after tracking began.
 */
function lastUseOf(
  cell: Cell,
  createdAt: string | null,
  trackingSince: string,
): Pick<Credential, 'lastUse' | 'lastUsedAt' | 'trackingSince'> {
  if ('date' in cell) return { lastUse: 'used', lastUsedAt: cell.date };
  if (cell.sentinel === 'n/a') return { lastUse: 'never', lastUsedAt: null };
  if (cell.sentinel === 'no_information') {
    if (createdAt !== null && Date.parse(createdAt) >= Date.parse(trackingSince)) {
      return { lastUse: 'never', lastUsedAt: null };
    }
    return { lastUse: 'before-tracking' as LastUse, lastUsedAt: null, trackingSince };
  }
  return { lastUse: 'unknown', lastUsedAt: null };
}

/** `arn:aws:iam::123456789012:user/division/alice` → account and path `/division/`. */
export function parseUserArn(arn: string): { account: string; path: string } | null {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):user(\/.*)$/.exec(arn);
  if (!m) return null;
  const resource = m[2]!;
  const lastSlash = resource.lastIndexOf('/');
  return { account: m[1]!, path: resource.slice(0, lastSlash + 1) };
}

/**
 * IAM user names may contain commas, and some writers (moto, hand-made exports) leave them
 * unquoted. With `user,arn` as the first columns a name with k commas adds k fields to each
 * of them; rebuild both and accept the row only if the ARN really ends with the name.
 */
function repairUnquotedName(header: string[], row: string[]): string[] | null {
  const extra = row.length - header.length;
  if (extra <= 0 || extra % 2 !== 0) return null;
  if (header[0]?.trim().toLowerCase() !== 'user' || header[1]?.trim().toLowerCase() !== 'arn') return null;
  const k = extra / 2;
  const user = row.slice(0, k + 1).join(',');
  const arn = row.slice(k + 1, 2 * k + 2).join(',');
  if (!arn.endsWith(`/${user}`)) return null;
  return [user, arn, ...row.slice(2 * k + 2)];
}

/** The columns of a header row that the parser needs and it lacks. */
function missingColumns(header: readonly string[]): string[] {
  const have = new Set(header.map((h) => h.trim().toLowerCase()));
  return REQUIRED.filter((c) => !have.has(c));
}

function notAReport(label: string, missing: readonly string[]): UsageError {
  return new UsageError(
    `${label}: not a credential report, missing column(s) ${missing.join(', ')}; export it with 'aws iam get-credential-report'`,
  );
}

/** At most `max` characters of `line`, control and bidi characters shown as `?`: safe to print. */
function preview(line: string, max = 60): string {
  // eslint-disable-next-line no-control-regex
  const safe = line.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/g, '?');
  const chars = [...safe];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : safe;
}

/** The first line that is not empty (the parser skips empty lines too), without splitting the whole text. */
function firstLine(text: string): string | undefined {
  const eol = /\r\n|\n|\r/g;
  let start = 0;
  for (;;) {
    const m = eol.exec(text);
    const end = m ? m.index : text.length;
    if (end > start) return text.slice(start, end);
    if (!m) return undefined;
    start = m.index + m[0].length;
  }
}

/**
 * Read the header before the body: a file that is not a credential report at all (a README, a
 * JSON document, another CSV) is said to be one, with what its first line holds, instead of
 * failing somewhere in its body as malformed CSV.
 */
function checkHeader(text: string, label: string): void {
  const first = firstLine(text.replace(/^\uFEFF/, ''));
  if (first === undefined) throw new UsageError(`${label}: the credential report is empty; export it again`);
  let header: string[] | undefined;
  // A report's header is a few hundred characters; a longer first line is something else.
  if (first.length <= 4096) {
    try {
      const records = parse(first, { relax_column_count: true, relax_quotes: true }) as string[][];
      header = records[0];
    } catch {
      header = undefined;
    }
  }
  const columns = new Set((header ?? []).map((h) => h.trim().toLowerCase()));
  if (!columns.has('user') || !columns.has('arn')) {
    throw new UsageError(
      `${label} is not an IAM credential report: its first line ('${preview(first)}') lacks the user, arn, … columns; export one with 'aws iam get-credential-report'`,
    );
  }
  const missing = missingColumns(header ?? []);
  if (missing.length > 0) throw notAReport(label, missing);
}

export function parseCredentialReport(text: string, label: string): ParsedReport {
  checkHeader(text, label);
  let rows: string[][];
  let lines: number[];
  try {
    const records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: false,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
    rows = records.map((r) => r.record);
    // The physical line where each record ends (blank lines are skipped, not counted away).
    lines = records.map((r) => r.info.lines);
  } catch (err) {
    const e = err as Error & { lines?: number };
    const at = e.lines !== undefined ? ` at line ${e.lines}` : '';
    throw new UsageError(`${label}: malformed CSV${at} (${e.message.split('\n')[0]}); export the report again`);
  }
  const header = rows[0];
  if (!header) throw new UsageError(`${label}: the credential report is empty; export it again`);
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length === header.length) continue;
    const repaired = repairUnquotedName(header, row);
    if (!repaired) {
      throw new UsageError(
        `${label}: malformed CSV at line ${lines[r] ?? r + 1} (wrong number of fields: expect ${header.length}, got ${row.length}); export the report again`,
      );
    }
    rows[r] = repaired;
  }
  const index = new Map(header.map((h, i) => [h.trim().toLowerCase(), i]));
  // checkHeader read the first line; a header the full parse reads differently is checked again.
  const missing = missingColumns(header);
  if (missing.length > 0) throw notAReport(label, missing);

  const identities: Identity[] = [];
  const accounts = new Set<string>();
  const warnings: string[] = [];
  for (let r = 1; r < rows.length; r++) {
    const reader: RowReader = new RowReader(label, index, rows[r]!, lines[r] ?? r + 1);
    const name = reader.text('user');
    const arn = reader.text('arn');
    if (name === ROOT_ROW) {
      // The root row is never a user; it only tells us the account.
      const m = /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(arn);
      if (m) accounts.add(m[1]!);
      continue;
    }
    const parsedArn = parseUserArn(arn);
    if (!parsedArn) reader.fail('arn', `'${arn}' is not an IAM user ARN`);
    accounts.add(parsedArn.account);
    const createdAt = dateOf(reader.cell('user_creation_time'));

    const credentials: AwsCredential[] = [];
    const passwordEnabled = reader.bool('password_enabled');
    // A sign-in is activity even if the password was removed since.
    const lastSignInAt = dateOf(reader.cell('password_last_used'));
    if (passwordEnabled === null) {
      warnings.push(`${name}: password_enabled is not reported; console password activity unknown`);
      credentials.push({
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: null,
        lastUsedAt: null,
        lastUse: 'unknown',
      });
    } else if (passwordEnabled) {
      const changed = dateOf(reader.cell('password_last_changed'));
      credentials.push({
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: changed,
        ...lastUseOf(reader.cell('password_last_used'), changed, PASSWORD_TRACKING_SINCE),
      });
    }

    for (const n of [1, 2]) {
      const slot = `access_key_${n}`;
      const rotatedCell = reader.cell(`${slot}_last_rotated`);
      const rotated = dateOf(rotatedCell);
      const active = reader.bool(`${slot}_active`);
      // A slot with no rotation date holds no key, unless it says the key is active: then it
      // is a key of unknown age, which must not make the user look keyless.
      if (rotated === null && active !== true) continue;
      credentials.push({
        kind: 'access-key',
        id: null,
        handle: slot,
        slot,
        status: active === true ? 'Active' : 'Inactive',
        enabled: active === true,
        createdAt: rotated,
        ...lastUseOf(reader.cell(`${slot}_last_used_date`), rotated, KEY_TRACKING_SINCE),
        lastUsedService: reader.optionalText(`${slot}_last_used_service`),
        lastUsedRegion: reader.optionalText(`${slot}_last_used_region`),
      });
      if (active === null) warnings.push(`${name}: ${slot}_active is not reported; treating the key as Inactive`);
    }

    const mfa = index.has('mfa_active') ? reader.bool('mfa_active') : null;
    identities.push({
      provider: 'aws',
      account: parsedArn.account,
      kind: 'user',
      id: arn,
      name,
      path: parsedArn.path,
      createdAt,
      credentials,
      ...(mfa === null ? {} : { mfaActive: mfa }),
      ...(lastSignInAt === null ? {} : { lastSignInAt, passwordLastUsedAt: lastSignInAt }),
    } satisfies AwsIdentity);
  }
  return { identities, accounts: [...accounts].sort(), warnings };
}
