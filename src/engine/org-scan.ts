/**
 * Scan an Organization account by account (DESIGN §8). Each account is opened on its own
 * credentials and scanned into a whole one-account document; an account the cloud refuses
 * (AssumeRole denied, throttled past the retries, closed mid-run) becomes that account's
 * failure and the rest go on. Who runs the accounts is pluggable: this process with bounded
 * concurrency, or workers sharing a queue (workflow/queue); the assembly is the same.
 */
import pLimit from 'p-limit';
import { DormantError, UsageError } from '../errors.js';
import type { ScanResult } from '../model/finding.js';
import type { ScanFailure } from '../model/identity.js';
import type { OrganizationAccount, OrganizationSession } from '../providers/provider.js';
import { mergeScans } from './scan-merge.js';
import { type ScanOptions, scan } from './scan.js';

export type AccountOutcome = { account: string; result: ScanResult } | { account: string; failure: ScanFailure };

/** What a watcher is told (the CLI's progress bar, plain lines off a TTY). */
export interface OrgProgress {
  start(total: number): void;
  /** One account finished, scanned or failed. */
  done(account: OrganizationAccount, failed: boolean): void;
  stop(): void;
}

/** Runs the accounts of one run and answers one outcome for each. */
export type AccountRunner = (
  accounts: OrganizationAccount[],
  progress: OrgProgress | undefined,
) => Promise<AccountOutcome[]>;

/** A one-line reason for the account's failure; errors that are not the cloud's stop the run. */
function failureOf(err: unknown, account: OrganizationAccount, provider: string): ScanFailure {
  // Bad config or usage is the same for every account: stop rather than fail each one.
  if (err instanceof UsageError || !(err instanceof DormantError)) throw err;
  return { provider: provider as ScanFailure['provider'], account: account.id, reason: err.message };
}

/** One account, start to end: open, scan, close. Warnings name the account they are about. */
export async function scanAccount(
  org: OrganizationSession,
  account: OrganizationAccount,
  options: ScanOptions,
): Promise<AccountOutcome> {
  try {
    const session = await org.openAccount(account);
    try {
      const result = await scan(session.scanner, options);
      // Never file one account's identities under another (wrong credentials, a role elsewhere).
      const foreign = result.accounts.filter((a) => a !== account.id);
      if (foreign.length > 0) {
        return {
          account: account.id,
          failure: {
            provider: org.provider,
            account: account.id,
            reason: `the credentials opened for account ${account.id} read account ${foreign.join(', ')}; check aws.organization.roleName and the role's account`,
          },
        };
      }
      result.warnings = result.warnings.map((w) => `${org.provider} ${account.id} (${account.name}): ${w}`);
      return { account: account.id, result };
    } finally {
      session.close();
    }
  } catch (err) {
    return { account: account.id, failure: failureOf(err, account, org.provider) };
  }
}

/** This process, `concurrency` accounts at a time. */
export function inProcess(org: OrganizationSession, options: ScanOptions, concurrency: number): AccountRunner {
  return async (accounts, progress) => {
    const limit = pLimit(concurrency);
    // A fatal error (bad config, a bug) stops the accounts not started yet.
    return Promise.all(
      accounts.map((account) =>
        limit(async () => {
          const outcome = await scanAccount(org, account, options);
          progress?.done(account, 'failure' in outcome);
          return outcome;
        }),
      ),
    ).catch((err: unknown) => {
      limit.clearQueue();
      throw err;
    });
  };
}

export interface OrgScanOptions extends ScanOptions {
  now: Date;
  progress?: OrgProgress;
  /** Default: this process, aws.organization.concurrency accounts at a time. */
  runner?: AccountRunner;
}

export async function scanOrganization(org: OrganizationSession, options: OrgScanOptions): Promise<ScanResult> {
  const { config, now, progress } = options;
  const scanOptions: ScanOptions = { ...options };
  delete (scanOptions as Partial<OrgScanOptions>).progress;
  delete (scanOptions as Partial<OrgScanOptions>).runner;
  const { accounts, skipped } = await org.accounts();
  if (accounts.length === 0) {
    throw new UsageError(
      `no ACTIVE account of the Organization is left by aws.organization.include/exclude${skipped.length > 0 ? ` (${skipped.length} skipped: not active)` : ''}; check the lists`,
    );
  }
  const runner = options.runner ?? inProcess(org, scanOptions, config.aws.organization.concurrency);
  progress?.start(accounts.length);
  let outcomes: AccountOutcome[];
  try {
    outcomes = await runner(accounts, progress);
  } finally {
    progress?.stop();
  }
  const documents: ScanResult[] = [];
  const failures: ScanFailure[] = [];
  for (const o of outcomes) {
    if ('result' in o) documents.push(o.result);
    else failures.push(o.failure);
  }
  return mergeScans({ documents, failures, skipped, inactiveDays: config.inactiveDays, now });
}
