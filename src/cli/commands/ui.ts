/**
 * `dormant ui [--port N]`: the dashboard for one person, on 127.0.0.1 only. It prints a
 * one-time sign-in link with a random token (the way Jupyter does); the first visit with it
 * starts a session, any later one is refused. It opens no browser by itself. Sessions last
 * as long as the process: the signing key is random and never written anywhere.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { serve as serveHttp } from '@hono/node-server';
import type { Command } from 'commander';
import { findBackup, restore } from '../../engine/restore.js';
import { UsageError } from '../../errors.js';
import { Store, noStoreYet, parseStoreUrl } from '../../store/store.js';
import { OneTimeLink } from '../../web/one-time-link.js';
import { type WebLog, createWebApp } from '../../web/web-app.js';
import type { PageDeps } from '../../web/web-types.js';
import { buildContext, parseIntFlag, type CommandContext, type GlobalFlags } from '../context.js';
import { operatorName } from '../operator.js';
import { openFor } from '../sessions.js';

export interface LocalDashboard {
  store: Store;
  /** The pages' clock (the demo's is fixed). */
  now: () => Date;
  restore?: PageDeps['restore'];
  /** 0: any free port. */
  port: number;
  /** Who decisions are recorded as (`web:NAME`). */
  name: string;
  log: WebLog;
  out: (line: string) => void;
  /** Resolves when the dashboard should stop. Default: SIGINT or SIGTERM. */
  until?: Promise<void>;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** Serves the dashboard on 127.0.0.1, prints the one-time link, and runs until told to stop. */
export async function runLocalDashboard(o: LocalDashboard): Promise<void> {
  const link = new OneTimeLink();
  const app = createWebApp({
    deps: { store: o.store, now: o.now, ...(o.restore ? { restore: o.restore } : {}) },
    auth: { kind: 'link', link, name: o.name },
    sessionSecret: randomBytes(32).toString('base64url'),
    baseUrl: null,
    // One person for as long as the process runs; no sign-in provider to go back to.
    sessionTtlMs: 12 * 3_600_000,
    cookieSuffix: `_${randomBytes(4).toString('hex')}`,
    // Only this machine's own names: a page rebinding its DNS name to 127.0.0.1 is refused.
    hosts: ['127.0.0.1', 'localhost'],
    log: o.log,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serveHttp({ fetch: app.fetch, port: o.port, hostname: '127.0.0.1' }, () => resolve(s as Server));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(`port ${o.port} on 127.0.0.1 is in use; pass --port with a free port (or 0 for any)`)
          : new UsageError(`cannot listen on 127.0.0.1:${o.port} (${err.code ?? err.message})`),
      ),
    );
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  o.out(`dormant ui: the dashboard is on ${origin} (this machine only)`);
  o.out('Open this link to sign in. It works once: keep it to yourself.');
  o.out(`  ${link.url(origin)}`);
  o.out('Press Ctrl-C to stop.');
  await (o.until ?? untilSignal());
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  o.out('dormant ui: stopped');
}

/** Restore from the dashboard: the backup's provider is opened for it, and closed after. */
function restoreThroughProviders(ctx: CommandContext, store: Store): PageDeps['restore'] {
  return async (backupId, by) => {
    const found = await findBackup(store, backupId);
    const providers = await openFor(ctx, [found.provider]);
    try {
      const run = await restore(
        store,
        providers.sessions.map((s) => s.remediation),
        found.id,
        { by },
      );
      return run.report;
    } finally {
      providers.close();
    }
  };
}

export function registerUi(program: Command, globals: () => GlobalFlags): void {
  program
    .command('ui')
    .description('the dashboard on 127.0.0.1 for you alone, behind a one-time sign-in link')
    .option('--port <PORT>', 'port on 127.0.0.1 (default: any free port)')
    .action(async (flags: { port?: string }) => {
      const ctx = buildContext(globals());
      const port = flags.port === undefined ? 0 : parseIntFlag('--port', flags.port, 0, 65535);
      const store = await Store.openExisting(ctx.config.store.url);
      if (!store) {
        throw new UsageError(
          `${noStoreYet(parseStoreUrl(ctx.config.store.url).target)}; 'dormant demo --ui' shows the dashboard on example data`,
        );
      }
      try {
        await runLocalDashboard({
          store,
          now: () => new Date(),
          restore: restoreThroughProviders(ctx, store),
          port,
          name: operatorName(),
          log: { info: (l) => ctx.log.info(l), warn: (l) => ctx.log.warn(l), error: (l) => ctx.log.error(l) },
          out: (l) => process.stdout.write(`${l}\n`),
        });
      } finally {
        await store.close();
      }
    });
}
