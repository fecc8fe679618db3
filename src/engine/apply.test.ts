// The apply engine on an in-memory account and a real SQLite file: guards, staging, re-check, resume, dry run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../config/config.js';
import { GuardError } from '../errors.js';
import type { Identity } from '../model/identity.js';
import type { ActionName } from '../model/finding.js';
import type { Plan } from '../model/plan.js';
import { MemoryAccount } from '../providers/memory/memory-provider.js';
import type { ActionTarget, StepRunner } from '../providers/provider.js';
import type { MemoryBackup } from '../providers/memory/memory-provider.js';
import { describersFor } from '../providers/registry.js';
import { backupsForUser } from '../store/backups.js';
import { journalFor } from '../store/journal.js';
import { getPlan, insertPlan, openItems, snoozedUntil } from '../store/plans.js';
import { saveScan } from '../store/scans.js';
import { Store, newId } from '../store/store.js';
import { apply } from './apply.js';
import { decide } from './decide.js';
import { buildPlan } from './plan.js';
import { scan } from './scan.js';
import { accessKey, awsUser, password } from '../../test/support/identities.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ACCOUNT = '123456789012';

function user(name: string, createdDaysAgo: number, extra: Partial<Identity> = {}): Identity {
  return awsUser(name, new Date(NOW.getTime() - createdDaysAgo * 86_400_000).toISOString(), extra);
}

