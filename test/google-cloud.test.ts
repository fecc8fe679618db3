// The Google Cloud half of the Google provider (DESIGN §2d) over the in-memory IAM, Policy
// Analyzer and Resource Manager, through Google's own clients: every case of the inventory,
// failures and warnings per project, the call budget, and disable/delete/restore round trips.
import { beforeEach, describe, expect, it } from 'vitest';
import { DormantError } from '../src/errors.js';
import type { BackupEnvelope } from '../src/model/backup.js';
import type { Identity } from '../src/model/identity.js';
import { collectCloud } from '../src/providers/google/cloud-collect.js';
import { CloudRemediation } from '../src/providers/google/cloud-remediation.js';
import type { GoogleContext } from '../src/providers/google/google-context.js';
import { CloudState, cloudRoutes, type StoredServiceAccount } from '../src/providers/google/memory/cloud.js';
import { GoogleMemory } from '../src/providers/google/memory/google-memory.js';
import type { IdentityRef, StepRunner } from '../src/providers/provider.js';
import { googleTestContext, testGoogleMemory, TEST_SA_EMAIL } from './support/google.js';

const DAY = 86_400_000;
const START = new Date('2026-06-01T12:00:00Z');
let now = START;
const ago = (days: number) => new Date(now.getTime() - days * DAY);
let state: CloudState;
let memory: GoogleMemory;

function context(google: Record<string, unknown> = { cloud: { projects: ['prod'] } }): GoogleContext {
  memory = testGoogleMemory({ clock: () => now, routes: cloudRoutes(state), isAdmin: () => false });
  return googleTestContext(memory, { google, clock: () => now });
}

beforeEach(() => {
  now = START;
  state = new CloudState(() => now);
  state.addOrganization('100000000001');
});

const byName = (ids: Identity[]) => new Map(ids.map((i) => [i.name.split('@')[0]!, i]));
const ref = (sa: StoredServiceAccount): IdentityRef => ({
  provider: 'google',
  account: sa.projectId,
  id: sa.uniqueId,
  name: sa.email,
});

describe('collect: one project with every case', () => {
  it('maps accounts and user-managed keys with their last authentication', async () => {
    state.addProject('prod', { projectNumber: '222222222222' });
    const add = (accountId: string, seed = {}) => state.addServiceAccount('prod', { accountId, ...seed });
    const old = add('old-busy');
    const oldKey = state.addKey(old.email, { createdAt: ago(400) });
    state.recordAuthentication(old.email, ago(1), oldKey.keyId);
    const fresh = add('fresh');
    const freshKey = state.addKey(fresh.email, { createdAt: ago(1) });
    const dis = add('with-disabled-key');
    state.addKey(dis.email, { createdAt: ago(300), disabled: true });
    const sys = add('system-only');
    state.addKey(sys.email, { createdAt: ago(2), keyType: 'SYSTEM_MANAGED' });
    add('bare');
    add('off', { disabled: true });
    const exp = add('expired');
    state.addKey(exp.email, { createdAt: ago(200), validBeforeTime: ago(10).toISOString() });
    state.addServiceAccount('prod', { email: '222222222222-compute@developer.gserviceaccount.com' });
    state.addServiceAccount('prod', { email: TEST_SA_EMAIL });

    const result = await collectCloud(context(), now, { caller: TEST_SA_EMAIL });
    expect(result).toMatchObject({ accounts: ['prod'], warnings: [], failures: [] });
    const m = byName(result.identities);
    expect(m.get('old-busy')).toMatchObject({
      provider: 'google',
      account: 'prod',
      kind: 'service-account',
      id: old.uniqueId,
      name: old.email,
      enabled: true,
      createdAt: ago(400).toISOString().replace('.000', ''),
      signIn: { lastUse: 'used', at: expect.stringMatching(/^2026-05-3[01]T08:00:00Z$/) },
      credentials: [{ kind: 'key', id: oldKey.keyId, status: 'enabled', enabled: true, lastUse: 'used' }],
    });
    expect(m.get('fresh')!.credentials).toEqual([
      {
        kind: 'key',
        id: freshKey.keyId,
        status: 'enabled',
        enabled: true,
        createdAt: '2026-05-31T12:00:00Z',
        lastUsedAt: null,
        lastUse: 'never',
      },
    ]);
    expect(m.get('fresh')!.signIn).toEqual({ lastUse: 'never', at: null });
    expect(m.get('with-disabled-key')!.credentials[0]).toMatchObject({ status: 'disabled', enabled: false });
    expect(m.get('system-only')).toMatchObject({ credentials: [], createdAt: null });
    // No key, no activity: no age either, so the rule can give no verdict.
    expect(m.get('bare')).toMatchObject({ credentials: [], createdAt: null, signIn: { lastUse: 'never' } });
    expect(m.get('off')!.enabled).toBe(false);
    expect(m.get('expired')!.credentials[0]).toMatchObject({ status: 'expired', enabled: false });
    expect(m.get('222222222222-compute')!.protectedReason).toBe('the Compute Engine default service account');
    expect(m.get('dormant-scanner')).toMatchObject({ protectedReason: 'the identity dormant runs as', isCaller: true });
    expect(m.get('old-busy')!.protectedReason).toBeNull();
  });
});

