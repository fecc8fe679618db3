// The dashboard in real Chromium (Debian's /usr/bin/chromium, driven by playwright-core; see
// scripts/test-deps.sh), signed in through a real OIDC provider (oidc-provider): an approver
// sees the overview, filters findings, opens an identity with its evidence, approves two items
// and denies one with a reason; the service's apply cycle runs; the plan shows them done. A
// viewer finds no decision buttons and a forged POST from the page is refused. `dormant ui`'s
// link works once. Every page is screenshotted at laptop (1280×800) and phone (390×844) sizes
// into test-artifacts/screenshots/, and no page may trip the Content-Security-Policy.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Evidence } from '../src/model/evidence.js';
import { getItem } from '../src/store/plans.js';
import { startCli } from './support/cli.js';
import { NOW } from './support/engineWorlds.js';
import { waitFor } from './support/serve.js';
import { type WebWorld, startWebWorld } from './support/webWorld.js';

const SHOTS = fileURLToPath(new URL('../test-artifacts/screenshots/', import.meta.url));
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What CloudTrail would say about the identity: the evidence the review step saves for each item. */
async function trailEvidence(item: { identityName: string }): Promise<Evidence> {
  return [
    {
      source: 'cloudtrail',
      title: 'CloudTrail',
      status: 'ok',
      collectedAt: NOW.toISOString(),
      summary: `last event 2025-02-01: ConsoleLogin by ${item.identityName}`,
      scope: 'us-east-1',
      items: [
        {
          at: '2025-02-01T09:14:00Z',
          summary: 'ConsoleLogin from 203.0.113.9 (us-east-1)',
          fields: { eventName: 'ConsoleLogin', sourceIPAddress: '203.0.113.9' },
        },
      ],
    },
  ];
}

const dir = mkdtempSync(join(tmpdir(), 'dormant-web-browser-'));
const dbPath = join(dir, 'state.db');
let w: WebWorld;
let browser: Browser;
/** Content-Security-Policy violations and page errors, by page. */
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  w = await startWebWorld({ storeUrl: dbPath, evidence: trailEvidence });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await w?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: LAPTOP });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  return { context, page };
}

/** The page at laptop and phone size, full length; the paths go to the test output. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of [
    ['laptop', LAPTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    const path = join(SHOTS, `${name}-${size}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
  }
  await page.setViewportSize(LAPTOP);
}

/** Through the provider's login form, as a person would. */
async function signInAs(page: Page, login: string): Promise<void> {
  await page.goto(`${w.url}/`);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.waitForURL(`${w.url}/`);
}

/** Clicks a submit button and waits for the page the POST answers with. */
async function submitting(page: Page, click: () => Promise<void>): Promise<void> {
  const answered = page.waitForResponse((r) => r.request().method() === 'POST');
  await click();
  expect((await answered).status()).toBe(200);
  await page.waitForLoadState('domcontentloaded');
}

const statusOf = async (seq: number) => (await getItem(w.store.db, w.items.find((i) => i.seq === seq)!.id))!.status;

