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
  return `source: ${source}${asOf} · window ${result.settings.inactiveDays} days · accounts ${result.accounts.join(', ') || '(unknown)'}`;
}