describe('collect: many projects', () => {
  it('lists a project that fails as a failure with one line, and reads the others whole', async () => {
    for (const p of ['a', 'b', 'c']) state.addServiceAccount(state.addProject(p).projectId, { accountId: `sa-${p}` });
    state.disableApi('b', 'iam.googleapis.com');
    const result = await collectCloud(context({ cloud: { projects: ['a', 'b', 'c', 'missing'] } }), now);
    expect(result.accounts.sort()).toEqual(['a', 'c']);
    expect(result.identities.map((i) => i.account).sort()).toEqual(['a', 'c']);
    expect(result.failures.map((f) => f.account)).toEqual(['b', 'missing']);
    for (const f of result.failures) expect(f.reason).not.toContain('\n');
    expect(result.failures[0]!.reason).toMatch(/API is not enabled.*iam\.googleapis\.com/);
    expect(result.failures[1]!.reason).toMatch(/403 IAM_PERMISSION_DENIED.*may not exist/);
  });

  it('makes last use unknown, with one warning naming the fix, where Policy Analyzer is off or refused', async () => {
    for (const p of ['on', 'off1', 'off2', 'denied']) {
      state.addProject(p);
      const sa = state.addServiceAccount(p, { accountId: 'worker' });
      state.addKey(sa.email, { createdAt: ago(300) });
    }
    state.disableApi('off1', 'policyanalyzer.googleapis.com');
    state.disableApi('off2', 'policyanalyzer.googleapis.com');
    state.revoke('denied', 'roles/policyanalyzer.activityAnalysisViewer');
    const result = await collectCloud(context({ cloud: { projects: ['on', 'off1', 'off2', 'denied'] } }), now, {
      caller: TEST_SA_EMAIL,
    });
    expect(result.failures).toEqual([]);
    for (const i of result.identities) {
      const unknown = i.account !== 'on';
      expect(i.signIn!.lastUse).toBe(unknown ? 'unknown' : 'never');
      expect(i.credentials[0]!.lastUse).toBe(unknown ? 'unknown' : 'never');
    }
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings[0]).toMatch(
      /Policy Analyzer API is not enabled in projects off1, off2: .*unknown.*enable policyanalyzer\.googleapis\.com/,
    );
    expect(result.warnings[1]).toMatch(
      /refused .* in project denied \(403\).*grant dormant-scanner@dormant-admin\.iam\.gserviceaccount\.com roles\/policyanalyzer\.activityAnalysisViewer/,
    );
  });

  it('finds every active project under an organization and its folders, once, and fails a folder it cannot list', async () => {
    const org = 'organizations/100000000001';
    const f1 = state.addFolder(org, { id: '300000000001' });
    const f2 = state.addFolder(f1, { id: '300000000002' });
    const locked = state.addFolder(org, { id: '300000000003' });
    state.addProject('top', { parent: org });
    state.addProject('mid', { parent: f1 });
    state.addProject('deep', { parent: f2 });
    state.addProject('leaving', { parent: f2, state: 'DELETE_REQUESTED' });
    state.addProject('behind-lock', { parent: locked });
    state.revoke(locked, 'roles/browser');
    const ctx = context({ cloud: { projects: ['deep'], organization: '100000000001', folders: ['300000000002'] } });
    const result = await collectCloud(ctx, now);
    expect(result.accounts.sort()).toEqual(['deep', 'mid', 'top']);
    expect(result.failures).toEqual([
      {
        provider: 'google',
        account: locked,
        reason: expect.stringContaining(`listing the projects and folders in ${locked}`),
      },
    ]);
  });

  it('reads Policy Analyzer to the end through short and empty pages', async () => {
    state.addProject('prod');
    const sas = Array.from({ length: 5 }, (_, i) => state.addServiceAccount('prod', { accountId: `w${i}` }));
    for (const sa of sas) state.recordAuthentication(sa.email, ago(3));
    state.paging = { maxPerPage: 2, emptyFirstPage: true, trailingEmptyPage: true };
    const result = await collectCloud(context(), now);
    expect(result.identities.every((i) => i.signIn!.lastUse === 'used')).toBe(true);
    // Per type: one empty page, three short ones, one trailing empty page.
    expect(memory.count('policyanalyzer.activities.query')).toBe(2 + 5);
  });

  it('costs calls per project and per account, never per key: 130 accounts are two list pages', async () => {
    for (const p of ['big', 'small']) state.addProject(p);
    for (let i = 0; i < 130; i++) {
      const sa = state.addServiceAccount('big', { accountId: `sa-${i}` });
      for (let k = 0; k < 3; k++) state.addKey(sa.email, { createdAt: ago(100 + k) });
    }
    const small = state.addServiceAccount('small', { accountId: 'one' });
    state.addKey(small.email, { createdAt: ago(5) });
    const ctx = context({ cloud: { projects: ['big', 'small'], concurrency: 4 } });
    const result = await collectCloud(ctx, now);
    expect(result.identities).toHaveLength(131);
    expect(result.identities.flatMap((i) => i.credentials)).toHaveLength(391);
    expect(memory.count('iam.serviceAccounts.list')).toBe(2 + 1);
    expect(memory.count('iam.keys.list')).toBe(131);
    expect(memory.count('policyanalyzer.activities.query')).toBe(2 * 2);
    expect(memory.count(/iam\.keys\.(get|disable|delete)|serviceAccounts\.get/)).toBe(0);
    expect(memory.count()).toBe(3 + 131 + 4);
  });

  it('rides out throttling below it, and warns when Policy Analyzer keeps failing', async () => {
    state.addProject('prod');
    state.addKey(state.addServiceAccount('prod', { accountId: 'w' }).email, { createdAt: ago(50) });
    const ctx = context({ cloud: { projects: ['prod'] }, maxAttempts: 3 });
    memory.fault('iam.keys.list', { status: 429, times: 2 });
    memory.fault('policyanalyzer.activities.query', { status: 503, times: 6 });
    const result = await collectCloud(ctx, now);
    expect(result.failures).toEqual([]);
    expect(result.identities[0]!.credentials[0]!.lastUse).toBe('unknown');
    expect(result.warnings).toEqual([
      expect.stringMatching(/^Google Cloud: Policy Analyzer could not be read in project prod \(.*503/),
    ]);
    expect(ctx.counter.retryCount).toBeGreaterThanOrEqual(4);
  });

  it('stops the whole scan, in one line, when the credentials are refused', async () => {
    state.addProject('prod');
    const stranger = new GoogleMemory({ clock: () => now, routes: cloudRoutes(state), isAdmin: () => false });
    const ctx = googleTestContext(stranger, { google: { cloud: { projects: ['prod'] } } });
    const err = await collectCloud(ctx, now).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DormantError);
    expect((err as Error).message).toMatch(/invalid_grant/);
    expect((err as Error).message).not.toContain('\n');
  });
});

