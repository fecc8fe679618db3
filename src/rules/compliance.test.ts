// The compliance references: the new frameworks (issue 13) with their clauses, and the README's
// compliance table checked against the code's, rule by rule, so the two cannot drift.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INACTIVE_ACCOUNTS, KEY_ROTATION, UNUSED_CREDENTIALS } from './compliance.js';
import { RULES } from './index.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const RULE_ID = /DORMANT-[A-Z]+-\d{3}/g;

interface Row {
  ids: string[];
  references: string[];
  line: string;
}

/** The rows of the table that follows "Compliance references (one table in …)". */
function readmeComplianceRows(): Row[] {
  const lines = README.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Compliance references (one table in `src/rules/compliance.ts`'));
  expect(start, 'README: the "Compliance references (one table in `src/rules/compliance.ts`…" line').toBeGreaterThan(
    -1,
  );
  let i = start + 1;
  while (lines[i]?.trim() === '') i++;
  const table: string[] = [];
  while (lines[i]?.startsWith('|')) table.push(lines[i++]!);
  // Header, separator, then the rows.
  expect(table.length, 'README compliance table').toBeGreaterThan(2);
  return table.slice(2).map((line) => {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    return {
      ids: cells[0]?.match(RULE_ID) ?? [],
      references: (cells[1] ?? '').split(';').map((r) => r.trim()),
      line,
    };
  });
}

/** What the README row should say for these rules: copy it from a failure message. */
function expectedRow(ids: string[], references: readonly string[]): string {
  return `| ${ids.join(', ')} | ${references.join('; ')} |`;
}

describe('compliance references', () => {
  it('name the clause of APRA CPS 234, MAS TRM and GDPR for unused credentials and inactive accounts', () => {
    for (const table of [UNUSED_CREDENTIALS, INACTIVE_ACCOUNTS] as readonly (readonly string[])[]) {
      expect(table).toContain('APRA CPS 234 para 21');
      expect(table).toContain('MAS TRM 2021 9.1');
      expect(table).toContain('GDPR Art. 32(1)(b)');
    }
    // None of them is about AWS, so every provider's inactive accounts carry them.
    expect(INACTIVE_ACCOUNTS).toEqual(UNUSED_CREDENTIALS.filter((r) => !r.includes('AWS')));
    expect(KEY_ROTATION).not.toContain('GDPR Art. 32(1)(b)');
  });

  it('are separable: no reference holds the README separator or a table bar', () => {
    for (const r of [...UNUSED_CREDENTIALS, ...KEY_ROTATION]) expect(r).not.toMatch(/[;|]/);
  });

  it("the README table lists every rule's references exactly, and no rule that does not exist", () => {
    const rows = readmeComplianceRows();
    const known = new Set(RULES.map((r) => r.id));
    for (const row of rows) {
      expect(row.ids.length, `a README row names no rule id: ${row.line}`).toBeGreaterThan(0);
      for (const id of row.ids) expect(known.has(id), `README names ${id}, which is not a rule`).toBe(true);
    }
    for (const rule of RULES) {
      const matching = rows.filter((r) => r.ids.includes(rule.id));
      expect(
        matching.map((r) => r.line),
        `${rule.id} must be in exactly one README row`,
      ).toHaveLength(1);
      const row = matching[0]!;
      const sameRefs = RULES.filter((r) => row.ids.includes(r.id));
      expect(
        row.references,
        `${rule.id}: the README row should read\n${expectedRow(
          sameRefs.map((r) => r.id),
          rule.compliance,
        )}`,
      ).toEqual([...rule.compliance]);
    }
  });
});
