// Entra remediation through the provider contract, over HTTPS against the Graph fake: re-read by
// object id, backup, disable (two journaled steps, resumable), soft delete, restore from
// deletedItems with what did not come back re-added, the 30-day limit, permissions, evidence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DormantError } from '../src/errors.js';
import type { BackupEnvelope } from '../src/model/backup.js';
import type { IdentityRef, ProviderSession } from '../src/providers/provider.js';
import { entraDescriber } from '../src/providers/entra/entra-describer.js';
import { entraEntry } from '../src/providers/entra/entra-entry.js';
import { DAY, RecordingSteps, daysAgo, startEntra, type EntraHarness } from './entra-harness.js';

async function failure(fn: () => Promise<unknown>): Promise<DormantError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof DormantError) return err;
    throw err;
  }
  throw new Error('expected a DormantError');
}

/** The directory clock, moved by tests (the 30-day purge of deletedItems). */
let offset = 0;
const clock = () => new Date(Date.now() + offset);

describe('Entra remediation', () => {
  let h: EntraHarness;
  let s: ProviderSession;
  let skuId: string;
  let groupId: string;
  let helpdeskRoleId: string;
  let managerId: string;
  const ref = (id: string, name = 'someone'): IdentityRef => ({
    provider: 'entra',
    account: h.tenant.tenantId,
    id,
    name,
  });

  const seedUser = (local: string) => {
    const u = h.tenant.addUser({
      userPrincipalName: `${local}@contoso.onmicrosoft.com`,
      createdDateTime: daysAgo(700),
      signInActivity: { lastSignInDateTime: daysAgo(200) },
      usageLocation: 'US',
      assignedLicenses: [{ skuId, disabledPlans: [] }],
      manager: managerId,
    });
    h.tenant.addGroupMember(groupId, u.id!);
    h.tenant.addDirectoryRoleMember(helpdeskRoleId, u.id!);
    h.tenant.addAppRoleAssignment({ principalId: u.id!, resourceDisplayName: 'Expense Reports' });
    return u.id!;
  };

  beforeAll(async () => {
    h = await startEntra({ now: clock });
    skuId = h.tenant.addSku({ skuPartNumber: 'ENTERPRISEPACK' }).skuId;
    groupId = h.tenant.addGroup({ displayName: 'Finance' }).id!;
    helpdeskRoleId = h.tenant.addDirectoryRole({ displayName: 'Helpdesk Administrator' }).id!;
    managerId = h.tenant.addUser({ userPrincipalName: 'boss@contoso.onmicrosoft.com' }).id!;
    s = await h.open({ signInEvidenceDepth: 3 });
  });
  afterAll(() => h.stop());

  it('re-reads by object id: a UPN changed since the plan is still found, under its new name', async () => {
    const id = seedUser('renamed');
    h.tenant.updateUser(id, { userPrincipalName: 'renamed.later@contoso.onmicrosoft.com' });
    const live = await s.remediation.reread(ref(id, 'renamed@contoso.onmicrosoft.com'));
    expect(live).toMatchObject({ id, name: 'renamed.later@contoso.onmicrosoft.com', enabled: true, kind: 'user' });
  });

  it('re-reads a user deleted since the plan as null', async () => {
    const id = seedUser('vanished');
    h.tenant.softDelete(h.tenant.liveUser(id)!);
    expect(await s.remediation.reread(ref(id))).toBeNull();
    expect(await s.remediation.reread(ref('0c8e2e5a-0000-4000-8000-000000000000'))).toBeNull();
  });

  it('re-reads with live marks: protected, exempt and synced users', async () => {
    const admin = h.tenant.addUser({ userPrincipalName: 'admin@contoso.onmicrosoft.com' }).id!;
    h.tenant.addDirectoryRole({ displayName: 'Global Administrator', members: [admin] });
    expect((await s.remediation.reread(ref(admin)))?.protectedReason).toBe(
      'a holder of the directory role Global Administrator',
    );
    const synced = h.tenant.addUser({
      userPrincipalName: 'synced@contoso.onmicrosoft.com',
      onPremisesSyncEnabled: true,
    }).id!;
    expect((await s.remediation.reread(ref(synced)))?.notifyOnlyReason).toMatch(/^synced from on-premises AD/);
    const exemptGroup = h.tenant.addGroup({ displayName: 'Break glass', members: [synced] }).id!;
    const withGroup = await entraEntry.open({ config: h.config({ exemptGroups: [exemptGroup] }) });
    expect((await withGroup.remediation.reread(ref(synced)))?.exemptReason).toBe(
      `member of the exempt group ${exemptGroup}`,
    );
  });

  it('refuses a plan item of another tenant', async () => {
    const err = await failure(() => s.remediation.reread({ ...ref('x'), account: 'another-tenant' }));
    expect(err.exitCode).toBe(2);
  });

  it('disables in two journaled steps: block sign-in, then revoke sessions', async () => {
    const id = seedUser('dis');
    const steps = new RecordingSteps();
    await s.remediation.perform('disable-user', { identity: ref(id), credentialId: null }, steps);
    expect(steps.done).toEqual(['disable-account', 'revoke-sessions']);
    expect(h.tenant.user(id)?.accountEnabled).toBe(false);
    expect(h.tenant.revocations.filter((r) => r.userId === id)).toHaveLength(1);
    const live = await s.remediation.reread(ref(id));
    expect(s.remediation.isDisabled(live!)).toBe(true);
  });

  it('a crash between disable and revoke resumes with the revoke', async () => {
    const id = seedUser('crash');
    const first = new RecordingSteps('disable-account');
    await expect(
      s.remediation.perform('disable-user', { identity: ref(id), credentialId: null }, first),
    ).rejects.toThrow(/simulated crash/);
    expect(h.tenant.user(id)?.accountEnabled).toBe(false);
    expect(h.tenant.revocations.filter((r) => r.userId === id)).toHaveLength(0);
    const again = new RecordingSteps();
    await s.remediation.perform('disable-user', { identity: ref(id), credentialId: null }, again);
    expect(again.done).toEqual(['disable-account', 'revoke-sessions']);
    expect(h.tenant.revocations.filter((r) => r.userId === id)).toHaveLength(1);
  });

  it('a write the app may not make fails the item with the permission it needs', async () => {
    const id = seedUser('nope');
    const app = h.tenant.addApp({ secret: 'read-only', roles: ['User.Read.All', 'RoleManagement.Read.Directory'] });
    process.env.DORMANT_TEST_READONLY_SECRET = 'read-only';
    const ro = await h.open({ clientId: app.clientId, clientSecret: { env: 'DORMANT_TEST_READONLY_SECRET' } });
    const steps = new RecordingSteps();
    const err = await failure(() =>
      ro.remediation.perform('disable-user', { identity: ref(id), credentialId: null }, steps),
    );
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      'Graph refused PATCH /users/{id}: the app needs User.ReadWrite.All (or User.EnableDisableAccount.All); grant it and apply again',
    );
    expect(steps.failed.map((f) => f.step)).toEqual(['disable-account']);
    const del = await failure(() =>
      ro.remediation.perform('delete-user', { identity: ref(id), credentialId: null }, new RecordingSteps()),
    );
    expect(del.message).toBe(
      'Graph refused DELETE /users/{id}: the app needs User.DeleteRestore.All (or User.ReadWrite.All); grant it and apply again',
    );
  });

  it('notify changes nothing; other actions are refused', async () => {
    const id = seedUser('notify');
    const steps = new RecordingSteps();
    await s.remediation.perform('notify', { identity: ref(id), credentialId: null }, steps);
    expect(steps.done).toEqual([]);
    await expect(
      s.remediation.perform('deactivate-key', { identity: ref(id), credentialId: 'x' }, steps),
    ).rejects.toThrow(/not an action on Entra users/);
  });

  describe('backup, delete and restore', () => {
    let id: string;
    let backup: BackupEnvelope;

    beforeAll(async () => {
      id = seedUser('carl');
      backup = await s.remediation.backup(ref(id, 'carl@contoso.onmicrosoft.com'));
    });

    it('backs up properties, groups, roles, app roles, licences and manager', () => {
      expect(backup).toMatchObject({
        provider: 'entra',
        kind: 'user',
        version: 1,
        account: h.tenant.tenantId,
        identityId: id,
      });
      const data = backup.data as Record<string, unknown>;
      expect(data).toMatchObject({
        user: { id, userPrincipalName: 'carl@contoso.onmicrosoft.com', accountEnabled: true, usageLocation: 'US' },
        groups: [{ id: groupId, displayName: 'Finance' }],
        directoryRoles: [{ id: helpdeskRoleId, displayName: 'Helpdesk Administrator' }],
        assignedLicenses: [{ skuId, disabledPlans: [] }],
        manager: { id: managerId, userPrincipalName: 'boss@contoso.onmicrosoft.com' },
      });
      expect(data.appRoleAssignments).toHaveLength(1);
      expect(JSON.stringify(backup)).not.toContain(process.env[h.secretEnv]!);
    });

    it('reads a stored backup back through its schema, and names a bad field', () => {
      expect(s.remediation.readBackup(JSON.parse(JSON.stringify(backup)) as BackupEnvelope<unknown>)).toEqual(backup);
      const broken = structuredClone(backup) as BackupEnvelope<{ groups: unknown[] }>;
      broken.data.groups = [{ id: 42 }];
      expect(() => s.remediation.readBackup(broken)).toThrow(
        /^cannot read the backup of carl@contoso.onmicrosoft.com: data\.groups\.0\.id: /,
      );
      expect(() => s.remediation.readBackup({ ...backup, version: 2 })).toThrow(/: version: /);
    });

    it('deletes (soft), and a second delete counts as done', async () => {
      const steps = new RecordingSteps();
      await s.remediation.perform('delete-user', { identity: ref(id), credentialId: null }, steps);
      await s.remediation.perform('delete-user', { identity: ref(id), credentialId: null }, steps);
      expect(steps.done).toEqual(['delete-user', 'delete-user']);
      expect(h.tenant.user(id)).toBeUndefined();
      expect(h.tenant.deletedUser(id)).toBeDefined();
    });

    it('restores from deletedItems and re-adds what did not come back, each as a step', async () => {
      // A licence the restore must re-add (the fake keeps licences across a delete).
      (h.tenant.deletedRecord(id)!.props as { assignedLicenses: unknown[] }).assignedLicenses = [];
      const steps = new RecordingSteps();
      const report = await s.remediation.restore(backup, {}, steps);
      expect(steps.done).toEqual([
        'restore-user',
        `add-role:${helpdeskRoleId}`,
        expect.stringMatching(/^add-app-role:/),
        'assign-licenses',
        'set-manager',
      ]);
      expect(report.restored).toEqual([
        'user carl@contoso.onmicrosoft.com restored from deleted items (same object id)',
        'directory role Helpdesk Administrator',
        expect.stringMatching(/^app role 00000000-0000-0000-0000-000000000000 of /),
        `licence ${skuId}`,
        'manager boss@contoso.onmicrosoft.com',
      ]);
      expect(report.cannotRestore).toEqual([]);
      const user = h.tenant.user(id)!;
      expect(user.accountEnabled).toBe(true);
      expect(h.tenant.memberOf(id)).toEqual({ groups: [groupId], roles: [helpdeskRoleId] });
      expect(h.tenant.appRoleAssignments(id)).toHaveLength(1);
      expect(h.tenant.managerOf(id)?.id).toBe(managerId);
    });

    it('a second restore finds nothing missing', async () => {
      const steps = new RecordingSteps();
      const report = await s.remediation.restore(backup, {}, steps);
      expect(steps.done).toEqual([]);
      expect(report).toEqual({ restored: [], cannotRestore: [], warnings: [] });
    });

    it('refuses (exit 2) a backup of another tenant before any call', async () => {
      h.fake.clearRequests();
      const err = await failure(() =>
        s.remediation.restore({ ...backup, account: '99999999-8888-7777-6666-555555555555' }, {}, new RecordingSteps()),
      );
      expect(err.exitCode).toBe(2);
      expect(err.message).toBe(
        `the backup of carl@contoso.onmicrosoft.com belongs to Entra tenant 99999999-8888-7777-6666-555555555555, but entra.tenantId is ${h.tenant.tenantId}; restore it with that tenant's config`,
      );
      expect(h.fake.requests).toEqual([]);
    });

    it('an unreadable backup is exit 3, in the one-line form of AWS', async () => {
      const broken = structuredClone(backup) as BackupEnvelope<{ manager: unknown }>;
      broken.data.manager = { id: '' };
      const err = await failure(async () => s.remediation.readBackup(broken));
      expect(err.exitCode).toBe(3);
      expect(err.message).toMatch(/^cannot read the backup of carl@contoso\.onmicrosoft\.com: data\.manager\.id: /);
      expect(err.message).not.toContain('\n');
    });

    it('restores a disabled user by re-enabling it', async () => {
      const other = seedUser('dora');
      const b = await s.remediation.backup(ref(other));
      await s.remediation.perform('disable-user', { identity: ref(other), credentialId: null }, new RecordingSteps());
      const steps = new RecordingSteps();
      const report = await s.remediation.restore(b, {}, steps);
      expect(steps.done).toEqual(['enable-account']);
      expect(report.restored).toEqual([
        'sign-in re-enabled for dora@contoso.onmicrosoft.com (sessions revoked by the disable stay revoked: the user signs in again)',
      ]);
      expect(h.tenant.user(other)?.accountEnabled).toBe(true);
    });

    it('after 30 days in deletedItems it says plainly that it cannot restore', async () => {
      const gone = seedUser('gone');
      const b = await s.remediation.backup(ref(gone));
      await s.remediation.perform('delete-user', { identity: ref(gone), credentialId: null }, new RecordingSteps());
      offset += 31 * DAY;
      try {
        h.tenant.purgeExpired();
        const steps = new RecordingSteps();
        const report = await s.remediation.restore(b, {}, steps);
        expect(steps.done).toEqual([]);
        expect(report.restored).toEqual([]);
        expect(report.cannotRestore).toEqual([
          `Entra user gone@contoso.onmicrosoft.com (${gone}) is no longer in deleted items: Entra purges a deleted user after 30 days, and a purged user cannot be restored. Recreate it from the backup by hand (it gets a new object id; its sign-in history stays lost).`,
        ]);
      } finally {
        offset -= 31 * DAY;
      }
    });
  });

  describe('evidence', () => {
    it('gives the latest sign-ins with app, IP, location and result', async () => {
      const id = seedUser('evi');
      for (const [days, app, code] of [
        [150, 'Outlook', 0],
        [160, 'Teams', 50126],
        [170, 'SharePoint', 0],
        [180, 'Azure Portal', 0],
      ] as const) {
        h.tenant.addSignIn({
          userId: id,
          createdDateTime: daysAgo(days),
          appDisplayName: app,
          ipAddress: '203.0.113.9',
          location: { city: 'Seattle', state: 'Washington', countryOrRegion: 'US' },
          status: { errorCode: code, failureReason: code ? 'Invalid username or password.' : null },
        });
      }
      const [section] = await s.remediation.evidence(ref(id));
      expect(section).toMatchObject({ source: 'entra-sign-ins', title: 'Entra sign-in logs', status: 'ok' });
      expect(section!.items.map((i) => i.summary)).toEqual([
        'Sign-in to Outlook from 203.0.113.9 (Seattle, Washington, US): success',
        'Sign-in to Teams from 203.0.113.9 (Seattle, Washington, US): failure 50126 (Invalid username or password.)',
        'Sign-in to SharePoint from 203.0.113.9 (Seattle, Washington, US): success',
      ]);
      expect(section!.items[0]!.fields).toMatchObject({
        app: 'Outlook',
        ip: '203.0.113.9',
        location: 'Seattle, Washington, US',
        result: 'success',
      });
      const call = h.fake.callsTo('/v1.0/auditLogs/signIns', 'GET').at(-1)!;
      expect(call.query).toEqual({ $filter: `userId eq '${id}'`, $top: '3' });
    });

    it('is unavailable, with the reason, without a licence; it never throws', async () => {
      h.tenant.premium = false;
      try {
        const [section] = await s.remediation.evidence(ref(managerId));
        expect(section).toMatchObject({
          status: 'unavailable',
          reason: 'the sign-in logs need an Entra ID P1 or P2 licence in the tenant',
          items: [],
        });
      } finally {
        h.tenant.premium = true;
      }
      h.fake.storm({ pattern: '/v1.0/auditLogs', retryAfterSeconds: 0 });
      try {
        const [section] = await s.remediation.evidence(ref(managerId));
        expect(section?.status).toBe('unavailable');
        expect(section?.reason).toMatch(/^Graph kept throttling \(429\)/);
      } finally {
        h.fake.clearFaults();
      }
    });
  });
});

