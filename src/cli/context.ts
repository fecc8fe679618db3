/**
 * What every command shares: the global flags, the loaded config with flags applied over
 * it, the logger, and the progress sink (stderr, only when it is a TTY).
 */
import type { Logger } from 'pino';
import { type Config, loadConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import type { ProgressSink } from '../providers/provider.js';
import { createLogger } from './log.js';

export interface GlobalFlags {
  config?: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  db?: string;
  /** `--provider aws,entra`: the providers to scan (default: AWS plus those the config enables). */
  provider?: string;
  /** `--org`: every account of the AWS Organization (DESIGN §8). */
  org?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export interface CommandContext {
  flags: GlobalFlags;
  config: Config;
  configPath: string | null;
  log: Logger;
  progress: ProgressSink | undefined;
  stdoutIsTTY: boolean;
}

export function buildContext(flags: GlobalFlags): CommandContext {
  const log = createLogger(flags);
  const { config, path } = loadConfig(flags.config);
  if (flags.profile) config.aws.profile = flags.profile;
  if (flags.region) config.aws.region = flags.region;
  const endpoint = flags.endpointUrl ?? config.aws.endpointUrl ?? process.env.AWS_ENDPOINT_URL ?? null;
  if (endpoint !== null) {
    try {
      new URL(endpoint);
    } catch {
      throw new UsageError(`--endpoint-url '${endpoint}' is not a URL; pass e.g. http://localhost:5000`);
    }
  }
  config.aws.endpointUrl = endpoint;
  if (flags.db) config.store.url = flags.db;
  if (flags.org) config.aws.organization.enabled = true;
  const progress: ProgressSink | undefined =
    process.stderr.isTTY && !flags.quiet ? (m) => process.stderr.write(`\x1b[2K\r… ${m}`) : undefined;
  return { flags, config, configPath: path, log, progress, stdoutIsTTY: Boolean(process.stdout.isTTY) };
}

export function endProgress(ctx: CommandContext): void {
  if (ctx.progress) process.stderr.write('\x1b[2K\r');
}

export function parseIntFlag(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}
