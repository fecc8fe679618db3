/** Persisting scans: the summary, findings, and snapshots of the identities they concern. */
import type { ScanResult } from '../model/finding.js';
import { type Db, newId } from './store.js';

/** Store a scan. Snapshots are kept for identities with findings or an exemption, not all of them. */
export async function saveScan(db: Db, result: ScanResult): Promise<string> {
  const scanId = newId('sc');
  await db
    .insertInto('scans')
    .values({
      id: scanId,
      created_at: result.generatedAt,
      source: result.source,
      accounts: JSON.stringify(result.accounts),
      inactive_days: result.settings.inactiveDays,
      summary: JSON.stringify(result.summary),
      warnings: JSON.stringify(result.warnings),
    })
    .execute();
  const flagged = new Set(result.findings.map((f) => f.identityId));
  const snapshots = result.identities
    .filter((i) => flagged.has(i.id) || i.state === 'exempt')
    .map((i) => ({
      scan_id: scanId,
      provider: i.provider,
      identity_id: i.id,
      name: i.name,
      account: i.account,
      state: i.state,
      data: JSON.stringify(i),
    }));
  for (let i = 0; i < snapshots.length; i += 200) {
    await db
      .insertInto('identity_snapshots')
      .values(snapshots.slice(i, i + 200))
      .execute();
  }
  const findings = result.findings.map((f) => ({
    scan_id: scanId,
    provider: f.provider,
    account: f.account,
    id: f.id,
    rule_id: f.ruleId,
    identity_id: f.identityId,
    identity_name: f.identityName,
    credential_id: f.credentialId,
    severity: f.severity,
    message: f.message,
    data: JSON.stringify(f),
  }));
  for (let i = 0; i < findings.length; i += 200) {
    await db
      .insertInto('findings')
      .values(findings.slice(i, i + 200))
      .execute();
  }
  return scanId;
}
