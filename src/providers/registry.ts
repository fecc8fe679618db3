/**
 * The one place that turns configuration into provider instances (DESIGN §1). One line per
 * provider; cli/ and server/ ask here and never construct a cloud client themselves. Entries
 * are cheap to import: each loads its SDKs only when opened.
 */
import type { Config } from '../config/config.js';
import { UsageError } from '../errors.js';
import type { ProviderName } from '../model/identity.js';
import { awsEntry } from './aws/aws-entry.js';
import { entraEntry } from './entra/entra-entry.js';
import { googleEntry } from './google/google-entry.js';
import type { ActionDescriber, ProviderEntry, ProviderOpenOptions, ProviderSession } from './provider.js';

export const PROVIDERS: readonly ProviderEntry[] = [awsEntry, entraEntry, googleEntry];

export const PROVIDER_NAMES = PROVIDERS.map((p) => p.name);

export function providerEntry(name: ProviderName): ProviderEntry {
  const entry = PROVIDERS.find((p) => p.name === name);
  if (!entry) throw new UsageError(`unknown provider '${name}'; choose from ${PROVIDER_NAMES.join(', ')}`);
  return entry;
}

/**
 * The providers a command runs against: `--provider aws,entra` when given, else AWS plus
 * every provider the config enables (DESIGN §3).
 */
export function selectProviders(config: Config, flag?: string): ProviderEntry[] {
  if (flag === undefined) return PROVIDERS.filter((p) => p.name === 'aws' || p.enabled(config));
  const names = flag
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`--provider needs a name; choose from ${PROVIDER_NAMES.join(', ')}`);
  const unknown = names.filter((n) => !PROVIDER_NAMES.includes(n as ProviderName));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown provider '${unknown[0]}' in --provider; choose from ${PROVIDER_NAMES.join(', ')} (comma-separated)`,
    );
  }
  return PROVIDERS.filter((p) => names.includes(p.name));
}

/** Open the selected providers; on a failure, the ones already open are closed. */
export async function openProviders(
  entries: readonly ProviderEntry[],
  options: ProviderOpenOptions,
): Promise<ProviderSession[]> {
  const sessions: ProviderSession[] = [];
  try {
    for (const entry of entries) sessions.push(await entry.open(options));
  } catch (err) {
    for (const s of sessions) s.close();
    throw err;
  }
  return sessions;
}

/** Each provider's plan sentences. */
export function describersFor(config: Config): Partial<Record<ProviderName, ActionDescriber>> {
  return Object.fromEntries(PROVIDERS.map((p) => [p.name, p.describer(config)]));
}
