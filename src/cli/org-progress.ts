/**
 * Progress of an Organization run (issue 9): on a TTY a cli-progress bar (accounts done,
 * failed, to go, ETA); otherwise one plain info line per account and a summary, so a CI log
 * or a service journal still shows where a long run is. Nothing with --quiet.
 */
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { OrgProgress } from '../engine/org-scan.js';

export function orgProgress(options: {
  tty: boolean;
  quiet: boolean;
  log: Logger;
  what?: string;
}): OrgProgress | undefined {
  if (options.quiet) return undefined;
  const what = options.what ?? 'accounts';
  let total = 0;
  let done = 0;
  let failed = 0;
  if (options.tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `{bar} {value}/{total} ${what} | {failed} failed | {togo} to go | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    return {
      start(n) {
        total = n;
        bar.start(n, 0, { failed: 0, togo: n });
      },
      done(_account, isFailure) {
        done++;
        if (isFailure) failed++;
        bar.update(done, { failed, togo: total - done });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const started = Date.now();
  return {
    start(n) {
      total = n;
      options.log.info(`scanning ${n} ${what}`);
    },
    done(account, isFailure) {
      done++;
      if (isFailure) failed++;
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 ? Math.round((elapsed / done) * (total - done)) : 0;
      options.log.info(
        `${what} ${done}/${total}: ${account.id} (${account.name}) ${isFailure ? 'failed' : 'scanned'}; ${failed} failed, ${total - done} to go, ETA ${eta}s`,
      );
    },
    stop() {
      if (total > 0) options.log.info(`${done}/${total} ${what} done, ${failed} failed`);
    },
  };
}
