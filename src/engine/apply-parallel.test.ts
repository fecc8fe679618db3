// Apply runs items of different identities at once (remediation.concurrency), one identity's
// items in order, each identity under its own lock (shared with restore); the guards use the
// provider's cheaper read when it has one, so each item re-reads its identity once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../config/config.js';
import { GuardError } from '../errors.js';
import type { ActionName } from '../model/finding.js';
import type { Identity } from '../model/identity.js';
import type { Plan } from '../model/plan.js';
import { MemoryAccount } from '../providers/memory/memory-provider.js';
import type { ActionTarget, IdentityRef, StepRunner } from '../providers/provider.js';
import { describersFor } from '../providers/registry.js';
import { getPlan, insertPlan, openItems, snoozedUntil } from '../store/plans.js';
import { saveScan } from '../store/scans.js';
import { Store, newId } from '../store/store.js';
import { accessKey, awsUser, password } from '../../test/support/identities.js';
import { apply } from './apply.js';
import { decide } from './decide.js';
import { buildPlan } from './plan.js';
import { restore } from './restore.js';
import { scan } from './scan.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ACCOUNT = '123456789012';
const DAY = 86_400_000;

function staleUser(name: string): Identity {
  return awsUser(name, new Date(NOW.getTime() - 400 * DAY).toISOString(), {
    credentials: [
      accessKey({
        handle: 'access_key_1',
        createdAt: '2025-10-01T00:00:00Z',
        lastUse: 'used',
        lastUsedAt: '2025-11-01T00:00:00Z',
      }),
      password({ createdAt: '2025-10-01T00:00:00Z', lastUse: 'never', lastUsedAt: null }),
    ],
  });
}

/** A memory account whose actions take a while and record when they start and end, and which reads it counts. */
class SlowAccount extends MemoryAccount {
  inFlight = 0;
  maxInFlight = 0;
  readonly events: string[] = [];
  readonly reads: Record<'reread' | 'readMarks', number> = { reread: 0, readMarks: 0 };

  override async perform(action: ActionName, target: ActionTarget, steps: StepRunner): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.events.push(`start ${action} ${target.identity.name}`);
    try {
      await new Promise((r) => setTimeout(r, 30));
      await super.perform(action, target, steps);
    } finally {
      this.events.push(`end ${action} ${target.identity.name}`);
      this.inFlight--;
    }
  }

  override async reread(target: IdentityRef): Promise<Identity | null> {
    this.reads.reread++;
    return super.reread(target);
  }

  async readMarks(target: IdentityRef): Promise<Identity | null> {
    this.reads.readMarks++;
    const live = await super.reread(target);
    return live ? { ...live, credentials: [] } : null;
  }
}

