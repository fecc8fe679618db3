/**
 * Fetch the IAM credential report: a few calls for any number of users. Asks AWS to generate
 * it (a no-op while AWS's copy is fresh), waits while it is being generated
 * (backoff with a deadline), and never returns an empty result silently.
 */
import { GenerateCredentialReportCommand, GetCredentialReportCommand } from '@aws-sdk/client-iam';
import { CloudError } from '../../errors.js';
import { isoSeconds } from '../../model/time.js';
import type { ProgressSink } from '../provider.js';
import { type AwsClients, sleep } from './aws-client.js';
import { errorName, isAccessDenied, toCloudError } from './aws-errors.js';

export interface ReportFetchOptions {
  maxReportAgeHours: number;
  timeoutSeconds: number;
  progress?: ProgressSink;
  /** Injected for tests; defaults to real time. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
}

export interface FetchedReport {
  content: string;
  generatedAt: string | null;
  warnings: string[];
}

const NOT_PRESENT = new Set(['CredentialReportNotPresentException', 'ReportNotPresent']);
const EXPIRED = new Set(['CredentialReportExpiredException', 'ReportExpired']);
const IN_PROGRESS = new Set(['CredentialReportNotReadyException', 'ReportInProgress']);
const LIMIT = new Set(['LimitExceededException', 'LimitExceeded']);

/** The report could not be had (as opposed to a network or credential failure). */
export class ReportUnavailableError extends CloudError {}

export async function fetchCredentialReport(aws: AwsClients, options: ReportFetchOptions): Promise<FetchedReport> {
  const clock = options.clock ?? { now: () => Date.now(), sleep };
  const deadline = clock.now() + options.timeoutSeconds * 1000;
  const warnings: string[] = [];
  let delay = 250;
  let generated = false;
  let mayNotGenerate = false;

  const wait = async (why: string): Promise<void> => {
    if (clock.now() + delay > deadline) {
      throw new ReportUnavailableError(
        `the credential report was not ready after ${options.timeoutSeconds}s (${why}); retry later, raise aws.reportTimeoutSeconds, or use --source api`,
        'ReportTimeout',
      );
    }
    options.progress?.(`waiting for the credential report (${why})`);
    await clock.sleep(delay);
    delay = Math.min(delay * 2, 8_000);
  };

  const generate = async (): Promise<void> => {
    for (;;) {
      let state: string | undefined;
      try {
        const out = await aws.iam.send(new GenerateCredentialReportCommand({}));
        state = out.State;
      } catch (err) {
        if (LIMIT.has(errorName(err))) {
          await wait('generation rate limit');
          continue;
        }
        if (isAccessDenied(err) && !mayNotGenerate) {
          // A reader allowed only iam:GetCredentialReport can still use an existing report.
          mayNotGenerate = true;
          warnings.push('AWS denied iam:GenerateCredentialReport; reading the report AWS already has');
          return;
        }
        throw toCloudError(err, 'iam:GenerateCredentialReport', aws.settings);
      }
      generated = true;
      if (state === 'COMPLETE') return;
      await wait(`state ${state ?? 'unknown'}`);
    }
  };

  // Generate first: AWS answers COMPLETE at once while its report is under 4 hours old and
  // starts a new one otherwise, so the report (megabytes for big accounts) is downloaded once.
  await generate();
  for (;;) {
    let out;
    try {
      aws.reportContent.value = null;
      out = await aws.iam.send(new GetCredentialReportCommand({}));
    } catch (err) {
      const name = errorName(err);
      if (NOT_PRESENT.has(name) || EXPIRED.has(name)) {
        if (mayNotGenerate) {
          throw new ReportUnavailableError(
            `there is no current credential report and AWS denied iam:GenerateCredentialReport; grant it ('dormant permissions') or use --source api`,
            'AccessDenied',
          );
        }
        if (generated) await wait(name);
        await generate();
        continue;
      }
      if (IN_PROGRESS.has(name)) {
        await wait('in progress');
        continue;
      }
      throw toCloudError(err, 'iam:GetCredentialReport', aws.settings);
    }
    const content = aws.reportContent.value ?? (out.Content ? Buffer.from(out.Content) : null);
    aws.reportContent.value = null;
    if (!content || content.length === 0) {
      throw new ReportUnavailableError(
        'AWS returned an empty credential report; retry, or use --source api',
        'EmptyReport',
      );
    }
    const generatedAt = out.GeneratedTime ? isoSeconds(out.GeneratedTime) : null;
    const ageHours = out.GeneratedTime ? (clock.now() - out.GeneratedTime.getTime()) / 3_600_000 : Infinity;
    if (ageHours > options.maxReportAgeHours) {
      // AWS regenerates at most every 4 hours; say how old the data is rather than loop.
      warnings.push(
        `the credential report was generated at ${generatedAt ?? 'an unknown time'}, older than maxReportAgeHours (${options.maxReportAgeHours}); activity since then is not in it`,
      );
    }
    return { content: content.toString('utf8'), generatedAt, warnings };
  }
}
