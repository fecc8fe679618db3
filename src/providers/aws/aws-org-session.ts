/**
 * An AWS Organization as the engine scans it (DESIGN §8): the account listing, and each
 * account opened on its own clients (the management account on the caller's credentials, a
 * member through `aws.organization.roleName`), with its own call counter.
 */
import { readFileSync } from 'node:fs';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { Config } from '../../config/config.js';
import { UsageError } from '../../errors.js';
import type { OrganizationAccount, OrganizationSession, ProviderOpenOptions, ProviderSession } from '../provider.js';
import { type AssumeSettings, assumedRoleCredentials } from './aws-assume.js';
import { type AwsClients, CallCounter, createAwsClients } from './aws-client.js';
import { readCaller } from './aws-caller.js';
import { listOrgAccounts } from './aws-org-accounts.js';

type OrgConfig = Config['aws']['organization'];

/** The external id, from its environment variable or file (never from the YAML itself). */
export function readExternalId(org: OrgConfig): string | null {
  const ref = org.externalId;
  if (ref === null) return null;
  if ('env' in ref) {
    const value = process.env[ref.env]?.trim();
    if (!value) {
      throw new UsageError(
        `aws.organization.externalId.env: the environment variable ${ref.env} is not set (or empty); export it, or set aws.organization.externalId to null`,
      );
    }
    return value;
  }
  let value: string;
  try {
    value = readFileSync(ref.file, 'utf8').trim();
  } catch (err) {
    throw new UsageError(
      `aws.organization.externalId.file: cannot read ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); point it at the file that holds the external id`,
    );
  }
  if (!value) throw new UsageError(`aws.organization.externalId.file: ${ref.file} is empty; put the external id in it`);
  return value;
}

export function orgEnabled(options: ProviderOpenOptions): boolean {
  return options.fromReport === undefined && (options.org === true || options.config.aws.organization.enabled);
}

export function assumeSettings(config: Config): AssumeSettings {
  return { roleName: config.aws.organization.roleName, externalId: readExternalId(config.aws.organization) };
}

/** A member account's clients: the caller's STS assumes the role; calls are counted per account. */
export function memberClients(home: AwsClients, account: string, assume: AssumeSettings): AwsClients {
  return createAwsClients(home.settings, new CallCounter(), assumedRoleCredentials(home, account, assume));
}

export type OpenAccount = (clients: AwsClients, account: string) => Promise<ProviderSession>;

export async function openOrganization(
  options: ProviderOpenOptions,
  home: AwsClients,
  openOn: OpenAccount,
): Promise<OrganizationSession> {
  const { config } = options;
  const assume = assumeSettings(config);
  const org = new OrganizationsClient({
    region: home.settings.region,
    maxAttempts: home.settings.maxAttempts,
    retryMode: home.settings.retryMode,
    ...(home.settings.profile ? { profile: home.settings.profile } : {}),
    ...(home.settings.endpointUrl ? { endpoint: home.settings.endpointUrl } : {}),
  });
  let listed = 0;
  let callerAccount: Promise<string> | null = null;
  const accounts = async (): Promise<Awaited<ReturnType<OrganizationSession['accounts']>>> => {
    const listing = await listOrgAccounts(org, config.aws.organization, home.settings);
    listed += listing.calls;
    return {
      accounts: listing.accounts.map((a) => ({ id: a.id, name: a.name })),
      skipped: listing.skipped.map((s) => ({ provider: 'aws' as const, account: s.account, reason: s.reason })),
    };
  };
  const clientsUsed: AwsClients[] = [];
  return {
    provider: 'aws',
    accounts,
    async openAccount(account: OrganizationAccount) {
      // The caller's own account (the management account, or a delegated administrator's) on the
      // caller's credentials; every other account through the member role. No listing here: a
      // worker opens one account per job.
      callerAccount ??= readCaller(home).then((c) => c.account);
      const own = await callerAccount.catch((err: unknown) => {
        callerAccount = null;
        throw err;
      });
      const clients = account.id === own ? home : memberClients(home, account.id, assume);
      clientsUsed.push(clients);
      return openOn(clients, account.id);
    },
    calls() {
      const iam = clientsUsed.reduce((n, c) => n + c.calls.total('iam:'), 0);
      const sts = home.calls.total('sts:AssumeRole');
      return `${listed} Organizations calls, ${sts} AssumeRole, ${iam} IAM calls in ${clientsUsed.length} account(s)`;
    },
    close() {
      org.destroy();
    },
  };
}
