/**
 * `dormant serve`: one process that scans on a schedule, asks for review in Slack and Jira,
 * receives Slack clicks, serves the dashboard (web.enabled), applies what was approved, and
 * shuts down gracefully.
 */
import type { Command } from 'commander';
import { Cron } from 'croner';
import { serve as serveHttp } from '@hono/node-server';
import { UsageError } from '../../errors.js';
import { restore } from '../../engine/restore.js';
import { createApp } from '../../server/app.js';
import { Store } from '../../store/store.js';
import { JiraTickets } from '../../workflow/jira/jira-tickets.js';
import { readSecret } from '../../workflow/secrets.js';
import { ReviewService, providerEvidence } from '../../workflow/service.js';
import { SlackReview } from '../../workflow/slack/slack-review.js';
import { SlackSocketReceiver } from '../../workflow/slack/slack-socket.js';
import { webFromConfig, webSecrets } from '../../web/web-from-config.js';
import { buildContext, parseIntFlag, type GlobalFlags } from '../context.js';
import { openForScan } from '../sessions.js';

/** `protect` skips a tick while the previous run (the returned promise) is still going. */
function cron(expr: string, key: string, fn: () => Promise<void>): Cron {
  try {
    return new Cron(expr, { timezone: 'UTC', protect: true }, fn);
  } catch (err) {
    throw new UsageError(`${key}: '${expr}' is not a valid cron expression (${(err as Error).message})`);
  }
}

export function registerServe(program: Command, globals: () => GlobalFlags): void {
  program
    .command('serve')
    .description('run as a service: scheduled scans, Slack/Jira review, apply what was approved')
    .option('--port <PORT>', 'HTTP port for Slack interactivity and health checks (default serve.port, 8080)')
    .action(async (flags: { port?: string }) => {
      const ctx = buildContext(globals());
      const { config, log } = ctx;
      if (flags.port !== undefined) config.serve.port = parseIntFlag('--port', flags.port, 0, 65535);
      if (config.slack.enabled && (!config.slack.channel || config.slack.approvers.length === 0)) {
        throw new UsageError('slack.enabled needs slack.channel and at least one slack.approvers entry');
      }
      if (config.jira.enabled && (!config.jira.baseUrl || !config.jira.email || !config.jira.project)) {
        throw new UsageError('jira.enabled needs jira.baseUrl, jira.email and jira.project');
      }
      const signingSecret =
        config.slack.enabled && config.slack.mode === 'http'
          ? readSecret(config.slack.signingSecret, 'Slack signing secret', 'slack.signingSecret')
          : null;
      // The dashboard's secrets are checked before anything starts: a missing one is exit 2.
      if (config.web.enabled) webSecrets(config);

      const store = await Store.open(config.store.url);
      const providers = await openForScan(ctx, {});
      const remediation = providers.sessions.map((s) => s.remediation);
      const slack = config.slack.enabled
        ? SlackReview.fromConfig(store, config, { log: (l: string) => log.info(l) })
        : null;
      const jira = config.jira.enabled ? JiraTickets.fromConfig(store, config) : null;
      const service = new ReviewService({
        store,
        config,
        scanners: providers.sessions.map((s) => s.scanner),
        remediation,
        slack,
        jira,
        evidence: providerEvidence(remediation),
        log,
      });

      const web = config.web.enabled
        ? webFromConfig(
            config,
            {
              store,
              now: () => new Date(),
              restore: async (backupId, by) => (await restore(store, remediation, backupId, { by })).report,
              afterDecision: async (itemId, before) => {
                await service.afterDecision(itemId, before);
                refreshSoon();
              },
            },
            { log },
          )
        : null;
      // A web decision shows in Slack at once, not at the next cycle: one refresh for a burst of decisions.
      let refreshing: NodeJS.Timeout | null = null;
      const refreshSoon = () => {
        if (!slack || refreshing) return;
        refreshing = setTimeout(() => {
          refreshing = null;
          void service.run('Slack refresh after a web decision', () => service.sync());
        }, 500);
      };

      const app = createApp({ store, service, slack, signingSecret, log, web });
      const server = serveHttp({ fetch: app.fetch, port: config.serve.port, hostname: config.serve.host }, (info) => {
        process.stdout.write(`dormant serve: listening on http://${config.serve.host}:${info.port}\n`);
        if (config.web.enabled)
          log.info(`dashboard at ${config.web.baseUrl} (OIDC sign-in at ${config.web.oidc.issuer})`);
      });
      const socket =
        slack && config.slack.mode === 'socket'
          ? SlackSocketReceiver.fromConfig(slack, config, (l) => log.info(l))
          : null;
      await socket?.start();

      const jobs = [
        cron(config.serve.schedule, 'serve.schedule', () => service.reviewTick()),
        cron(config.serve.applySchedule, 'serve.applySchedule', () => service.applyTick()),
      ];
      log.info(`review on '${config.serve.schedule}', apply on '${config.serve.applySchedule}' (UTC)`);

      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          log.info(`${signal}: finishing the current step, then stopping`);
          for (const job of jobs) job.stop();
          if (refreshing) clearTimeout(refreshing);
          void (async () => {
            await service.shutdown();
            await socket?.stop();
            await new Promise<void>((r) => server.close(() => r()));
            await store.close();
            providers.close();
            log.info('stopped');
            resolve();
          })();
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
