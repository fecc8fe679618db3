// The service's review step on a partial scan (DESIGN §3): a project that could not be read
// stops the step with one line and stores no plan, unless serve.allowPartial; then each
// failure is logged and the plan is made from what was read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import type { Identity, Inventory } from '../model/identity.js';
import { MemoryAccount } from '../providers/memory/memory-provider.js';
import type { ScanProvider } from '../providers/provider.js';
import { listPlans } from '../store/plans.js';
import { Store } from '../store/store.js';
import { ReviewService } from './service.js';

const NOW = new Date('2026-11-22T12:00:00Z');
let dir: string;
let store: Store;

function stale(name: string): Identity {
  return {
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: `arn:aws:iam::123456789012:user/${name}`,
    name,
    path: '/',
    createdAt: '2025-01-01T00:00:00Z',
    credentials: [],
    lastSignInAt: '2025-02-01T00:00:00Z',
  };
}

/** The in-memory account, with one more account that could not be read. */
function partial(account: MemoryAccount): ScanProvider {
  return {
    name: 'aws',
    async collect(): Promise<Inventory> {
      const inv = await account.collect();
      return { ...inv, failures: [{ provider: 'aws', account: '210987654321', reason: 'AssumeRole denied' }] };
    },
    enrich: (r) => account.enrich(r),
  };
}

function service(allowPartial: boolean, logs: string[]) {
  const account = MemoryAccount.fromIdentities('123456789012', [stale('ada'), stale('ben')]);
  const log = {
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string) => logs.push(`warn ${m}`),
    error: (m: string) => logs.push(`error ${m}`),
    debug: () => undefined,
  };
  return new ReviewService({
    store,
    config: parseConfig({ remediation: { maxActionsPercent: 100 }, serve: { allowPartial } }),
    scanners: [partial(account)],
    remediation: [account],
    slack: null,
    jira: null,
    evidence: null,
    log: log as never,
    now: () => NOW,
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dormant-svc-'));
  store = await Store.open(join(dir, 'state.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the review step on a partial scan', () => {
  it('stops with one line naming the account and the setting, and stores no plan', async () => {
    const logs: string[] = [];
    await expect(service(false, logs).review()).rejects.toThrow(
      /^1 account\(s\) could not be read \(aws 210987654321: AssumeRole denied\); fix access, or set serve\.allowPartial: true to accept a partial result$/,
    );
    expect(await listPlans(store.db)).toEqual([]);
    expect(logs).toContain('warn partial scan: aws 210987654321 could not be read: AssumeRole denied');
  });

  it('with serve.allowPartial, logs each failure and plans from what was read', async () => {
    const logs: string[] = [];
    const reviewed = await service(true, logs).review();
    expect(reviewed.items).toBeGreaterThan(0);
    expect(await listPlans(store.db)).toHaveLength(1);
    expect(logs).toContain('warn partial scan: aws 210987654321 could not be read: AssumeRole denied');
  });

  it('a whole cycle still applies what was approved when the review fails, then throws the review error', async () => {
    const logs: string[] = [];
    const ok = service(true, logs);
    const reviewed = await ok.review();
    const [plan] = await listPlans(store.db);
    const { decide } = await import('../engine/decide.js');
    await decide(store, {
      planId: plan!.id,
      items: ['1'],
      all: false,
      decision: 'approve',
      by: 'alice',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
    expect(reviewed.items).toBeGreaterThan(0);
    // Next cycle: the scan is partial and not allowed, so the review fails; the approved item is applied anyway.
    await expect(service(false, logs).cycle()).rejects.toThrow(/could not be read/);
    const { getPlan } = await import('../store/plans.js');
    expect((await getPlan(store.db, plan!.id))!.items[0]!.status).toBe('done');
  });
});
