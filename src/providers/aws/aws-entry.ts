/**
 * AWS as the registry lists it (providers/registry.ts). Cheap to import: the SDK modules are
 * loaded inside open(), so commands that never touch AWS stay fast and small.
 */
import { UsageError } from '../../errors.js';
import type { ProviderEntry, ProviderOpenOptions, ProviderSession, ScanProvider } from '../provider.js';
import { awsDescriber } from './aws-describer.js';
import { policyFor } from './aws-permissions.js';
import type { AwsSource } from './aws-provider.js';

const SOURCES: readonly string[] = ['auto', 'report', 'api'] satisfies AwsSource[];

/** The scan flags, checked before anything is loaded or built. */
function sourceOf(options: ProviderOpenOptions): AwsSource {
  const source = options.source ?? options.config.aws.source;
  if (!SOURCES.includes(source)) {
    throw new UsageError(`--source must be auto, report or api, got '${source}'`);
  }
  if (options.fromReport !== undefined && options.source !== undefined && options.source !== 'report') {
    throw new UsageError(`--from-report reads a file; it cannot be combined with --source ${options.source}`);
  }
  return source as AwsSource;
}

/** Opens AWS: one set of IAM and STS clients, shared by the scan, remediation and evidence. */
async function open(options: ProviderOpenOptions): Promise<ProviderSession> {
  const source = sourceOf(options);
  const { config, progress, fromReport } = options;
  const [{ createAwsClients }, { AwsProvider }, { AwsIamRemediation }, { scanRoles }] = await Promise.all([
    import('./aws-client.js'),
    import('./aws-provider.js'),
    import('./aws-iam-remediation.js'),
    import('./aws-role-scan.js'),
  ]);
  const aws = createAwsClients({
    profile: config.aws.profile,
    region: config.aws.region,
    endpointUrl: config.aws.endpointUrl,
    maxAttempts: config.aws.maxAttempts,
    retryMode: config.aws.retryMode,
    concurrency: config.aws.concurrency,
  });
  let scanner: ScanProvider;
  if (fromReport !== undefined) {
    const { FileProvider } = await import('../file/file-provider.js');
    scanner = new FileProvider(fromReport);
  } else {
    scanner = new AwsProvider(aws, {
      source,
      maxReportAgeHours: config.aws.maxReportAgeHours,
      reportTimeoutSeconds: config.aws.reportTimeoutSeconds,
      roles: scanRoles(config),
      ...(progress ? { progress } : {}),
    });
  }
  // Users and roles: each call goes to the one the plan item or backup names.
  const remediation = new AwsIamRemediation(aws, { remediation: config.remediation, evidence: config.evidence });
  return {
    name: 'aws',
    scanner,
    remediation,
    calls: () =>
      fromReport !== undefined && aws.calls.byOperation.size === 0
        ? null
        : `${aws.calls.total('iam:')} IAM calls (${[...aws.calls.byOperation].map(([op, n]) => `${op} ${n}`).join(', ')})`,
    close() {
      remediation.destroy();
      aws.destroy();
    },
  };
}

export const awsEntry: ProviderEntry = {
  name: 'aws',
  // AWS is on unless --provider leaves it out.
  enabled: () => true,
  describer: (config) => awsDescriber(config),
  permissions: (mode) => ({ document: policyFor(mode) }),
  open,
};
