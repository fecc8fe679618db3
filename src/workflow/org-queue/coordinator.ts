/**
 * The coordinator of an Organization run shared with workers (DESIGN §8): records the run,
 * enqueues one job per account that has no outcome yet (a rerun with the same run id resumes),
 * waits on the run's done queue (pg-boss does the waiting: no polling of tables here), and
 * answers one outcome per account from the store. One coordinator per run: the store lock
 * `org-run:ID` refuses a second one (exit 4).
 */
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { AccountOutcome, AccountRunner } from '../../engine/org-scan.js';
import { CloudError, GuardError, UsageError } from '../../errors.js';
import { type OrgRunSettings, dropFailures, openRun, outcomes } from '../../store/org-runs.js';
import type { Store } from '../../store/store.js';
import { type QueueTiming, SCAN_QUEUE, doneQueue, doneSchema, queueDown, startBoss } from './queue.js';

export interface QueueRunOptions {
  store: Store;
  url: string;
  runId: string;
  settings: OrgRunSettings;
  timing: QueueTiming;
  log: Logger;
  /** Say once that no worker has taken a job after this long (default 30 s). */
  idleNoticeMs?: number;
}

const LOCK_TTL_MS = 60_000;

export function queueRunner(options: QueueRunOptions): AccountRunner {
  const { store, runId, log } = options;
  const resume = `rerun with --run-id ${runId} to resume`;
  return async (accounts, progress) => {
    const locked = await store.withLock(`org-run:${runId}`, LOCK_TTL_MS, async () => {
      const run = await openRun(store.db, runId, options.settings);
      // A resumed run keeps its first instant (asOf): every account is evaluated as of the same time.
      const same = (x: OrgRunSettings) => JSON.stringify({ ...x, asOf: null });
      if (same(run.settings) !== same(options.settings)) {
        throw new UsageError(
          `run ${runId} was started with other settings (${JSON.stringify(run.settings)}); rerun it with the same flags, or start a new run without --run-id`,
        );
      }
      const retried = run.created ? 0 : await dropFailures(store.db, runId);
      if (retried > 0) log.info(`run ${runId}: trying again the ${retried} account(s) that failed before`);
      log.info(
        `${run.created ? 'run' : 'resuming run'} ${runId}: ${accounts.length} accounts on the queue (${resume} if this stops)`,
      );
      return waitForAccounts(options, accounts, progress, resume);
    });
    if ('held' in locked) {
      throw new GuardError(`run ${runId} already has a coordinator (${locked.held}); wait for it, or stop it first`);
    }
    return locked.value;
  };
}

async function waitForAccounts(
  options: QueueRunOptions,
  accounts: Parameters<AccountRunner>[0],
  progress: Parameters<AccountRunner>[1],
  resume: string,
): Promise<AccountOutcome[]> {
  const { store, runId, log } = options;
  const wanted = new Map(accounts.map((a) => [a.id, a]));
  const result = new Map<string, AccountOutcome>();
  for (const [account, outcome] of await outcomes(store.db, runId, [...wanted.keys()])) {
    result.set(account, outcome);
    progress?.done(wanted.get(account)!, 'failure' in outcome);
  }
  if (result.size === wanted.size) return accounts.map((a) => result.get(a.id)!);

  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Raced below; an error after every account settled must not become an unhandled rejection.
  failed.catch(() => undefined);
  const boss = await startBoss(options.url, options.timing, (err) => fail(queueDown(options.url, err, resume))).catch(
    (err: unknown) => {
      throw queueDown(options.url, err, resume);
    },
  );
  const done = doneQueue(runId);
  let idle: NodeJS.Timeout | undefined;
  try {
    await boss.createQueue(done).catch(() => undefined);
    let finish: () => void = () => undefined;
    const allDone = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const settling = new Set<string>();
    const settle = async (account: string, deadLettered: boolean): Promise<void> => {
      const a = wanted.get(account);
      // Marked before the store read: the done queue and the resume loop may settle it at once.
      if (!a || result.has(account) || settling.has(account)) return;
      settling.add(account);
      try {
        await settleOne(account, a, deadLettered);
      } finally {
        settling.delete(account);
      }
    };
    const settleOne = async (
      account: string,
      a: { id: string; name: string },
      deadLettered: boolean,
    ): Promise<void> => {
      const stored = (await outcomes(store.db, runId, [account])).get(account);
      const outcome: AccountOutcome | undefined =
        stored ??
        (deadLettered
          ? {
              account,
              failure: {
                provider: options.settings.provider as 'aws',
                account,
                reason: `no worker finished the scan of account ${account} (${a.name}) after ${options.timing.retryLimit + 1} attempts; see the workers' logs, then ${resume}`,
              },
            }
          : undefined);
      if (!outcome) return;
      result.set(account, outcome);
      progress?.done(a, 'failure' in outcome);
      if (result.size === wanted.size) finish();
    };
    const heard: string[] = [];
    await boss.work(done, { batchSize: 50, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) {
        heard.push(job.id);
        const msg = doneSchema.safeParse(job.data);
        if (!msg.success) continue;
        await settle(msg.data.account, !('kind' in msg.data));
      }
    });
    const sent: string[] = [];
    // One look, not a loop: workers take jobs oldest first, so while this run's first job is
    // still waiting no worker has taken any of its jobs.
    idle = setTimeout(() => {
      void (async () => {
        const first = sent[0] === undefined ? null : await boss.getJobById(SCAN_QUEUE, sent[0]);
        if (first?.state === 'created' && result.size < wanted.size) {
          log.info(
            `no dormant worker has taken a job of run ${runId} yet; start one: dormant worker --db <the same postgres:// URL>`,
          );
        }
      })().catch(() => undefined);
    }, options.idleNoticeMs ?? 30_000);
    for (const a of accounts) {
      if (result.has(a.id)) continue;
      const id = await boss.send(
        SCAN_QUEUE,
        { runId, provider: options.settings.provider, account: a.id, name: a.name },
        {
          singletonKey: `${runId}:${a.id}`,
          expireInSeconds: options.timing.jobTimeoutSeconds,
          retryLimit: options.timing.retryLimit,
          retryDelay: 1,
          deadLetter: done,
        },
      );
      if (id) sent.push(id);
    }
    // An account finished while the jobs were being sent (a resumed run) is in the store already.
    for (const [account] of await outcomes(store.db, runId, [...wanted.keys()])) await settle(account, false);
    if (result.size < wanted.size) await Promise.race([allDone, failed]);
    await dropDoneQueue(boss, done, sent, heard);
    return accounts.map((a) => result.get(a.id)!);
  } catch (err) {
    if (err instanceof GuardError || err instanceof UsageError) throw err;
    if (err instanceof CloudError) throw err;
    throw queueDown(options.url, err, resume);
  } finally {
    clearTimeout(idle);
    await boss.offWork(done).catch(() => undefined);
    await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
  }
}

/**
 * pg-boss 10 gives every queue a table of its own: a finished run drops its done queue. Rows
 * that name the queue (foreign keys) go first: the run's scan jobs (their dead letter) and
 * the messages heard on it. A queue still named by jobs of an earlier coordinator of the run
 * (a resumed run), or by a late duplicate message, is left as it is.
 */
async function dropDoneQueue(boss: PgBoss, done: string, sent: string[], heard: string[]): Promise<void> {
  try {
    await boss.offWork(done);
    if (sent.length > 0) await boss.deleteJob(SCAN_QUEUE, sent);
    if (heard.length > 0) await boss.deleteJob(done, heard);
    await boss.deleteQueue(done);
  } catch {
    // Still referenced: harmless, it only costs an empty table.
  }
}
