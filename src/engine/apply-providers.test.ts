// The same engine guarantees on every provider: the AWS provider's in-memory IAM account, the
// Entra provider's own code over an in-memory Graph and the Google provider's own code over the
// in-memory Google APIs (worlds in test/support/engineWorlds.ts). Each world plans its stale
// identities and the engine must: act only on approved items, back up before the first change,
// journal every step as intent then outcome, refuse the whole run on a protected identity or a
// limit with nothing changed, skip an identity with activity after the plan, resume a failed
// item exactly once, change nothing in a dry run, and restore from the backup.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuardError } from '../errors.js';
import type { Plan } from '../model/plan.js';
import { listBackups } from '../store/backups.js';
import { journalFor } from '../store/journal.js';
import { getPlan } from '../store/plans.js';
import { Store } from '../store/store.js';
import { awsWorld, entraWorld, googleWorld, LATER, NOW, STALE, type World } from '../../test/support/engineWorlds.js';
import { apply } from './apply.js';
import { decide } from './decide.js';
import { restore } from './restore.js';
import { scan } from './scan.js';
import { storePlan } from './storePlan.js';

const WORLDS: [string, (dir: string) => Promise<World> | World][] = [
  ['aws (in-memory IAM account)', () => awsWorld()],
  ['entra (Entra provider on an in-memory Graph)', (dir) => entraWorld(dir)],
  ['google (Workspace provider on the in-memory Google APIs)', () => googleWorld()],
];