describe('Entra plan words and permissions', () => {
  it('describes actions in sentences', () => {
    const d = (action: 'disable-user' | 'delete-user' | 'notify', reason: string, extra: object = {}) =>
      entraDescriber.describe({
        action,
        identity: { name: 'bob@contoso.com', kind: 'user' },
        credential: null,
        reason,
        deleteAfterDays: 30,
        ...extra,
      });
    expect(d('disable-user', 'inactive 143 days')).toBe(
      'Disable Entra user bob@contoso.com: block sign-in and revoke sessions (inactive 143 days)',
    );
    expect(d('delete-user', 'never used')).toBe(
      'Delete Entra user bob@contoso.com (soft delete, restorable for 30 days), 30 days after it is disabled (never signed in)',
    );
    expect(d('delete-user', 'inactive 143 days', { deleteAfterDays: 0 })).toBe(
      'Delete Entra user bob@contoso.com (soft delete, restorable for 30 days), once it is disabled (inactive 143 days)',
    );
    expect(d('notify', 'inactive 143 days', { notifyOnlyReason: 'synced from on-premises AD: disable it there' })).toBe(
      'Notify only about Entra user bob@contoso.com (inactive 143 days): synced from on-premises AD: disable it there',
    );
    expect(entraDescriber.irreversible('delete-user', 'user')).toBe(false);
    expect(entraDescriber.isCredentialId('anything')).toBe(true);
  });

  it('lists the Graph application permissions of each mode', () => {
    const scan = entraEntry.permissions('scan', {} as never).document as {
      provider: string;
      applicationPermissions: string[];
      why: Record<string, string>;
    };
    expect(scan).toMatchObject({
      provider: 'entra',
      applicationPermissions: [
        'AuditLog.Read.All',
        'GroupMember.Read.All',
        'RoleEligibilitySchedule.Read.Directory',
        'RoleManagement.Read.Directory',
        'User.Read.All',
      ],
    });
    const remediate = entraEntry.permissions('remediate', {} as never).document as typeof scan;
    expect(remediate.applicationPermissions).toEqual(
      expect.arrayContaining(['User.EnableDisableAccount.All', 'User.RevokeSessions.All', 'User.DeleteRestore.All']),
    );
    for (const p of remediate.applicationPermissions) expect(remediate.why[p]).toBeTruthy();
  });
});