function staleUser(name: string): Identity {
  return user(name, 400, {
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

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dormant-apply-'));
  store = await Store.open(join(dir, 'state.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function planFor(account: MemoryAccount, config: Config) {
  const result = await scan(account, { config, now: NOW });
  return store.transaction(async (trx) => {
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
}

function fleet(stale: string[], active = 10): MemoryAccount {
  const identities = [...stale.map(staleUser), ...Array.from({ length: active }, (_, i) => user(`active${i}`, 5))];
  return MemoryAccount.fromIdentities(ACCOUNT, identities);
}

const loose = parseConfig({ remediation: { deleteAfterDays: 0, maxActionsPercent: 100 } });

/** Approves these items of the plan (all of them by default) as alice, from the CLI. */
function approve(plan: Plan, items: string[] | 'all' = 'all') {
  return decide(store, {
    planId: plan.id,
    items: items === 'all' ? [] : items,
    all: items === 'all',
    decision: 'approve',
    by: 'alice',
    reason: null,
    channel: 'cli',
    now: NOW,
  });
}

describe('apply', () => {
  it('disables then deletes in one run with deleteAfterDays 0, backing up first', async () => {
    const account = fleet(['sam']);
    const plan = await planFor(account, loose);
    await approve(plan);
    const report = await apply(store, account, { planId: plan.id, config: loose, by: 'alice', now: () => NOW });
    expect(report.done.map((i) => i.action)).toEqual(['disable-user', 'delete-user']);
    expect(account.users.has('sam')).toBe(false);
    const backups = await backupsForUser(store.db, 'sam');
    expect(backups).toHaveLength(2);
    expect((backups.at(-1)!.envelope.data as MemoryBackup).accessKeys[0]!.status).toBe('Active');
    const journal = await journalFor(store.db, { planId: plan.id });
    const firstChange = journal.findIndex((e) => e.phase === 'intent' && e.step.startsWith('deactivate-key'));
    const firstBackup = journal.findIndex((e) => e.step === 'backup');
    expect(firstBackup).toBeGreaterThanOrEqual(0);
    expect(firstBackup).toBeLessThan(firstChange);
  });

  it('keeps the delete waiting deleteAfterDays after the disable', async () => {
    const config = parseConfig({ remediation: { deleteAfterDays: 30, maxActionsPercent: 100 } });
    const account = fleet(['sam']);
    const plan = await planFor(account, config);
    await approve(plan);
    const report = await apply(store, account, { planId: plan.id, config, by: 'alice', now: () => NOW });
    expect(report.done.map((i) => i.action)).toEqual(['disable-user']);
    expect(report.notDue.map((n) => n.reason)).toEqual(['not before 2026-12-22T12:00:00.000Z']);
    expect(account.users.get('sam')!.identity.credentials.map((c) => c.status)).toEqual(['Inactive']);
  });

  it('acts only on approved items', async () => {
    const account = fleet(['sam', 'tom']);
    const plan = await planFor(account, loose);
    const sams = plan.items.filter((i) => i.identityName === 'sam').map((i) => i.id);
    await approve(plan, sams);
    await apply(store, account, { planId: plan.id, config: loose, by: 'alice', now: () => NOW });
    expect(account.users.has('sam')).toBe(false);
    expect(account.users.get('tom')!.identity.credentials.map((c) => c.status)).toEqual(['Active', 'enabled']);
  });

  it('refuses a run over maxActionsPercent or maxActionsPerRun, changing nothing', async () => {
    const account = fleet(['a1', 'a2'], 8); // 2 users disabled + deleted = 2 identities (4 actions) of 10
    const tight = parseConfig({ remediation: { deleteAfterDays: 0, maxActionsPercent: 10 } });
    const plan = await planFor(account, tight);
    await approve(plan);
    await expect(
      apply(store, account, { planId: plan.id, config: tight, by: 'alice', now: () => NOW }),
    ).rejects.toThrow(/would act on 2 of 10 identities, more than remediation.maxActionsPercent \(10%, 1\)/);
    await expect(
      apply(store, account, { planId: plan.id, config: loose, maxActions: 3, by: 'alice', now: () => NOW }),
    ).rejects.toThrow(GuardError);
    expect(account.calls).toEqual([]);
  });

  it('refuses to act on the caller or on a user tagged exempt since the plan, changing nothing', async () => {
    const account = fleet(['sam', 'dormant-runner']);
    const plan = await planFor(account, loose);
    // The caller is never planned; a plan that names it anyway (edited, or made as someone else) is refused.
    expect(plan.items.some((i) => i.identityName === 'dormant-runner')).toBe(false);
    const forged = {
      ...plan.items[0]!,
      id: `${plan.id}-99`,
      seq: 99,
      identityName: 'dormant-runner',
      identityId: `arn:aws:iam::${ACCOUNT}:user/dormant-runner`,
      dependsOn: null,
    };
    await store.transaction((trx) =>
      trx
        .insertInto('plan_items')
        .values({
          id: forged.id,
          plan_id: plan.id,
          seq: 99,
          identity_id: forged.identityId,
          identity_name: forged.identityName,
          account: ACCOUNT,
          credential_id: null,
          action: 'disable-user',
          rule_ids: '[]',
          finding_ids: '[]',
          status: 'approved',
          not_before: NOW.toISOString(),
          depends_on: null,
          sentence: 'forged',
          reason: null,
          evidence: null,
          decided_by: 'x',
          decided_at: NOW.toISOString(),
          updated_at: NOW.toISOString(),
        })
        .execute(),
    );
    await expect(
      apply(store, account, { planId: plan.id, config: loose, by: 'alice', now: () => NOW }),
    ).rejects.toThrow(/is the identity dormant runs as/);

    const account2 = fleet(['sue']);
    const plan2 = await planFor(account2, loose);
    expect(plan2.items.map((i) => i.identityName)).toEqual(['sue', 'sue']);
    await approve(plan2);
    account2.users.get('sue')!.tags['dormant:exempt'] = 'True';
    await expect(
      apply(store, account2, { planId: plan2.id, config: loose, by: 'alice', now: () => NOW }),
    ).rejects.toThrow(/exempt: tag dormant:exempt=true/);
    expect(account2.calls).toEqual([]);
    expect((await getPlan(store.db, plan2.id))!.items.every((i) => i.status === 'approved')).toBe(true);
  });

  it('skips a user with activity after the plan, recording why', async () => {
    const account = fleet(['sam']);
    const plan = await planFor(account, loose);
    await approve(plan);
    const key = account.users.get('sam')!.identity.credentials.find((c) => c.kind === 'access-key')!;
    key.lastUsedAt = '2026-11-22T13:00:00Z';
    const later = new Date('2026-11-22T14:00:00Z');
    const report = await apply(store, account, { planId: plan.id, config: loose, by: 'alice', now: () => later });
    const why = `activity after the plan was made: access key ${key.id} used at 2026-11-22T13:00:00Z`;
    expect(report.skipped.map((s) => s.reason)).toEqual([why, `its disable-user (item 1) was skipped: ${why}`]);
    expect(account.calls).toEqual([]);
    const items = (await getPlan(store.db, plan.id))!.items;
    expect(items[0]!.status).toBe('skipped');
    // The delete waited for a disable that will never happen: it is skipped with it, not left waiting.
    expect(items[1]!.status).toBe('skipped');
    expect(report.notDue).toEqual([]);
  });

  it('fails one item on an API error, goes on with the others, and resumes it on the next run', async () => {
    class Flaky extends MemoryAccount {
      failures = 1;
      override async perform(action: ActionName, target: ActionTarget, steps: StepRunner) {
        if (target.identity.name === 'sam' && action === 'delete-user' && this.failures-- > 0) {
          await steps.step('delete-login-profile', async () => undefined);
          throw new Error('AWS failed iam:DeleteUser with HTTP 500 (InternalFailure) after 5 attempts; retry later');
        }
        return super.perform(action, target, steps);
      }
    }
    const base = fleet(['sam', 'tom']);
    const account = Object.assign(new Flaky(ACCOUNT), { users: base.users }) as Flaky;
    Object.defineProperty(account, 'users', { value: base.users });
    const plan = await planFor(account, loose);
    await approve(plan);
    const first = await apply(store, account, { planId: plan.id, config: loose, by: 'alice', now: () => NOW });
    expect(first.failed.map((f) => [f.item.identityName, f.item.action])).toEqual([['sam', 'delete-user']]);
    expect(first.done.map((i) => `${i.identityName}:${i.action}`)).toEqual([
      'sam:disable-user',
      'tom:disable-user',
      'tom:delete-user',
    ]);
    expect(account.users.has('sam')).toBe(true);
    const second = await apply(store, account, { planId: plan.id, config: loose, by: 'alice', now: () => NOW });
    expect(second.done.map((i) => `${i.identityName}:${i.action}`)).toEqual(['sam:delete-user']);
    expect(account.users.has('sam')).toBe(false);
    const done = (await journalFor(store.db, { planId: plan.id })).filter(
      (e) => e.step === 'item' && e.status === 'done',
    );
    expect(done).toHaveLength(4);
  });

  it('dry run changes nothing and writes no journal', async () => {
    const account = fleet(['sam']);
    const plan = await planFor(account, loose);
    const report = await apply(store, account, {
      planId: plan.id,
      config: loose,
      by: 'alice',
      yes: true,
      dryRun: true,
      now: () => NOW,
    });
    expect(report.wouldDo.map((i) => i.action)).toEqual(['disable-user', 'delete-user']);
    expect(account.calls).toEqual([]);
    expect(await journalFor(store.db, { planId: plan.id })).toEqual([]);
    expect((await getPlan(store.db, plan.id))!.items.every((i) => i.status === 'pending')).toBe(true);
  });

  it('apply --yes records the operator as the approver', async () => {
    const account = fleet(['sam']);
    const plan = await planFor(account, loose);
    await apply(store, account, { planId: plan.id, config: loose, by: 'ops-oncall', yes: true, now: () => NOW });
    const items = (await getPlan(store.db, plan.id))!.items;
    expect(items.map((i) => [i.status, i.decidedBy])).toEqual([
      ['done', 'ops-oncall'],
      ['done', 'ops-oncall'],
    ]);
  });
});
