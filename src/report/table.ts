/**
 * The terminal table: findings grouped by identity, and by provider and account when a scan
 * covers more than one; aligned, coloured when the terminal allows.
 */
import pc from 'picocolors';
import type { Finding, ScanResult, Severity } from '../model/finding.js';
import { sourceLine, summaryLine } from './summary.js';

export interface TableOptions {
  color: boolean;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

export function renderTable(result: ScanResult, options: TableOptions): string {
  const c = pc.createColors(options.color);
  const sev: Record<Severity, (s: string) => string> = { high: c.red, medium: c.yellow, low: c.cyan };
  const out: string[] = [];
  out.push(c.bold(summaryLine(result)));
  out.push(c.dim(sourceLine(result)));
  out.push('');
  const byUser = new Map<string, Finding[]>();
  for (const f of result.findings) {
    const list = byUser.get(f.identityId) ?? [];
    list.push(f);
    byUser.set(f.identityId, list);
  }
  if (byUser.size === 0) out.push(c.green('No findings.'));
  const ruleWidth = Math.max(0, ...result.findings.map((f) => f.ruleId.length + 1 + f.rule.length));
  const identities = new Map(result.identities.map((i) => [i.id, i]));
  const groups = new Set(result.findings.map((f) => `${f.provider ?? 'aws'} · ${f.account}`));
  let group: string | null = null;
  for (const [identityId, findings] of byUser) {
    const identity = identities.get(identityId);
    const here = `${findings[0]!.provider ?? 'aws'} · ${findings[0]!.account}`;
    if (groups.size > 1 && here !== group) {
      if (group !== null) out.push('');
      out.push(c.underline(here));
      group = here;
    }
    const last = identity?.lastActivityAt
      ? `last activity ${identity.lastActivityAt.slice(0, 10)}`
      : 'no known activity';
    const caller = identity?.isCaller
      ? c.magenta(' (dormant runs as this user: never acted on)')
      : identity?.protectedReason
        ? c.magenta(` (protected, ${identity.protectedReason}: never acted on)`)
        : '';
    out.push(`${c.bold(findings[0]!.identityName)} ${c.dim(`${identity?.path ?? ''} · ${last}`)}${caller}`);
    for (const f of findings) {
      out.push(
        `  ${sev[f.severity](pad(f.severity, 6))}  ${pad(`${f.ruleId} ${f.rule}`, ruleWidth)}  ${f.message} ${c.dim(`→ ${f.recommendedAction}`)}`,
      );
    }
  }
  const exempt = result.identities.filter((i) => i.state === 'exempt');
  if (exempt.length > 0) {
    out.push('');
    out.push(c.bold('Exempt'));
    for (const i of exempt) out.push(`  ${i.name} ${c.dim(i.exemptReason ?? '')}`);
  }
  const undecided = result.identities.filter((i) => i.notes && i.notes.length > 0 && i.state !== 'exempt');
  if (undecided.length > 0) {
    out.push('');
    out.push(c.bold('Not decided (data unknown)'));
    for (const i of undecided) out.push(`  ${i.name} ${c.dim((i.notes ?? []).join('; '))}`);
  }
  return `${out.join('\n')}\n`;
}
