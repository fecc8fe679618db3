/** Chooses and builds the provider a command runs against, from flags and config. */
import { UsageError } from '../errors.js';
import { createAwsClients } from '../providers/aws/aws-client.js';
import { AwsProvider, type AwsSource } from '../providers/aws/aws-provider.js';
import { FileProvider } from '../providers/file/file-provider.js';
import type { Provider } from '../providers/provider.js';
import type { CommandContext } from './context.js';

export interface SourceFlags {
  source?: string;
  fromReport?: string;
}

export interface BuiltProvider {
  provider: Provider;
  close(): void;
  /** Total cloud calls made so far (for --verbose). */
  calls(): string | null;
}

export function providerFromFlags(ctx: CommandContext, flags: SourceFlags): BuiltProvider {
  const source = (flags.source ?? ctx.config.aws.source) as AwsSource;
  if (!['auto', 'report', 'api'].includes(source)) {
    throw new UsageError(`--source must be auto, report or api, got '${source}'`);
  }
  if (flags.fromReport !== undefined) {
    if (flags.source !== undefined && flags.source !== 'report') {
      throw new UsageError(`--from-report reads a file; it cannot be combined with --source ${flags.source}`);
    }
    return { provider: new FileProvider(flags.fromReport), close() {}, calls: () => null };
  }
  const aws = createAwsClients({
    profile: ctx.config.aws.profile,
    region: ctx.config.aws.region,
    endpointUrl: ctx.config.aws.endpointUrl,
    maxAttempts: ctx.config.aws.maxAttempts,
    retryMode: ctx.config.aws.retryMode,
    concurrency: ctx.config.aws.concurrency,
  });
  const provider = new AwsProvider(aws, {
    source,
    maxReportAgeHours: ctx.config.aws.maxReportAgeHours,
    reportTimeoutSeconds: ctx.config.aws.reportTimeoutSeconds,
    ...(ctx.progress ? { progress: ctx.progress } : {}),
  });
  return {
    provider,
    close: () => aws.destroy(),
    calls: () =>
      `${aws.calls.total('iam:')} IAM calls (${[...aws.calls.byOperation].map(([op, n]) => `${op} ${n}`).join(', ')})`,
  };
}
