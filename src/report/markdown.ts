/** A Markdown report for tickets and pull requests. */
import type { ScanResult } from '../model/finding.js';
import { sourceLine, summaryLine } from './summary.js';

function cell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdown(result: ScanResult): string {
  const lines = [
    '# dormant scan',
    '',
    `**${summaryLine(result)}**`,
    '',
    `${sourceLine(result)} · generated ${result.generatedAt}`,
    '',
  ];
  if (result.findings.length === 0) {
    lines.push('No findings.');
  } else {
    // One provider keeps the original columns; several add where each finding lives.
    const where = new Set(result.findings.map((f) => `${f.provider ?? 'aws'}|${f.account}`)).size > 1;
    lines.push(
      `| ${where ? 'Provider | Account | ' : ''}User | Rule | Severity | Credential | Days | Action | Finding |`,
    );
    lines.push(`|${where ? '---|---|' : ''}---|---|---|---|---|---|---|`);
    for (const f of result.findings) {
      const lead = where ? `| ${f.provider ?? 'aws'} | ${cell(f.account)} ` : '';
      lines.push(
        `${lead}| ${cell(f.identityName)} | ${f.ruleId} ${f.rule} | ${f.severity} | ${cell(f.credentialId ?? '')} | ${f.daysSinceActivity ?? ''} | ${f.recommendedAction} | ${cell(f.message)} |`,
      );
    }
  }
  const exempt = result.identities.filter((i) => i.state === 'exempt');
  if (exempt.length > 0) {
    lines.push('', '## Exempt', '');
    for (const i of exempt) lines.push(`- ${cell(i.name)}: ${cell(i.exemptReason ?? '')}`);
  }
  if (result.warnings.length > 0) {
    lines.push('', '## Warnings', '');
    for (const w of result.warnings) lines.push(`- ${cell(w)}`);
  }
  return `${lines.join('\n')}\n`;
}
