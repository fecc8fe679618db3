/**
 * The scan: collect each provider's inventory, apply exemptions, evaluate every enabled
 * rule, enrich only the identities with findings, and build one output document for all
 * providers (DESIGN §3). Read-only.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';
import { CloudError } from '../errors.js';
import type { Finding, ProviderScan, ScanResult, ScannedIdentity } from '../model/finding.js';
import type { Inventory } from '../model/identity.js';
import { isoSeconds } from '../model/time.js';
import type { ScanProvider } from '../providers/provider.js';
import { identityActivity } from '../rules/activity.js';
import { type Evaluated, evaluate } from './evaluate.js';
import { Exemptions } from './exemptions.js';

export { enabledRules, evaluate, ruleDays } from './evaluate.js';

/**
 * Which credentials named only by a report slot (`access_key_1`) get their real ids (DESIGN §7;
 * AWS: one ListAccessKeys per user): every one (`all`), those of identities a credential-level
 * action will be planned for (`actions`: what `plan` needs), or none (`scan` without --key-ids:
 * the finding names the slot, whatever the number of findings).
 */
export type ResolveKeys = 'all' | 'actions' | 'none';

export interface ScanOptions {
  config: Config;
  /** Default `all`. */
  resolveKeys?: ResolveKeys;
  /** Evaluate as of this instant (default: now). */
  now?: Date;
}

export function findingId(ruleId: string, identityId: string, credentialId: string | null): string {
  return createHash('sha256')
    .update(`${ruleId}\u0000${identityId}\u0000${credentialId ?? ''}`)
    .digest('hex')
    .slice(0, 16);
}

interface ProviderPart {
  inventory: Inventory;
  identities: ScannedIdentity[];
  findings: Finding[];
  warnings: string[];
}

async function scanOne(
  provider: ScanProvider,
  config: Config,
  now: Date,
  resolveKeys: ResolveKeys,
): Promise<ProviderPart> {
  const inventory = await provider.collect();
  let evaluated = evaluate(inventory.identities, config, now);
  const flagged = evaluated.filter((e) => e.hits.length > 0);
  const warnings = [...inventory.warnings];
  // Tags first: a tag exemption means no finding, so no key of that identity needs its id.
  warnings.push(...(await provider.enrich({ tags: flagged.map((e) => e.identity), unresolved: [] })));
  const unresolved = flagged.filter((e) => needsKeyIds(e, resolveKeys, config)).map((e) => e.identity);
  if (unresolved.length > 0) warnings.push(...(await provider.enrich({ tags: [], unresolved })));
  // Credential ids are known now: evaluate those identities again so messages and ids name them.
  if (unresolved.length > 0) {
    const again = new Map(evaluate(unresolved, config, now).map((e) => [e.identity, e]));
    evaluated = evaluated.map((e) => again.get(e.identity) ?? e);
  }
  const { identities, findings } = document(evaluated, config);
  return { inventory, identities, findings, warnings };
}

type Hit = Evaluated['hits'][number];
const KEY_ACTIONS: readonly string[] = ['deactivate-key', 'delete-key'];
/** A credential the source named only by its handle (a report slot). */
const byHandle = (h: Hit) => h.hit.credential !== null && h.hit.credential.id === null;

/**
 * Whether to resolve this identity's handle-named keys (never for an exempt one: it has no
 * findings). `actions` mirrors buildPlan: a key gets a
 * credential-level action only when its identity is not exempt, not protected, not notify-only
 * and has no identity-level verdict (that one subsumes its key actions).
 */
function needsKeyIds(e: Evaluated, resolveKeys: ResolveKeys, config: Config): boolean {
  if (resolveKeys === 'none') return false;
  const i = e.identity;
  if (e.exemptReason || new Exemptions(config.exempt).byTag(i)) return false;
  if (resolveKeys === 'all') return e.hits.some(byHandle);
  if (i.isCaller || i.protectedReason || i.notifyOnlyReason) return false;
  if (e.hits.some((h) => h.rule.scope === 'identity')) return false;
  return e.hits.some((h) => byHandle(h) && KEY_ACTIONS.includes(h.rule.defaultAction));
}