/** A StepRunner that records step names and runs them. */
function recorder(): StepRunner & { names: string[]; warnings: string[] } {
  const names: string[] = [];
  const warnings: string[] = [];
  return { names, warnings, step: (name, fn) => (names.push(name), fn()), warn: (m) => void warnings.push(m) };
}

describe('remediation', () => {
  let sa: StoredServiceAccount;
  let remediation: CloudRemediation;
  let keys: string[];

  beforeEach(() => {
    state.addProject('prod');
    sa = state.addServiceAccount('prod', { accountId: 'idle', displayName: 'Idle' });
    keys = [ago(400), ago(300)].map((createdAt) => state.addKey(sa.email, { createdAt }).keyId);
    state.recordAuthentication(sa.email, ago(200), keys[0]);
    state.addKey(sa.email, { createdAt: ago(1), keyType: 'SYSTEM_MANAGED', keyId: 'f'.repeat(40) });
    remediation = new CloudRemediation(context(), { caller: TEST_SA_EMAIL });
  });

  it('re-reads by unique id with keys and last authentication, and null once deleted', async () => {
    const live = await remediation.reread(ref(sa));
    expect(live).toMatchObject({ id: sa.uniqueId, enabled: true, signIn: { lastUse: 'used' } });
    expect(live!.credentials.map((c) => [c.id, c.lastUse])).toEqual([
      [keys[0], 'used'],
      [keys[1], 'never'],
    ]);
    // One query for the account and one per key: Policy Analyzer's filter takes one resource name.
    expect(memory.calls.filter((c) => c.name === 'policyanalyzer.activities.query')).toHaveLength(3);
    state.deleteServiceAccount(sa);
    expect(await remediation.reread(ref(sa))).toBeNull();
  });

  it('disables and deletes a key as journaled steps; a key deleted since the plan is gone, and deleting it again is done', async () => {
    const steps = recorder();
    await remediation.perform('deactivate-key', { identity: ref(sa), credentialId: keys[1]! }, steps);
    expect(state.keys.get(keys[1]!)!.disabled).toBe(true);
    await remediation.perform('delete-key', { identity: ref(sa), credentialId: keys[1]! }, steps);
    expect(state.keys.has(keys[1]!)).toBe(false);
    expect(steps.names).toEqual([`disable-key:${keys[1]}`, `delete-key:${keys[1]}`]);
    // Deleted between plan and re-read: the live account no longer has it.
    const live = await remediation.reread(ref(sa));
    expect(live!.credentials.map((c) => c.id)).toEqual([keys[0]]);
    await remediation.perform('delete-key', { identity: ref(sa), credentialId: keys[1]! }, steps);
    const gone = remediation.perform('deactivate-key', { identity: ref(sa), credentialId: keys[1]! }, steps);
    await expect(gone).rejects.toThrow(/no longer exists/);
  });

  it('never touches a key Google manages', async () => {
    const steps = recorder();
    const attempt = remediation.perform('deactivate-key', { identity: ref(sa), credentialId: 'f'.repeat(40) }, steps);
    await expect(attempt).rejects.toThrow(
      /managed by Google \(SYSTEM_MANAGED\); dormant never disables or deletes such keys/,
    );
    await expect(
      remediation.perform('delete-key', { identity: ref(sa), credentialId: 'f'.repeat(40) }, steps),
    ).rejects.toThrow(DormantError);
    expect(steps.names).toEqual([]);
    expect(memory.count(/iam\.keys\.(disable|delete)/)).toBe(0);
  });

  it('backs up, disables, deletes and restores the account within 30 days, saying which keys cannot come back', async () => {
    const backup = await remediation.backup(ref(sa));
    expect(backup).toMatchObject({
      provider: 'google',
      kind: 'service-account',
      version: 1,
      account: 'prod',
      identityId: sa.uniqueId,
    });
    expect(JSON.stringify(backup)).not.toMatch(/privateKey|PRIVATE KEY|f{40}/);
    expect(remediation.readBackup(JSON.parse(JSON.stringify(backup)) as BackupEnvelope<unknown>)).toEqual(backup);
    const steps = recorder();
    await remediation.perform('deactivate-key', { identity: ref(sa), credentialId: keys[0]! }, steps);
    await remediation.perform('delete-key', { identity: ref(sa), credentialId: keys[1]! }, steps);
    await remediation.perform('disable-user', { identity: ref(sa), credentialId: null }, steps);
    expect(remediation.isDisabled((await remediation.reread(ref(sa)))!)).toBe(true);
    await remediation.perform('delete-user', { identity: ref(sa), credentialId: null }, steps);
    await remediation.perform('delete-user', { identity: ref(sa), credentialId: null }, steps);
    expect(steps.names.slice(2)).toEqual([
      'disable-service-account',
      'delete-service-account',
      'delete-service-account',
    ]);
    now = new Date(now.getTime() + 29 * DAY);

    const restoring = recorder();
    const report = await remediation.restore(backup, {}, restoring);
    expect(restoring.names).toEqual(['undelete-service-account', 'enable-service-account', `enable-key:${keys[0]}`]);
    expect(report.restored.join('\n')).toMatch(/undeleted \(same unique id/);
    expect(report.cannotRestore).toEqual([
      expect.stringMatching(
        new RegExp(`^key ${keys[1]} of ${sa.email} was deleted: a deleted service account key cannot come back`),
      ),
    ]);
    const live = await remediation.reread(ref(sa));
    expect(live).toMatchObject({ enabled: true, credentials: [{ id: keys[0], enabled: true }] });
    expect((await remediation.restore(backup, {}, recorder())).restored).toEqual([]);
  });

  it('says plainly that an account deleted more than 30 days ago cannot come back', async () => {
    const backup = await remediation.backup(ref(sa));
    await remediation.perform('delete-user', { identity: ref(sa), credentialId: null }, recorder());
    now = new Date(now.getTime() + 31 * DAY);
    const report = await remediation.restore(backup, {}, recorder());
    expect(report.restored).toEqual([]);
    expect(report.cannotRestore[0]).toMatch(
      /cannot be undeleted \(404 .*IAM keeps a deleted service account for 30 days only/,
    );
  });

  it('refuses a backup that does not fit, in one line', () => {
    const bad = { provider: 'google', kind: 'service-account', version: 1, identityName: 'x', data: { keys: [] } };
    expect(() => remediation.readBackup(bad as unknown as BackupEnvelope<unknown>)).toThrow(
      /^cannot read the backup of x: .*not a Google service account backup of version 1/,
    );
  });

  it('gives evidence of the last authentication of the account and each key, or why there is none', async () => {
    const [section] = await remediation.evidence(ref(sa));
    expect(section).toMatchObject({ source: 'gcp-policy-analyzer', status: 'ok' });
    expect(section!.items.map((i) => i.summary)).toEqual([
      expect.stringMatching(/^idle@prod\.iam\.gserviceaccount\.com last authenticated on 2025-11-1\d$/),
      expect.stringMatching(new RegExp(`^key ${keys[0]} last authenticated on`)),
      `key ${keys[1]}: no authentication recorded`,
    ]);
    state.disableApi('prod', 'policyanalyzer.googleapis.com');
    const [off] = await remediation.evidence(ref(sa));
    expect(off).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(/API is not enabled/) });
    state.deleteServiceAccount(sa);
    const [gone] = await remediation.evidence(ref(sa));
    expect(gone!.reason).toMatch(/no longer exists/);
  });
});
