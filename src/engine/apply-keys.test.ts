// Credential verdicts staged like identities (DORMANT-GCP-001: disable the key, delete it
// `deleteAfterDays` later), on the Google Cloud provider's own code over the in-memory APIs:
// the plan's two items and their order, the delete waiting from when the disable was done, a
// key re-enabled in between never deleted, a key deleted outside dormant counted as gone, and
// a restore bringing back a disabled key but saying plainly that a deleted one cannot come back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as admin from '@googleapis/admin';
import * as auth from 'google-auth-library';
import * as iam from '@googleapis/iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/config.js';
import { DAY_MS } from '../model/time.js';
import { createGoogleSession } from '../providers/google/google-entry.js';
import { GoogleTenant } from '../providers/google/memory/google-tenant.js';
import type { ProviderSession } from '../providers/provider.js';
import { Store } from '../store/store.js';
import { testServiceAccountKey } from '../../test/support/google.js';
import { apply } from './apply.js';
import { decide } from './decide.js';
import { restore } from './restore.js';
import { scan } from './scan.js';
import { storePlan } from './storePlan.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const KEY = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';
const SA = 'ci-deployer@proj-a.iam.gserviceaccount.com';

let dir: string;
let store: Store;
let tenant: GoogleTenant;
let clock: Date;
let session: ProviderSession;
let config: Config;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dormant-keys-'));
  store = await Store.open(join(dir, 'state.db'));
  clock = NOW;
  tenant = new GoogleTenant({ clock: () => clock });
  tenant.cloud.addProject('proj-a');
  const sa = tenant.cloud.addServiceAccount('proj-a', { accountId: 'ci-deployer' });
  tenant.cloud.addKey(sa.uniqueId, { keyId: KEY, createdAt: '2025-06-01T00:00:00Z' });
  tenant.cloud.addKey(sa.uniqueId, { keyId: 'a'.repeat(40), createdAt: '2025-01-01T00:00:00Z' });
  tenant.cloud.recordAuthentication(sa.uniqueId, '2026-11-21T00:00:00Z', 'a'.repeat(40));
  for (let i = 0; i < 3; i++) {
    const other = tenant.cloud.addServiceAccount('proj-a', { accountId: `busy-${i}` });
    tenant.cloud.recordAuthentication(other.uniqueId, '2026-11-21T00:00:00Z');
  }
  const { key, publicKeyPem } = testServiceAccountKey();
  tenant.memory.registerServiceAccount(key.client_email, publicKeyPem, key.client_id!);
  config = parseConfig({
    remediation: { deleteAfterDays: 30, maxActionsPercent: 100 },
    google: { enabled: true, workspace: { enabled: false }, cloud: { projects: ['proj-a'] } },
  });
  session = createGoogleSession({
    sdks: { auth, admin, iam },
    google: config.google,
    fetch: tenant.memory.fetch,
    key,
    clock: () => clock,
  });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function planAndApprove() {
  const result = await scan(session.scanner, { config, now: NOW });
  const { plan } = await storePlan(store, result, config, 'tester', NOW);
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
const run = (planId: string, at: Date) => {
  clock = at;
  return apply(store, session.remediation, { planId, config, by: 'alice', now: () => at });
};
const storedKey = () => tenant.cloud.keys.get(KEY);

describe('a staged key: disable now, delete deleteAfterDays later', () => {
  it('plans deactivate-key then delete-key, the delete depending on the disable and saying it cannot be undone', async () => {
    const plan = await planAndApprove();
    expect(plan.items.map((i) => [i.identityName, i.action, i.credentialId])).toEqual([
      [SA, 'deactivate-key', KEY],
      [SA, 'delete-key', KEY],
    ]);
    const [disable, del] = plan.items;
    expect(del!.dependsOn).toBe(disable!.id);
    expect(Date.parse(del!.notBefore) - NOW.getTime()).toBe(30 * DAY_MS);
    expect(del!.sentence).toMatch(/30 days after it is disabled .*; a deleted key cannot come back$/);
  });

  it('disables first; the delete waits 30 days from the disable, then runs', async () => {
    const plan = await planAndApprove();
    const first = await run(plan.id, new Date(NOW.getTime() + 2 * DAY_MS));
    expect(first.done.map((i) => i.action)).toEqual(['deactivate-key']);
    expect(first.notDue.map((n) => n.item.action)).toEqual(['delete-key']);
    expect(storedKey()?.disabled).toBe(true);
    // 30 days after the plan but only 28 after the disable: still not due.
    const early = await run(plan.id, new Date(NOW.getTime() + 30 * DAY_MS + 1000));
    expect(early.done).toEqual([]);
    expect(early.notDue[0]?.reason).toMatch(/^not before /);
    const late = await run(plan.id, new Date(NOW.getTime() + 33 * DAY_MS));
    expect(late.done.map((i) => i.action)).toEqual(['delete-key']);
    expect(storedKey()).toBeUndefined();
    // The other, used key was never touched.
    expect(tenant.cloud.keys.get('a'.repeat(40))?.disabled).toBe(false);
  });

  it('with deleteAfterDays 0 the delete still waits 3 days after the disable (Policy Analyzer lags)', async () => {
    config.remediation.deleteAfterDays = 0;
    const plan = await planAndApprove();
    expect(plan.items[1]!.sentence).toMatch(/3 days after it is disabled/);
    const first = await run(plan.id, NOW);
    expect(first.done.map((i) => i.action)).toEqual(['deactivate-key']);
    expect(first.notDue.map((n) => n.item.action)).toEqual(['delete-key']);
    expect((await run(plan.id, new Date(NOW.getTime() + 2 * DAY_MS))).done).toEqual([]);
    expect((await run(plan.id, new Date(NOW.getTime() + 3 * DAY_MS + 1000))).done.map((i) => i.action)).toEqual([
      'delete-key',
    ]);
  });

  it('restore undoes only what dormant did: a key and an account someone else disabled stay disabled', async () => {
    const plan = await planAndApprove();
    await run(plan.id, NOW);
    expect(storedKey()?.disabled).toBe(true);
    // After dormant's disable, an admin disables the other key (compromised) and the account.
    tenant.cloud.keys.get('a'.repeat(40))!.disabled = true;
    tenant.cloud.findServiceAccount(SA)!.disabled = true;
    const back = await restore(store, session.remediation, SA, { by: 'alice' });
    expect(storedKey()?.disabled).toBe(false);
    expect(tenant.cloud.keys.get('a'.repeat(40))?.disabled).toBe(true);
    expect(tenant.cloud.findServiceAccount(SA)?.disabled).toBe(true);
    expect(back.report.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/is disabled, but not by dormant; it is left disabled/),
        expect.stringMatching(new RegExp(`key ${'a'.repeat(40)} .*is disabled, but not by dormant`)),
      ]),
    );
  });

  it('never deletes a key someone re-enabled after the disable', async () => {
    const plan = await planAndApprove();
    await run(plan.id, NOW);
    storedKey()!.disabled = false;
    const later = await run(plan.id, new Date(NOW.getTime() + 31 * DAY_MS));
    expect(later.done).toEqual([]);
    expect(later.skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/was re-enabled after it was disabled$/),
    ]);
    expect(storedKey()?.disabled).toBe(false);
  });

  it('a key deleted outside dormant before the delete is skipped as gone', async () => {
    const plan = await planAndApprove();
    await run(plan.id, NOW);
    tenant.cloud.keys.delete(KEY);
    const later = await run(plan.id, new Date(NOW.getTime() + 31 * DAY_MS));
    expect(later.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/no longer exists/)]);
  });

  it('restore re-enables a disabled key, and says plainly that a deleted one cannot come back', async () => {
    const plan = await planAndApprove();
    await run(plan.id, NOW);
    const back = await restore(store, session.remediation, SA, { by: 'alice' });
    expect(back.report.restored.join(' ')).toMatch(new RegExp(KEY));
    expect(storedKey()?.disabled).toBe(false);

    const plan2 = await planAndApprove();
    await run(plan2.id, NOW);
    await run(plan2.id, new Date(NOW.getTime() + 31 * DAY_MS));
    expect(storedKey()).toBeUndefined();
    const gone = await restore(store, session.remediation, SA, { by: 'alice' });
    expect(gone.report.cannotRestore.join(' ')).toMatch(new RegExp(`key ${KEY} .*cannot come back`));
  });
});
