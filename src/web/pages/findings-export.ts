/**
 * The findings view as CSV or JSON, for download. CSV cells a spreadsheet would run as a
 * formula (leading = + - @, tab or CR) are neutralised, as in the CLI's CSV report.
 */
import { stringify } from 'csv-stringify/sync';
import type { Finding } from '../../model/finding.js';
import { CSV_COLUMNS, findingCells, neutralizeFormula } from '../../report/csv.js';
import type { FindingState } from '../../store/dashboard.js';

export const EXPORT_CSV_COLUMNS = [...CSV_COLUMNS, 'state'] as const;

export function findingsCsv(rows: { finding: Finding; state: FindingState }[]): string {
  const body = rows.map(({ finding, state }) => [...findingCells(finding), neutralizeFormula(state)]);
  return stringify([[...EXPORT_CSV_COLUMNS], ...body]);
}

export function findingsJson(
  scan: { id: string; createdAt: string },
  rows: { finding: Finding; state: FindingState }[],
): string {
  return `${JSON.stringify(
    {
      scanId: scan.id,
      scannedAt: scan.createdAt,
      count: rows.length,
      findings: rows.map(({ finding, state }) => ({ ...finding, state })),
    },
    null,
    2,
  )}\n`;
}