describe('Entra re-read marks: live per user, cheap per call', () => {
  let h: EntraHarness;
  beforeAll(async () => {
    h = await startEntra();
  });
  afterAll(() => h.stop());
  const ref = (id: string): IdentityRef => ({ provider: 'entra', account: h.tenant.tenantId, id, name: id });

  it('asks per user (transitiveMemberOf, checkMemberGroups), reads the tenant-wide part once, never a group listing', async () => {
    const users = h.tenant.addUsers(5);
    const groups = Array.from({ length: 3 }, (_, i) => h.tenant.addGroup({ displayName: `Exempt ${i}` }).id!);
    const inner = h.tenant.addGroup({ displayName: 'Nested break glass', members: [users[0]!] });
    h.tenant.addGroupMember(groups[0]!, inner.id!);
    h.tenant.addUsers(300).forEach((u) => h.tenant.addGroupMember(groups[1]!, u));
    const s = await h.open({ exemptGroups: groups });
    h.fake.clearRequests();
    const reasons: (string | null | undefined)[] = [];
    for (let round = 0; round < 2; round++)
      for (const u of users) reasons.push((await s.remediation.reread(ref(u)))?.exemptReason);
    expect(reasons[0]).toBe(`member of the exempt group ${groups[0]}`);
    expect(reasons[5]).toBe(`member of the exempt group ${groups[0]}`);
    expect(reasons.filter((r) => r !== null)).toHaveLength(2);
    const n = (p: string | RegExp, m = 'GET') => h.fake.callsTo(p, m).length;
    expect(n(/^\/v1\.0\/users\/[^/]+$/)).toBe(10);
    expect(n('/v1.0/users/*/transitiveMemberOf/microsoft.graph.directoryRole')).toBe(10);
    expect(n('/v1.0/users/*/checkMemberGroups', 'POST')).toBe(10);
    // Once per 60 s: the role list, each exempt group's existence, the two built-in roles' eligibilities.
    expect(n(/^\/v1\.0\/directoryRoles(\?|$)/)).toBe(1);
    expect(n(/^\/v1\.0\/groups\/[^/]+$/)).toBe(3);
    expect(n('/v1.0/roleManagement/directory/roleEligibilityScheduleInstances')).toBe(2);
    expect(n('/v1.0/groups/*/transitiveMembers/**')).toBe(0);
    expect(h.fake.requests.filter((r) => r.path.startsWith('/v1.0/'))).toHaveLength(10 + 10 + 10 + 1 + 3 + 2);
  });

  it('sees a role granted after the first re-read (directly or through a group), and PIM eligibility', async () => {
    const s = await h.open();
    const [direct, viaGroup, eligible] = h.tenant.addUsers(3);
    expect((await s.remediation.reread(ref(direct!)))?.protectedReason).toBeNull();
    h.tenant.addDirectoryRole({ displayName: 'Privileged Role Administrator', members: [direct!] });
    const g = h.tenant.addGroup({ displayName: 'Role group', isAssignableToRole: true, members: [viaGroup!] });
    h.tenant.addDirectoryRole({ displayName: 'Global Administrator', members: [g.id!] });
    expect((await s.remediation.reread(ref(direct!)))?.protectedReason).toBe(
      'a holder of the directory role Privileged Role Administrator',
    );
    expect((await s.remediation.reread(ref(viaGroup!)))?.protectedReason).toBe(
      'a holder of the directory role Global Administrator',
    );
    h.tenant.addRoleEligibility({ principalId: eligible!, roleName: 'Global Administrator' });
    const fresh = await h.open();
    expect((await fresh.remediation.reread(ref(eligible!)))?.protectedReason).toBe(
      'eligible (PIM) for the directory role Global Administrator',
    );
  });

  it('a re-read that cannot see PIM eligibility fails (exit 3) rather than act', async () => {
    const [u] = h.tenant.addUsers(1);
    const app = h.tenant.addApp({
      secret: 'no-pim-apply',
      roles: ['User.Read.All', 'AuditLog.Read.All', 'Directory.Read.All'],
    });
    process.env.DORMANT_TEST_NO_PIM_APPLY = 'no-pim-apply';
    const s = await h.open({ clientId: app.clientId, clientSecret: { env: 'DORMANT_TEST_NO_PIM_APPLY' } });
    const err = await failure(() => s.remediation.reread(ref(u!)));
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/needs RoleEligibilitySchedule\.Read\.Directory .*; grant it and apply again$/);
  });
});
