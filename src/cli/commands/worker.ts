/**
 * `dormant worker`: scans accounts of `--org` runs that coordinators put on the PostgreSQL
 * queue (DESIGN §8), until SIGTERM or SIGINT. Every worker uses its own config (the same
 * dormant.yml as the coordinator's, minus what the run fixes: window, time, source).
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { parseStoreUrl } from '../../store/store.js';
import { startWorker } from '../../workflow/org-queue/worker.js';
import { type GlobalFlags, buildContext, parseIntFlag } from '../context.js';
import { withStore } from './remediate.js';

export function registerWorker(program: Command, globals: () => GlobalFlags): void {
  program
    .command('worker')
    .description('take per-account jobs of --org runs from the PostgreSQL queue (needs a postgres:// store)')
    .option('--concurrency <N>', 'accounts scanned at once (default aws.organization.concurrency)')
    .action(async (flags: { concurrency?: string }) => {
      const ctx = buildContext(globals());
      if (parseStoreUrl(ctx.config.store.url).engine !== 'postgres') {
        throw new UsageError(
          'dormant worker needs a PostgreSQL store (store.url or --db postgres://…); with SQLite, scan --org does all the work in one process',
        );
      }
      const concurrency =
        flags.concurrency !== undefined
          ? parseIntFlag('--concurrency', flags.concurrency, 1, 64)
          : ctx.config.aws.organization.concurrency;
      await withStore(ctx, async (store) => {
        const worker = await startWorker({
          store,
          url: ctx.config.store.url,
          config: ctx.config,
          concurrency,
          timing: ctx.config.aws.organization,
          log: ctx.log,
        });
        const stop = () => void worker.stop();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        await worker.done;
      });
    });
}
