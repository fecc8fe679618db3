/** The one-line summary shared by the table and markdown formats. */
import type { ScanResult } from '../model/finding.js';

export function summaryLine(result: ScanResult): string {
  const s = result.summary;
  return `${s.identities} users · ${s.inactive} inactive · ${s.exempt} exempt · ${s.findings} findings`;
}

export function sourceLine(result: ScanResult): string {
  const asOf = result.dataAsOf ? `, data as of ${result.dataAsOf}` : '';
  const source =
    result.providers && result.providers.length > 1
      ? result.providers.map((p) => `${p.provider} ${p.source}`).join(', ')
      : result.source;
  // An Organization can have hundreds of accounts: past a handful, the count (the JSON lists them).
  const accounts =
    result.accounts.length > 8
      ? `${result.accounts.length} accounts`
      : `accounts ${result.accounts.join(', ') || '(unknown)'}`;
  // A partial result is never presented as a whole one (DESIGN §3).
  const failed = result.failures?.length
    ? ` · PARTIAL: ${result.failures.length} account(s) could not be read (${result.failures.map((f) => f.account).join(', ')})`
    : '';
  const skipped = result.skipped?.length ? ` · ${result.skipped.length} account(s) skipped (not active)` : '';
  return `source: ${source}${asOf} · window ${result.settings.inactiveDays} days · ${accounts}${failed}${skipped}`;
}
