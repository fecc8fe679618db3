/**
 * Opens the providers a command runs against, through the registry: `--provider` (or AWS
 * plus every provider the config enables), or exactly the providers a plan or backup needs.
 */
import { UsageError } from '../errors.js';
import type { ProviderName } from '../model/identity.js';
import { openProviders, providerEntry, selectProviders } from '../providers/registry.js';
import type { ProviderSession } from '../providers/provider.js';
import type { CommandContext } from './context.js';

export interface SourceFlags {
  source?: string;
  fromReport?: string;
}

export interface OpenSessions {
  sessions: ProviderSession[];
  close(): void;
  /** Cloud calls per provider so far (for --verbose). */
  calls(): string[];
}

function wrap(sessions: ProviderSession[]): OpenSessions {
  return {
    sessions,
    close: () => sessions.forEach((s) => s.close()),
    calls: () => sessions.map((s) => s.calls()).filter((c): c is string => c !== null),
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
  return wrap(
    await openProviders(entries, {
      config: ctx.config,
      ...(ctx.progress ? { progress: ctx.progress } : {}),
      ...(flags.source !== undefined ? { source: flags.source } : {}),
      ...(flags.fromReport !== undefined ? { fromReport: flags.fromReport } : {}),
    }),
  );
}

/** For apply and restore: the providers named (plan items' or a backup's), whatever --provider says. */
export async function openFor(ctx: CommandContext, names: Iterable<ProviderName>): Promise<OpenSessions> {
  const entries = [...new Set(names)].map((n) => providerEntry(n));
  return wrap(
    await openProviders(entries, { config: ctx.config, ...(ctx.progress ? { progress: ctx.progress } : {}) }),
  );
}