function document(evaluated: Evaluated[], config: Config): { identities: ScannedIdentity[]; findings: Finding[] } {
  const exemptions = new Exemptions(config.exempt);
  const identities: ScannedIdentity[] = [];
  const findings: Finding[] = [];
  for (const e of evaluated) {
    const tagReason = e.hits.length > 0 ? exemptions.byTag(e.identity) : null;
    const exemptReason = e.exemptReason ?? tagReason;
    const hits = exemptReason ? [] : e.hits;
    const activity = identityActivity(e.identity);
    const state = exemptReason ? 'exempt' : hits.some((h) => h.rule.scope === 'identity') ? 'inactive' : 'active';
    identities.push({
      ...e.identity,
      lastActivityAt: activity.lastActivityAt,
      state,
      exemptReason,
      ...(activity.unknowns.length > 0 ? { notes: activity.unknowns } : {}),
    });
    for (const { rule, hit } of hits) {
      const credentialId = hit.credential ? (hit.credential.id ?? hit.credential.handle ?? null) : null;
      findings.push({
        id: findingId(rule.id, e.identity.id, credentialId),
        provider: e.identity.provider,
        ruleId: rule.id,
        rule: rule.name,
        severity: rule.severity,
        identityId: e.identity.id,
        identityName: e.identity.name,
        account: e.identity.account,
        credentialId,
        ...(hit.credential && hit.credential.id === null && hit.credential.handle
          ? { credentialHandle: hit.credential.handle }
          : {}),
        // The report slot stays named after resolution, with the key's creation time to match it by.
        ...(hit.credential?.handle
          ? { credentialSlot: hit.credential.handle, credentialCreatedAt: hit.credential.createdAt }
          : {}),
        message: hit.message,
        lastActivityAt: hit.lastActivityAt,
        daysSinceActivity: hit.daysSinceActivity,
        compliance: [...rule.compliance],
        recommendedAction: e.identity.notifyOnlyReason ? 'notify' : rule.defaultAction,
      });
    }
  }
  return { identities, findings };
}

/** The document's summary line, counted from its identities and findings. */
export function summarize(identities: ScannedIdentity[], findings: Finding[]): ScanResult['summary'] {
  return {
    identities: identities.length,
    inactive: identities.filter((i) => i.state === 'inactive').length,
    exempt: identities.filter((i) => i.state === 'exempt').length,
    findings: findings.length,
  };
}

/** The document's order: provider and account first when there are several, then name, then id. */
export function sortDocument(identities: ScannedIdentity[], findings: Finding[], several: boolean): void {
  const byProviderThenName = (a: { provider: string; account: string }, b: { provider: string; account: string }) =>
    several ? a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account) : 0;
  identities.sort((a, b) => byProviderThenName(a, b) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  findings.sort(
    (a, b) =>
      byProviderThenName(a, b) ||
      a.identityName.localeCompare(b.identityName) ||
      a.ruleId.localeCompare(b.ruleId) ||
      (a.credentialId ?? '').localeCompare(b.credentialId ?? ''),
  );
}

/** Scan one provider or several into one document. Any provider failing fails the scan: a partial result is never a whole one. */
export async function scan(providers: ScanProvider | ScanProvider[], options: ScanOptions): Promise<ScanResult> {
  const now = options.now ?? new Date();
  const { config } = options;
  const list = Array.isArray(providers) ? providers : [providers];
  const parts: ProviderPart[] = [];
  for (const p of list) parts.push(await scanOne(p, config, now, options.resolveKeys ?? 'all'));

  const identities = parts.flatMap((p) => p.identities);
  const findings = parts.flatMap((p) => p.findings);
  sortDocument(identities, findings, list.length > 1);
  const providerScans: ProviderScan[] = parts.map((p) => ({
    provider: p.inventory.provider,
    source: p.inventory.source,
    accounts: p.inventory.accounts,
    dataAsOf: p.inventory.dataAsOf,
  }));
  const failures = parts.flatMap((p) => p.inventory.failures ?? []);
  const only = parts.length === 1 ? parts[0]!.inventory : null;
  return {
    schemaVersion: 1,
    generatedAt: isoSeconds(now),
    source: only ? only.source : 'mixed',
    providers: providerScans,
    dataAsOf: only ? only.dataAsOf : null,
    accounts: [...new Set(parts.flatMap((p) => p.inventory.accounts))],
    settings: { inactiveDays: config.inactiveDays },
    identities,
    findings,
    warnings: parts.flatMap((p) => p.warnings),
    ...(failures.length > 0 ? { failures } : {}),
    summary: summarize(identities, findings),
  };
}

/**
 * A scan that could not read some accounts is partial (DESIGN §3): the error to stop with, or
 * null when there are no failures or the caller accepts a partial result (each failure is then
 * the caller's warning to print).
 */
export function partialScanError(result: ScanResult, allowPartial: boolean, how: string): CloudError | null {
  const failures = result.failures ?? [];
  if (failures.length === 0 || allowPartial) return null;
  const list = failures.map((f) => `${f.provider} ${f.account}: ${f.reason}`);
  return new CloudError(
    `${failures.length} account(s) could not be read (${list.join('; ')}); fix access, or ${how} to accept a partial result`,
    'PartialScan',
  );
}
