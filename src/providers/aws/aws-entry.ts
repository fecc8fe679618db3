/**
 * AWS as the registry lists it (providers/registry.ts). Cheap to import: the SDK modules are
 * loaded inside open(), so commands that never touch AWS stay fast and small.
 */
import { UsageError } from '../../errors.js';
import type {
  OrganizationSession,
  ProviderEntry,
  ProviderOpenOptions,
  ProviderSession,
  RemediationProvider,
  ScanProvider,
} from '../provider.js';
import type { AwsClients, AwsSettings } from './aws-client.js';
import { awsDescriber } from './aws-describer.js';
import { orgPolicyFor, policyFor } from './aws-permissions.js';
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

function settingsOf(config: ProviderOpenOptions['config']): AwsSettings {
  return {
    profile: config.aws.profile,
    region: config.aws.region,
    endpointUrl: config.aws.endpointUrl,
    maxAttempts: config.aws.maxAttempts,
    retryMode: config.aws.retryMode,
    concurrency: config.aws.concurrency,
  };
}

/**
 * One account's session on the given clients: scanner, remediation and call count. `owned`:
 * closing the session destroys the clients (not for the caller's own, which an org run shares).
 */
async function openOn(
  aws: AwsClients,
  options: ProviderOpenOptions,
  remediation: RemediationProvider & { destroy(): void },
  owned: boolean,
): Promise<ProviderSession> {
  const source = sourceOf(options);
  const { config, progress, fromReport } = options;
  const [{ AwsProvider }, { scanRoles }] = await Promise.all([
    import('./aws-provider.js'),
    import('./aws-role-scan.js'),
  ]);
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
      if (owned) aws.destroy();
    },
  };
}

/**
 * Opens AWS: one set of IAM and STS clients, shared by the scan, remediation and evidence.
 * With --org, remediation goes to the account each item names, through the member role.
 */
async function open(options: ProviderOpenOptions): Promise<ProviderSession> {
  sourceOf(options);
  const [{ createAwsClients }, { AwsIamRemediation }, { AwsAccountRouter }, org] = await Promise.all([
    import('./aws-client.js'),
    import('./aws-iam-remediation.js'),
    import('./aws-account-router.js'),
    import('./aws-org-session.js'),
  ]);
  const aws = createAwsClients(settingsOf(options.config));
  const remediationOptions = { remediation: options.config.remediation, evidence: options.config.evidence };
  const home = new AwsIamRemediation(aws, remediationOptions);
  let openMember: ((account: string) => InstanceType<typeof AwsIamRemediation>) | null = null;
  if (org.orgEnabled(options)) {
    const assume = org.assumeSettings(options.config);
    openMember = (account) => {
      const clients = org.memberClients(aws, account, assume);
      // Evidence too is read in the member account: CloudTrail signs with the member role.
      return new AwsIamRemediation(clients, {
        ...remediationOptions,
        cloudtrail: { credentials: clients.credentials! },
      });
    };
  }
  return openOn(aws, options, new AwsAccountRouter(home, openMember), true);
}

/** `--org` (or aws.organization.enabled): the Organization, its accounts opened one by one. */
async function organization(options: ProviderOpenOptions): Promise<OrganizationSession | null> {
  sourceOf(options);
  const [{ createAwsClients }, { AwsIamRemediation }, org] = await Promise.all([
    import('./aws-client.js'),
    import('./aws-iam-remediation.js'),
    import('./aws-org-session.js'),
  ]);
  if (!org.orgEnabled(options)) return null;
  const home = createAwsClients(settingsOf(options.config));
  const remediationOptions = { remediation: options.config.remediation, evidence: options.config.evidence };
  // The engine shows one progress display for the whole run; an account's own lines would break it.
  const quiet: ProviderOpenOptions = { ...options };
  delete quiet.progress;
  const session = await org.openOrganization(options, home, (clients) =>
    openOn(
      clients,
      quiet,
      new AwsIamRemediation(clients, {
        ...remediationOptions,
        ...(clients.credentials ? { cloudtrail: { credentials: clients.credentials } } : {}),
      }),
      clients !== home,
    ),
  );
  return {
    ...session,
    accounts: () => session.accounts(),
    openAccount: (account) => session.openAccount(account),
    calls: () => session.calls(),
    close() {
      session.close();
      home.destroy();
    },
  };
}

export const awsEntry: ProviderEntry = {
  name: 'aws',
  // AWS is on unless --provider leaves it out.
  enabled: () => true,
  describer: (config) => awsDescriber(config),
  permissions: (mode, config) => ({
    document: config.aws.organization.enabled
      ? orgPolicyFor(mode, {
          roleName: config.aws.organization.roleName,
          externalId: config.aws.organization.externalId !== null,
        })
      : policyFor(mode),
  }),
  open,
  organization,
};