function slowFleet(names: string[]): SlowAccount {
  const base = MemoryAccount.fromIdentities(ACCOUNT, names.map(staleUser));
  const account = new SlowAccount(ACCOUNT);
  for (const [name, u] of base.users) account.users.set(name, u);
  return account;
}

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dormant-apply-parallel-'));
  store = await Store.open(join(dir, 'state.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function approvedPlan(account: MemoryAccount, config: Config): Promise<Plan> {
  const result = await scan(account, { config, now: NOW });
  const plan = await store.transaction(async (trx) => {
    const scanId = await saveScan(trx, result);
    const out = buildPlan({
      result,
      config,
      planId: newId('pl'),
      scanId,
      createdBy: 't',
      now: NOW,
      describers: describersFor(config),
      openItems: await openItems(trx),
      snoozed: await snoozedUntil(trx, NOW.toISOString()),
    });
    await insertPlan(trx, out.plan);
    return out.plan;
  });
  await decide(store, {
    planId: plan.id,
    items: [],
    all: true,
    decision: 'approve',
    by: 'alice',
    reason: null,
    channel: 'cli',
    now: NOW,
  });
  return plan;
}

const config = (concurrency: number) =>
  parseConfig({ remediation: { deleteAfterDays: 0, maxActionsPercent: 100, maxActionsPerRun: 500, concurrency } });

const NAMES = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'];

describe('apply concurrency', () => {
  it('runs up to remediation.concurrency identities at once, and one identity’s disable before its delete', async () => {
    const account = slowFleet(NAMES);
    const cfg = config(4);
    const plan = await approvedPlan(account, cfg);
    const report = await apply(store, account, { planId: plan.id, config: cfg, by: 'alice', now: () => NOW });
    expect(report.done).toHaveLength(16);
    expect(report.failed).toEqual([]);
    expect(account.maxInFlight).toBe(4);
    for (const name of NAMES) {
      const disableEnd = account.events.indexOf(`end disable-user ${name}`);
      const deleteStart = account.events.indexOf(`start delete-user ${name}`);
      expect(disableEnd, name).toBeGreaterThanOrEqual(0);
      expect(deleteStart, `${name}: the delete starts after its disable ended`).toBeGreaterThan(disableEnd);
      expect(account.users.has(name)).toBe(false);
    }
    // Every item re-read its identity once; the guards took the cheaper read, once per identity.
    expect(account.reads).toEqual({ reread: 16, readMarks: 8 });
    expect(await store.db.selectFrom('locks').select('name').execute()).toEqual([]);
  });

  it('with concurrency 1 runs one item at a time', async () => {
    const account = slowFleet(NAMES.slice(0, 4));
    const cfg = config(1);
    const plan = await approvedPlan(account, cfg);
    const report = await apply(store, account, { planId: plan.id, config: cfg, by: 'alice', now: () => NOW });
    expect(report.done).toHaveLength(8);
    expect(account.maxInFlight).toBe(1);
  });

  it('leaves the items of an identity another apply or restore holds for the next run, and does the rest', async () => {
    const account = slowFleet(['u1', 'u2']);
    const cfg = config(4);
    const plan = await approvedPlan(account, cfg);
    const u1 = plan.items.find((i) => i.identityName === 'u1')!;
    const lock = await store.acquireLock(`identity:aws|${u1.identityId}`, 60_000);
    if (!('owner' in lock)) throw new Error('could not take the test lock');
    const first = await apply(store, account, { planId: plan.id, config: cfg, by: 'alice', now: () => NOW });
    expect(first.done.map((i) => `${i.identityName} ${i.action}`).sort()).toEqual([
      'u2 delete-user',
      'u2 disable-user',
    ]);
    expect(first.notDue.filter((n) => n.item.identityName === 'u1').map((n) => n.reason)).toEqual([
      expect.stringMatching(/^another apply or restore is acting on this identity/),
      expect.stringMatching(/^another apply or restore is acting on this identity|waits for/),
    ]);
    expect(account.users.get('u1')!.identity.credentials.map((c) => c.status)).toEqual(['Active', 'enabled']);
    expect(
      (await getPlan(store.db, plan.id))!.items.filter((i) => i.identityName === 'u1').map((i) => i.status),
    ).toEqual(['approved', 'approved']);

    await store.releaseLock(`identity:aws|${u1.identityId}`, lock.owner);
    const second = await apply(store, account, { planId: plan.id, config: cfg, by: 'alice', now: () => NOW });
    expect(second.done.map((i) => `${i.identityName} ${i.action}`)).toEqual(['u1 disable-user', 'u1 delete-user']);
    expect(account.users.has('u1')).toBe(false);
  });

  it('refuses a restore while an apply holds the identity (exit 4), restoring nothing', async () => {
    const account = slowFleet(['u1']);
    const cfg = config(4);
    const plan = await approvedPlan(account, cfg);
    await apply(store, account, { planId: plan.id, config: cfg, by: 'alice', now: () => NOW });
    expect(account.users.has('u1')).toBe(false);
    const item = plan.items[0]!;
    const lock = await store.acquireLock(`identity:aws|${item.identityId}`, 60_000);
    if (!('owner' in lock)) throw new Error('could not take the test lock');
    const refused = await restore(store, account, 'u1', { by: 'alice' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GuardError);
    expect((refused as Error).message).toMatch(
      /^an apply or another restore is acting on u1 \(.+\); wait for it to finish and restore again$/,
    );
    expect(account.users.has('u1')).toBe(false);
    await store.releaseLock(`identity:aws|${item.identityId}`, lock.owner);
    await restore(store, account, 'u1', { by: 'alice' });
    expect(account.users.has('u1')).toBe(true);
  });

  it('a restore that lost its identity lock stops before its next step, changing nothing', async () => {
    const account = slowFleet(['u1']);
    const cfg = config(4);
    const plan = await approvedPlan(account, cfg);
    await apply(store, account, { planId: plan.id, config: cfg, by: 'alice', now: () => NOW });
    expect(account.users.has('u1')).toBe(false);
    const callsBefore = account.calls.length;
    // As if the restore stalled past the lock's lifetime and an apply took the lock over.
    const stalled = Object.create(store) as Store;
    stalled.withLock = async (_name, _ttl, fn) => ({ value: await fn({ lost: () => true }) });
    const refused = await restore(stalled, account, 'u1', { by: 'alice' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GuardError);
    expect((refused as Error).message).toMatch(
      /^lost the lock on u1 to an apply or another restore; stopping before \S+: restore again$/,
    );
    expect(account.users.has('u1')).toBe(false);
    expect(account.calls.slice(callsBefore)).toEqual([]);
  });
});
