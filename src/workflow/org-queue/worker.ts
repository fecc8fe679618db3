/**
 * A worker of Organization runs (DESIGN §8): takes one account's job at a time on each of its
 * `concurrency` slots, scans it with the run's settings over this machine's config, saves the
 * outcome keyed by (run, account) and tells the run's coordinator. A worker killed mid-account
 * leaves its job active; pg-boss expires it and another worker scans the account again (the
 * first saved outcome wins, so nothing counts twice).
 */
import { hostname } from 'node:os';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import { scanAccount } from '../../engine/org-scan.js';
import type { ProviderName } from '../../model/identity.js';
import { providerEntry } from '../../providers/registry.js';
import { outcomes, runSettings, saveOutcome } from '../../store/org-runs.js';
import type { Store } from '../../store/store.js';
import { type QueueTiming, SCAN_QUEUE, doneQueue, jobSchema, queueDown, startBoss } from './queue.js';

export interface WorkerOptions {
  store: Store;
  url: string;
  config: Config;
  concurrency: number;
  timing: QueueTiming;
  log: Logger;
}

export interface RunningWorker {
  /** Resolves when the worker stopped (stop() or a lost database, then rejected). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { store, log } = options;
  const me = `${hostname()}:${process.pid}`;
  let fail: (err: unknown) => void = () => undefined;
  let stopped: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    stopped = resolve;
  });
  const boss: PgBoss = await startBoss(options.url, options.timing, (err) => {
    // Stop polling and maintenance, or the process would hang after saying it lost the database.
    void boss?.stop({ graceful: false, wait: false }).catch(() => undefined);
    fail(queueDown(options.url, err, 'start the worker again when it is back'));
  }).catch((err: unknown) => {
    throw queueDown(options.url, err, 'check --db and start the worker again');
  });
  const handle = async (data: unknown): Promise<void> => {
    const job = jobSchema.parse(data);
    const settings = await runSettings(store.db, job.runId);
    if (!settings) throw new Error(`run ${job.runId} is not in the store`);
    // A resumed coordinator queues again every account without an outcome, some of which may
    // still be queued from before (singletonKey does not dedupe on pg-boss's standard policy):
    // the second job of an account already saved only tells the coordinator, it scans nothing.
    if ((await outcomes(store.db, job.runId, [job.account])).size > 0) {
      await boss.send(doneQueue(job.runId), { kind: 'done', account: job.account });
      log.info(`run ${job.runId}: account ${job.account} (${job.name}) was already scanned: skipped`);
      return;
    }
    const config: Config = structuredClone(options.config);
    config.inactiveDays = settings.inactiveDays;
    config.aws.organization.enabled = true;
    const started = Date.now();
    const org = await providerEntry(settings.provider as ProviderName).organization?.({
      config,
      ...(settings.source !== null ? { source: settings.source } : {}),
    });
    if (!org) throw new Error(`provider ${settings.provider} has no organization mode`);
    try {
      const outcome = await scanAccount(
        org,
        { id: job.account, name: job.name },
        { config, now: new Date(settings.asOf), resolveKeys: settings.resolveKeys },
      );
      const first = await saveOutcome(store.db, job.runId, outcome, me);
      await boss.send(doneQueue(job.runId), { kind: 'done', account: job.account });
      log.info(
        `run ${job.runId}: account ${job.account} (${job.name}) ${'failure' in outcome ? `failed: ${outcome.failure.reason}` : 'scanned'} in ${Date.now() - started} ms${first ? '' : ' (already saved by another worker: kept the first)'}`,
      );
    } finally {
      org.close();
    }
  };
  for (let i = 0; i < options.concurrency; i++) {
    await boss.work(SCAN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) {
        try {
          await handle(job.data);
        } catch (err) {
          // pg-boss keeps the error only in the job's output: say it here, then let it retry.
          log.error(`job ${job.id}: ${(err as Error).message ?? String(err)}; pg-boss retries it on another attempt`);
          throw err;
        }
      }
    });
  }
  log.info(`worker ${me} is taking jobs (${options.concurrency} at a time)`);
  return {
    done,
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 30_000 }).catch(() => undefined);
      stopped();
    },
  };
}
