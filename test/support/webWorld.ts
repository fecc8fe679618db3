// A dashboard world for the HTTP and browser tests: a store holding a real scan and plan (the
// review service's own review step over an in-memory AWS account, test/support/engineWorlds.ts),
// a real OIDC provider with an approver, a viewer, an approver by group and an outsider, and
// `dormant serve`'s HTTP app (src/server/app.ts) with the dashboard built from the `web`
// section of the config, as serve builds it, served on a free local port.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { type Config, parseConfig } from '../../src/config/config.js';
import { restore } from '../../src/engine/restore.js';
import type { PlanItem } from '../../src/model/plan.js';
import { createApp } from '../../src/server/app.js';
import { getPlan } from '../../src/store/plans.js';
import { Store } from '../../src/store/store.js';
import type { WebAppOptions } from '../../src/web/web-app.js';
import { webFromConfig } from '../../src/web/web-from-config.js';
import { type EvidenceSource, ReviewService, providerEvidence } from '../../src/workflow/service.js';
import { NOW, type World, awsWorld } from './engineWorlds.js';
import { type TestOidcProvider, startOidcProvider } from './oidcProvider.js';
import { type DashboardServer, startDashboardServer } from './webClient.js';

export const ACCOUNTS = {
  alice: { email: 'alice@example.com' },
  victor: { email: 'victor@example.com' },
  gail: { email: 'gail@example.com', groups: ['secops', 'everyone'] },
  oscar: { email: 'oscar@example.com', groups: ['everyone'] },
  unverified: { email: 'bob@example.com', emailVerified: false },
  unvouched: { email: 'bob@example.com', emailVerified: null },
};
export const APPROVERS = ['alice@example.com', 'secops', 'bob@example.com'];
export const VIEWERS = ['Victor@Example.com'];

export interface WebWorld {
  world: World;
  store: Store;
  service: ReviewService;
  config: Config;
  oidc: TestOidcProvider;
  server: DashboardServer;
  url: string;
  planId: string;
  items: PlanItem[];
  /** Every line the dashboard logged. */
  logs: string[];
  /** Secrets that must never appear in pages or logs. */
  secrets: string[];
  stop(): Promise<void>;
}

export interface WebWorldOptions {
  /** The store (a SQLite file or a postgres:// URL). */
  storeUrl: string;
  /** Options passed over the ones the config gives (clock, signInLimit, sessionTtlMs). */
  overrides?: Partial<WebAppOptions>;
  /** Point web.oidc.issuer elsewhere (a closed port: the provider is down). */
  issuer?: string;
  /** Evidence per item (default: the in-memory provider's own, which has none). */
  evidence?: EvidenceSource;
}

export function webConfig(o: { baseUrl: string; issuer: string; clientId: string }): Config {
  return parseConfig({
    remediation: { deleteAfterDays: 0, maxActionsPercent: 100, maxActionsPerRun: 50 },
    web: {
      enabled: true,
      baseUrl: o.baseUrl,
      oidc: { issuer: o.issuer, clientId: o.clientId, clientSecret: { env: 'DORMANT_TEST_OIDC_SECRET' } },
      approvers: APPROVERS,
      viewers: VIEWERS,
      sessionSecret: { env: 'DORMANT_TEST_SESSION_SECRET' },
    },
  });
}

export async function startWebWorld(o: WebWorldOptions): Promise<WebWorld> {
  const server = await startDashboardServer();
  const oidc = await startOidcProvider({ accounts: ACCOUNTS, redirectUris: [`${server.url}/auth/callback`] });
  const sessionSecret = randomBytes(32).toString('hex');
  process.env.DORMANT_TEST_OIDC_SECRET = oidc.clientSecret;
  process.env.DORMANT_TEST_SESSION_SECRET = sessionSecret;
  const config = webConfig({ baseUrl: server.url, issuer: o.issuer ?? oidc.issuer, clientId: oidc.clientId });
  const world = awsWorld();
  const store = await Store.open(o.storeUrl);
  const log = pino({ level: 'silent' });
  const service = new ReviewService({
    store,
    config,
    scanners: [world.scanner],
    remediation: [world.remediation],
    slack: null,
    jira: null,
    evidence: o.evidence ?? providerEvidence([world.remediation]),
    log,
    now: () => NOW,
  });
  const reviewed = await service.review();
  if (!reviewed.planId) throw new Error('the review stored no plan');
  const stored = await getPlan(store.db, reviewed.planId);
  if (!stored || stored.items.length === 0) throw new Error('the review stored an empty plan');
  const logs: string[] = [];
  const line = (level: string) => (l: string) => logs.push(`${level} ${l}`);
  const web = webFromConfig(
    config,
    {
      store,
      // Decisions made on the pages are dated now, like those of the CLI beside them.
      now: () => new Date(),
      restore: async (backupId, by) => (await restore(store, [world.remediation], backupId, { by })).report,
      afterDecision: (itemId, before) => service.afterDecision(itemId, before),
    },
    {
      log: { info: line('info'), warn: line('warn'), error: line('error') },
      ...(o.overrides ? { overrides: o.overrides } : {}),
    },
  );
  server.use(createApp({ store, service, slack: null, signingSecret: null, log, web }));
  return {
    world,
    store,
    service,
    config,
    oidc,
    server,
    url: server.url,
    planId: reviewed.planId,
    items: stored.items,
    logs,
    secrets: [oidc.clientSecret, sessionSecret],
    async stop() {
      await server.stop();
      await oidc.stop();
      await store.close().catch(() => undefined);
    },
  };
}
