// A world for the dashboard's page tests (test/web-pages.test.ts) and its benchmark: two
// in-memory AWS accounts with stale and active users, scanned and planned by the real engine
// into a real store, and a tiny Hono app that signs a fake user in and registers the pages,
// the way the platform (src/web/web-app.ts) does after its session and CSRF checks.
import { Hono } from 'hono';
import { type Config, parseConfig } from '../../src/config/config.js';
import { scan } from '../../src/engine/scan.js';
import { storePlan } from '../../src/engine/storePlan.js';
import type { ScanResult } from '../../src/model/finding.js';
import type { Identity } from '../../src/model/identity.js';
import type { Plan } from '../../src/model/plan.js';
import { MemoryAccount } from '../../src/providers/memory/memory-provider.js';
import type { Store } from '../../src/store/store.js';
import { registerPages } from '../../src/web/routes.js';
import type { PageDeps, WebEnv, WebUser } from '../../src/web/web-types.js';
import { accessKey, awsUser, password } from './identities.js';

export const NOW = new Date('2026-11-22T12:00:00Z');
const DAY = 86_400_000;
export const ago = (days: number): string => new Date(NOW.getTime() - days * DAY).toISOString();

export const ACCOUNT_A = '111111111111';
export const ACCOUNT_B = '222222222222';

function userWith(name: string, account: string, passwordDays: number, keyDays: number): Identity {
  return awsUser(name, ago(400), {
    account,
    credentials: [
      password({ createdAt: ago(400), lastUse: 'used', lastUsedAt: ago(passwordDays) }),
      accessKey({ handle: 'access_key_1', createdAt: ago(400), lastUse: 'used', lastUsedAt: ago(keyDays) }),
    ],
    tags: { owner: `${name.replace(/\W/g, '')}@example.com` },
  });
}

/** Inactive: its password unused 200 days, its key 150 (four findings, two plan items). */
export const staleUser = (name: string, account = ACCOUNT_A) => userWith(name, account, 200, 150);
/** Signs in, but its key is unused 120 days (two findings, one plan item). */
export const keyOnlyUser = (name: string, account = ACCOUNT_A) => userWith(name, account, 1, 120);
/** In use: no finding. */
export const activeUser = (name: string, account = ACCOUNT_A) => userWith(name, account, 1, 1);

export const APPROVER: WebUser = {
  email: 'ann@example.com',
  groups: ['secops'],
  canDecide: true,
  actor: 'web:ann@example.com',
  csrf: 'csrf-ann-0001',
};
export const VIEWER: WebUser = {
  email: 'vic@example.com',
  groups: [],
  canDecide: false,
  actor: 'web:vic@example.com',
  csrf: 'csrf-vic-0001',
};

export interface PagesWorld {
  accounts: MemoryAccount[];
  config: Config;
  result: ScanResult;
  plan: Plan;
}

/**
 * Account A: alice, '=HYPERLINK' (a name a spreadsheet would run), carol (key only), erin
 * (active) and the caller; account B: zed, and `extraStale` more stale users.
 */
export async function seedWorld(store: Store, extraStale = 0): Promise<PagesWorld> {
  const a = MemoryAccount.fromIdentities(ACCOUNT_A, [
    staleUser('alice'),
    staleUser('=HYPERLINK'),
    keyOnlyUser('carol'),
    activeUser('erin'),
    awsUser('dormant-runner', ago(1), { account: ACCOUNT_A }),
    ...Array.from({ length: extraStale }, (_, i) => staleUser(`bulk-${String(i).padStart(3, '0')}`)),
  ]);
  const b = MemoryAccount.fromIdentities(ACCOUNT_B, [staleUser('zed', ACCOUNT_B)]);
  const config = parseConfig({ remediation: { deleteAfterDays: 0, maxActionsPercent: 100, maxActionsPerRun: 500 } });
  const result = await scan([a, b], { config, now: NOW });
  const { plan } = await storePlan(store, result, config, 'test-planner', NOW);
  return { accounts: [a, b], config, result, plan };
}

/** The pages behind a fake sign-in: `user` is set on every request, as the platform's middleware does. */
export function pagesApp(store: Store, user: WebUser, extra: Partial<PageDeps> = {}): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  app.use('*', async (c, next) => {
    c.set('user', user);
    await next();
  });
  registerPages(app, { store, now: () => NOW, ...extra });
  return app;
}

/** A urlencoded POST body; repeated keys for arrays. */
export function form(fields: Record<string, string | string[] | number>): {
  method: 'POST';
  body: string;
  headers: Record<string, string>;
} {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    for (const one of Array.isArray(v) ? v : [v]) body.append(k, String(one));
  }
  return {
    method: 'POST',
    body: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/** The HTML's text with tags dropped and whitespace collapsed, for asserting sentences. */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}
