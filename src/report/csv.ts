/**
 * One row per finding. Cells that a spreadsheet would run as a formula (leading = + - @,
 * tab or CR) are prefixed with a quote: IAM names may contain `+=,.@_-`.
 */
import { stringify } from 'csv-stringify/sync';
import type { Finding, ScanResult } from '../model/finding.js';

export const CSV_COLUMNS = [
  'ruleId',
  'rule',
  'severity',
  'account',
  'identityName',
  'identityId',
  'credentialId',
  'lastActivityAt',
  'daysSinceActivity',
  'recommendedAction',
  'message',
  'compliance',
  'findingId',
  'provider',
] as const;

export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** One finding as the cells of CSV_COLUMNS, formulas neutralised (the CLI report and the dashboard's export). */
export function findingCells(f: Finding): string[] {
  return [
    f.ruleId,
    f.rule,
    f.severity,
    f.account,
    f.identityName,
    f.identityId,
    f.credentialId ?? '',
    f.lastActivityAt ?? '',
    f.daysSinceActivity === null ? '' : String(f.daysSinceActivity),
    f.recommendedAction,
    f.message,
    (f.compliance ?? []).join('; '),
    f.id,
    f.provider ?? 'aws',
  ].map(neutralizeFormula);
}

export function renderCsv(result: ScanResult): string {
  return stringify([[...CSV_COLUMNS], ...result.findings.map(findingCells)]);
}