describe('the dashboard in Chromium', () => {
  it('takes an approver from sign-in through findings, evidence and decisions to applied items', async () => {
    const { context, page } = await newPage();
    await signInAs(page, 'alice');
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' }).isVisible()).resolves.toBe(true);
    expect(await page.locator('.who .email').textContent()).toBe('alice@example.com');
    await shoot(page, 'overview');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Findings' }).click();
    await page.getByLabel('Search').fill('ben');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/findings\?.*q=ben/);
    const rows = page.locator('table tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    for (const text of await rows.allTextContents()) expect(text).toContain('ben');
    expect(await page.locator('table tbody').textContent()).not.toContain('ada');
    await shoot(page, 'findings-filtered');

    await rows.first().getByRole('link', { name: 'ben' }).click();
    await page.waitForURL(/\/identities\/aws\/123456789012\//);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('ben');
    expect(await page.locator('main').textContent()).toContain('ConsoleLogin from 203.0.113.9 (us-east-1)');
    await shoot(page, 'identity');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Plans' }).click();
    await shoot(page, 'plans');
    await page.getByRole('link', { name: w.planId }).first().click();
    await page.waitForURL(`${w.url}/plans/${w.planId}`);
    await shoot(page, 'plan-pending');

    // Two approvals in bulk, one denial with a reason on its own row.
    await page.getByLabel('Select item 1 (ada)').check();
    await page.getByLabel('Select item 3 (ben)').check();
    await submitting(page, () => page.getByRole('button', { name: 'Approve selected' }).click());
    expect(await statusOf(1)).toBe('approved');
    expect(await statusOf(3)).toBe('approved');
    await page.getByLabel('Reason for item 5').fill('cy runs the quarterly audit');
    await submitting(page, () => page.locator('#item-5').getByRole('button', { name: 'Deny' }).click());
    expect(await statusOf(5)).toBe('denied');
    const decisions = await w.store.db
      .selectFrom('approvals')
      .select(['item_id', 'decision', 'decided_by', 'channel', 'reason'])
      .orderBy('id')
      .execute();
    expect(decisions.map((d) => [d.decision, d.decided_by, d.channel])).toEqual([
      ['approve', 'web:alice@example.com', 'web'],
      ['approve', 'web:alice@example.com', 'web'],
      ['deny', 'web:alice@example.com', 'web'],
    ]);
    expect(decisions[2]!.reason).toBe('cy runs the quarterly audit');
    expect(await page.locator('#item-5').textContent()).toContain('cy runs the quarterly audit');
    await shoot(page, 'plan-decided');

    // The service's apply cycle: approved items are re-checked, backed up and applied.
    const applied = await w.service.applyApproved();
    expect(applied).toMatchObject({ applied: 2, failed: 0 });
    // A fresh GET (a reload would post the last form again: the decision page is the POST's answer).
    await page.goto(`${w.url}/plans/${w.planId}`);
    expect(await page.locator('#item-1 .badge').textContent()).toBe('done');
    expect(await page.locator('#item-3 .badge').textContent()).toBe('done');
    expect(await page.locator('#item-5 .badge').textContent()).toBe('denied');
    await shoot(page, 'plan-done');

    for (const [link, name] of [
      ['History', 'history'],
      ['Audit', 'audit'],
      ['Backups', 'backups'],
    ]) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link! }).click();
      await page.waitForURL(`${w.url}/${name}`);
      await shoot(page, name!);
    }
    await page.getByRole('link', { name: 'Restore ada…' }).first().click();
    await shoot(page, 'restore-confirm');
    await submitting(page, () => page.getByRole('button', { name: 'Restore ada' }).click());
    expect(await page.locator('main').textContent()).toMatch(/restored/i);
    await shoot(page, 'restore-done');
    await context.close();
  });

  it('shows a viewer no decision buttons and refuses a POST forged from the page', async () => {
    const { context, page } = await newPage();
    await signInAs(page, 'victor');
    expect(await page.locator('.badge', { hasText: 'viewer' }).count()).toBe(1);
    await page.goto(`${w.url}/plans/${w.planId}`);
    for (const name of ['Approve', 'Deny', 'Snooze', 'Approve selected']) {
      expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    }
    await shoot(page, 'plan-viewer');
    // Item 4 (delete ben) is still pending: the approver above left it.
    const item = w.items.find((i) => i.seq === 4)!;
    const approvals = (await w.store.db.selectFrom('approvals').selectAll().execute()).length;
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/decide')),
      page.evaluate(
        ({ action, fields }) => {
          const form = document.createElement('form');
          form.method = 'post';
          form.action = action;
          for (const [name, value] of Object.entries(fields)) {
            const input = document.createElement('input');
            input.type = 'hidden';
            input.name = name;
            input.value = value;
            form.appendChild(input);
          }
          document.body.appendChild(form);
          form.submit();
        },
        { action: `/plans/${w.planId}/decide`, fields: { _csrf: csrf, item: item.id, decision: 'approve' } },
      ),
    ]);
    expect(response.status()).toBe(403);
    await page.waitForLoadState('domcontentloaded');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Viewers cannot decide');
    await shoot(page, 'refused-viewer');
    expect(await statusOf(4)).toBe('pending');
    expect(await w.store.db.selectFrom('approvals').selectAll().execute()).toHaveLength(approvals);
    await context.close();
  });

  it("signs in once with dormant ui's link, and shows a used link as used", async () => {
    const cli = startCli(['ui', '--port', '0', '--db', `sqlite:${dbPath}`], { env: { DORMANT_OPERATOR: 'olga' } });
    try {
      const link = await waitFor(
        'the sign-in link',
        () => /^ {2}(http:\/\/127\.0\.0\.1:\d+\/auth\/link\?\S+)$/m.exec(cli.stdout())?.[1],
      );
      const first = await newPage();
      await first.page.goto(link);
      expect(new URL(first.page.url()).pathname).toBe('/');
      expect(await first.page.locator('.who .email').textContent()).toBe('olga');
      await first.context.close();
      const second = await newPage();
      await second.page.goto(link);
      expect(await second.page.getByRole('heading', { level: 1 }).textContent()).toBe('This link was already used');
      await shoot(second.page, 'ui-link-used');
      await second.context.close();
    } finally {
      cli.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('tripped no Content-Security-Policy rule and threw no script error on any page', () => {
    expect(problems).toEqual([]);
  });
});
