/**
 * Opens the providers a command runs against, through the registry: `--provider` (or AWS
 * plus every provider the config enables), or exactly the providers a plan or backup needs.
 */
import { UsageError } from '../errors.js';
import type { ProviderName } from '../model/identity.js';
import { openProviders, providerEntry, selectProviders } from '../providers/registry.js';
import type {
  OrganizationSession,
  ProviderEntry,
  ProviderOpenOptions,
  ProviderSession,
} from '../providers/provider.js';
import type { CommandContext } from './context.js';

export interface SourceFlags {
  source?: string;
  fromReport?: string;
}

export interface OpenSessions {
  sessions: ProviderSession[];
  /** Providers whose accounts are scanned one by one (AWS with --org). */
  organizations: OrganizationSession[];
  close(): void;
  /** Cloud calls per provider so far (for --verbose). */
  calls(): string[];
}

function wrap(sessions: ProviderSession[], organizations: OrganizationSession[] = []): OpenSessions {
  const all = [...sessions, ...organizations];
  return {
    sessions,
    organizations,
    close: () => all.forEach((s) => s.close()),
    calls: () => all.map((s) => s.calls()).filter((c): c is string => c !== null),
  };
}

/** For scan and plan: the selected providers, with the scan flags that choose AWS's source. */
export async function openForScan(ctx: CommandContext, flags: SourceFlags): Promise<OpenSessions> {
  // An exported credential report is AWS data only: other providers join only when named.
  const flag = ctx.flags.provider ?? (flags.fromReport !== undefined ? 'aws' : undefined);
  const entries = selectProviders(ctx.config, flag);
  if ((flags.fromReport !== undefined || flags.source !== undefined) && !entries.some((e) => e.name === 'aws')) {
    const which = flags.fromReport !== undefined ? '--from-report' : '--source';
    throw new UsageError(
      `${which} chooses the AWS source, but --provider ${flag ?? ''} leaves AWS out; add aws to --provider or drop ${which}`,
    );
  }
  const options: ProviderOpenOptions = {
    config: ctx.config,
    ...(ctx.progress ? { progress: ctx.progress } : {}),
    ...(flags.source !== undefined ? { source: flags.source } : {}),
    ...(flags.fromReport !== undefined ? { fromReport: flags.fromReport } : {}),
  };
  // A provider in organization mode is opened account by account by the engine, not here.
  const organizations: OrganizationSession[] = [];
  const plain: ProviderEntry[] = [];
  try {
    for (const entry of entries) {
      const org = entry.organization ? await entry.organization(options) : null;
      if (org) organizations.push(org);
      else plain.push(entry);
    }
    return wrap(await openProviders(plain, options), organizations);
  } catch (err) {
    for (const o of organizations) o.close();
    throw err;
  }
}

/** For apply and restore: the providers named (plan items' or a backup's), whatever --provider says. */
export async function openFor(ctx: CommandContext, names: Iterable<ProviderName>): Promise<OpenSessions> {
  const entries = [...new Set(names)].map((n) => providerEntry(n));
  return wrap(
    await openProviders(entries, { config: ctx.config, ...(ctx.progress ? { progress: ctx.progress } : {}) }),
  );
}
