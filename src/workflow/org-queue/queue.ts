/**
 * The queue an Organization run shares with workers (DESIGN §8): pg-boss on the store's own
 * PostgreSQL, in a schema of its own. One job per (run, account) on the scan queue; one
 * message per finished account on the run's own done queue, which is also the jobs' dead-letter
 * queue, so the coordinator hears of an account whose retries all failed the same way.
 */
import PgBoss from 'pg-boss';
import { z } from 'zod';
import { CloudError } from '../../errors.js';
import { redactUrl } from '../../store/store.js';

export const SCAN_QUEUE = 'dormant-org-scan';
export const doneQueue = (runId: string): string => `dormant-org-done-${runId}`;

export const jobSchema = z.strictObject({
  runId: z.string().min(1),
  provider: z.string().min(1),
  account: z.string().min(1),
  name: z.string(),
});
export type ScanJob = z.infer<typeof jobSchema>;

/** What reaches a run's done queue: a worker's word, or (without `kind`) a dead-lettered job. */
export const doneSchema = z.union([z.strictObject({ kind: z.literal('done'), account: z.string().min(1) }), jobSchema]);

export interface QueueTiming {
  /** A job whose worker said nothing for this long is expired and retried by another worker. */
  jobTimeoutSeconds: number;
  retryLimit: number;
}

/** A connection failure as one line: where (without credentials), what, and how to go on. */
export function queueDown(url: string, err: unknown, resume: string): CloudError {
  const code = (err as { code?: string })?.code ?? (err as Error)?.message?.split('\n')[0] ?? 'error';
  return new CloudError(
    `the queue's database (${redactUrl(url)}) is unreachable (${code}); ${resume}`,
    'QueueUnreachable',
  );
}

export async function startBoss(url: string, timing: QueueTiming, onError: (err: unknown) => void): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: 'dormant_queue',
    // Expired jobs are found by maintenance: run it often enough for the job timeout.
    maintenanceIntervalSeconds: Math.max(1, Math.min(120, Math.floor(timing.jobTimeoutSeconds / 2))),
    monitorStateIntervalSeconds: 3600,
    max: 4,
  });
  boss.on('error', onError);
  await boss.start();
  await boss.createQueue(SCAN_QUEUE).catch(() => undefined);
  return boss;
}