describe.each(WORLDS)('the engine on %s', (_label, make) => {
  let dir: string;
  let store: Store;
  let world: World;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dormant-engine-'));
    store = await Store.open(join(dir, 'state.db'));
    world = await make(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function plan(): Promise<Plan> {
    const result = await scan(world.scanner, { config: world.config, now: NOW });
    return (await storePlan(store, result, world.config, 'tester', NOW)).plan;
  }
  const approveAll = (p: Plan) =>
    decide(store, {
      planId: p.id,
      items: [],
      all: true,
      decision: 'approve',
      by: 'alice',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
  const run = (p: Plan, extra: { dryRun?: boolean; maxActions?: number; now?: Date } = {}) =>
    apply(store, world.remediation, {
      planId: p.id,
      config: world.config,
      by: 'alice',
      now: () => extra.now ?? NOW,
      ...(extra.dryRun ? { dryRun: true } : {}),
      ...(extra.maxActions !== undefined ? { maxActions: extra.maxActions } : {}),
    });

  it('plans a staged disable and delete per stale identity, and never the protected one', async () => {
    const p = await plan();
    expect(p.items.map((i) => [i.identityName, i.action])).toEqual(
      STALE.flatMap((s) => [
        [world.nameOf(s), 'disable-user'],
        [world.nameOf(s), 'delete-user'],
      ]),
    );
    expect(p.items.some((i) => i.identityName === world.protectedName)).toBe(false);
  });

  it('acts only on approved items, backs up before the first change, journals intent then outcome', async () => {
    const p = await plan();
    const target = p.items.filter((i) => i.identityName === world.nameOf('ada'));
    await decide(store, {
      planId: p.id,
      items: target.map((i) => i.id),
      all: false,
      decision: 'approve',
      by: 'alice',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
    const report = await run(p);
    expect(report.done.map((i) => i.action)).toEqual(['disable-user', 'delete-user']);
    expect(world.exists('ada')).toBe(false);
    expect(world.exists('ben')).toBe(true);
    const items = (await getPlan(store.db, p.id))!.items;
    expect(items.filter((i) => i.status === 'done').map((i) => i.identityName)).toEqual([
      world.nameOf('ada'),
      world.nameOf('ada'),
    ]);
    expect(items.filter((i) => i.status === 'pending')).toHaveLength(4);
    for (const item of target) {
      const journal = await journalFor(store.db, { itemId: item.id });
      const firstChange = journal.findIndex((e) => e.phase === 'intent' && !['recheck'].includes(e.step));
      const backedUp = journal.findIndex((e) => e.step === 'backup' && e.status === 'ok');
      if (item.action === 'disable-user') expect(backedUp).toBeGreaterThan(-1);
      if (backedUp > -1) expect(backedUp).toBeLessThan(firstChange);
      // Every outcome of a step follows its intent.
      for (const [i, e] of journal.entries()) {
        if (e.phase === 'outcome' && !['recheck', 'backup', 'item', 'warning'].includes(e.step)) {
          expect(journal.slice(0, i).some((x) => x.step === e.step && x.phase === 'intent')).toBe(true);
        }
      }
      expect(journal.filter((e) => e.step === 'item' && e.status === 'done')).toHaveLength(1);
    }
    const backups = await listBackups(store.db);
    // One backup per item that changed something, each taken before that item's first change.
    expect(backups.map((b) => [b.provider, b.identityName])).toEqual(
      target.map(() => [world.remediation.provider, world.nameOf('ada')]),
    );
    expect(() => world.remediation.readBackup(backups[0]!.envelope)).not.toThrow();
  });

  it('refuses the whole run on a protected identity, changing nothing', async () => {
    const p = await plan();
    await approveAll(p);
    const forged = p.items[0]!;
    // Point the first item at the protected identity, as an edited or stale plan could.
    const protectedIdentity = (await scan(world.scanner, { config: world.config, now: NOW })).identities.find(
      (i) => i.name === world.protectedName,
    )!;
    expect(protectedIdentity.protectedReason).toBeTruthy();
    await store.db
      .updateTable('plan_items')
      .set({ identity_id: protectedIdentity.id, identity_name: protectedIdentity.name })
      .where('id', '=', forged.id)
      .execute();
    const before = world.writes();
    const refusal = await run(p).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(GuardError);
    expect((refusal as Error).message).toContain(
      `(${protectedIdentity.name}) is ${protectedIdentity.protectedReason!}`,
    );
    expect(world.writes()).toBe(before);
    expect((await getPlan(store.db, p.id))!.items.every((i) => i.status === 'approved')).toBe(true);
  });

  it('refuses a run over the action limit, changing nothing', async () => {
    const p = await plan();
    await approveAll(p);
    await expect(run(p, { maxActions: 2 })).rejects.toThrow(/more than the limit of 2 per run/);
    expect(world.writes()).toBe(0);
  });

  it('skips an identity with activity after the plan, recording why', async () => {
    const p = await plan();
    await approveAll(p);
    world.signIn('ben', new Date('2026-11-22T13:00:00Z'));
    const report = await run(p, { now: LATER });
    // The disable is skipped with the activity, and the delete behind it is skipped with it.
    expect(report.skipped.map((s) => [s.item.identityName, s.item.action, s.reason])).toEqual([
      [
        world.nameOf('ben'),
        'disable-user',
        expect.stringMatching(/^activity after the plan was made: signed in /) as unknown,
      ],
      [
        world.nameOf('ben'),
        'delete-user',
        expect.stringMatching(
          /^its disable-user \(item \d+\) was skipped: activity after the plan was made/,
        ) as unknown,
      ],
    ]);
    expect(world.exists('ben')).toBe(true);
    expect(world.exists('ada')).toBe(false);
  });

  it('fails one item mid-way, goes on with the others, and resumes it exactly once', async () => {
    const p = await plan();
    await approveAll(p);
    world.failOnce('cy');
    const first = await run(p);
    expect(first.failed.map((f) => [f.item.identityName, f.item.action])).toEqual([
      [world.nameOf('cy'), 'disable-user'],
    ]);
    expect(world.exists('ada')).toBe(false);
    expect(world.exists('cy')).toBe(true);
    const second = await run(p);
    expect(second.done.map((i) => [i.identityName, i.action])).toEqual([
      [world.nameOf('cy'), 'disable-user'],
      [world.nameOf('cy'), 'delete-user'],
    ]);
    expect(world.exists('cy')).toBe(false);
    const third = await run(p);
    expect(third.done).toEqual([]);
    for (const item of (await getPlan(store.db, p.id))!.items) {
      const journal = await journalFor(store.db, { itemId: item.id });
      expect(journal.filter((e) => e.step === 'item' && e.status === 'done')).toHaveLength(1);
    }
  });

  it('never deletes, on a retry after a failed delete, an identity someone re-enabled meanwhile', async () => {
    const p = await plan();
    await approveAll(p);
    world.failOnce('ada', 'delete-user');
    const first = await run(p);
    expect(first.failed.map((f) => [f.item.identityName, f.item.action])).toEqual([
      [world.nameOf('ada'), 'delete-user'],
    ]);
    world.reEnable('ada');
    const second = await run(p, { now: LATER });
    expect(second.skipped.map((s) => [s.item.action, s.reason])).toEqual([
      ['delete-user', 'the user was re-enabled after it was disabled'],
    ]);
    expect(world.exists('ada')).toBe(true);
  });

  it('a restore closes what is still open for the identity, so an old plan cannot retire it again', async () => {
    const p = await plan();
    const disable = p.items.find((i) => i.identityName === world.nameOf('ben') && i.action === 'disable-user')!;
    const del = p.items.find((i) => i.identityName === world.nameOf('ben') && i.action === 'delete-user')!;
    await decide(store, {
      planId: p.id,
      items: [disable.id],
      all: false,
      decision: 'approve',
      by: 'alice',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
    await run(p);
    await restore(store, world.remediation, world.nameOf('ben'), { by: 'alice' });
    const after = (await getPlan(store.db, p.id))!.items.find((i) => i.id === del.id)!;
    expect([after.status, after.reason]).toEqual(['skipped', 'restored by alice: plan again if it is still unused']);
    // Approving it now changes nothing: it is no longer pending.
    const late = await decide(store, {
      planId: p.id,
      items: [del.id],
      all: false,
      decision: 'approve',
      by: 'bob',
      reason: null,
      channel: 'cli',
      now: NOW,
    });
    expect(late.changed).toEqual([]);
  });

  it('changes nothing in a dry run', async () => {
    const p = await plan();
    await approveAll(p);
    const report = await run(p, { dryRun: true });
    expect(report.wouldDo).toHaveLength(6);
    expect(world.writes()).toBe(0);
    expect(await listBackups(store.db)).toEqual([]);
  });

  it('restores a deleted identity from its backup', async () => {
    const p = await plan();
    await approveAll(p);
    await run(p);
    expect(world.exists('ada')).toBe(false);
    const { report } = await restore(store, world.remediation, world.nameOf('ada'), { by: 'alice' });
    expect(report.restored.length).toBeGreaterThan(0);
    expect(world.exists('ada')).toBe(true);
  });
});
