// The Workspace half of the Google provider against the in-memory Directory and Reports APIs,
// through Google's own client libraries (the mapping's table is in workspace-identity.test.ts):
// every kind of user in the paged scan, re-read by id, suspend / delete / undelete with the
// backup (aliases, groups, org unit), the 20-day limit, admin rights, and the login audit.
import { describe, expect, it } from 'vitest';
import { DormantError } from '../src/errors.js';
import type { BackupEnvelope } from '../src/model/backup.js';
import type { IdentityRef, StepRunner } from '../src/providers/provider.js';
import { SCOPES } from '../src/providers/google/google-auth.js';
import type { FakeRoute } from '../src/providers/google/memory/fake-types.js';
import { WorkspaceState, directoryRoutes, type WorkspaceUserSeed } from '../src/providers/google/memory/directory.js';
import { collectWorkspace } from '../src/providers/google/workspace-collect.js';
import { WorkspaceRemediation } from '../src/providers/google/workspace-remediation.js';
import { googleTestContext, testGoogleMemory, TEST_SA_CLIENT_ID } from './support/google.js';

const DAY = 86_400_000;
const CUSTOMER = 'C01abc23d';

class RecordingSteps implements StepRunner {
  readonly done: string[] = [];
  readonly warnings: string[] = [];
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const out = await fn();
    this.done.push(name);
    return out;
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}

async function failure(p: Promise<unknown>): Promise<DormantError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err instanceof DormantError) return err;
  throw new Error(`expected a DormantError, got ${String(err)}`);
}

interface WorldOptions {
  google?: Record<string, unknown>;
  /** Replace routes by name (a malformed page, say). */
  override?: Partial<Record<string, FakeRoute['handle']>>;
  adminIsAdmin?: boolean;
}

function world(options: WorldOptions = {}) {
  let offset = 0;
  const clock = () => new Date(Date.now() + offset);
  const state = new WorkspaceState({ clock, customerId: CUSTOMER });
  state.addUser({ primaryEmail: 'admin@example.com', isAdmin: options.adminIsAdmin ?? true, lastLoginTime: clock() });
  const routes = directoryRoutes(state).map((r) =>
    options.override?.[r.name] ? { ...r, handle: options.override[r.name]! } : r,
  );
  const memory = testGoogleMemory({
    clock,
    routes,
    isAdmin: (e) => state.isAdmin(e),
    userExists: (e) => state.userExists(e),
  });
  memory.delegate(TEST_SA_CLIENT_ID, [...SCOPES.workspaceRead, ...SCOPES.workspaceWrite, ...SCOPES.reports]);
  const ctx = googleTestContext(memory, { clock, google: options.google ?? {} });
  const remediation = new WorkspaceRemediation(ctx);
  const ref = (u: { id?: string | null; primaryEmail?: string | null }): IdentityRef => ({
    provider: 'google',
    account: CUSTOMER,
    id: u.id!,
    name: u.primaryEmail!,
  });
  return {
    state,
    memory,
    ctx,
    remediation,
    ref,
    clock,
    advance: (days: number) => {
      offset += days * DAY;
    },
  };
}

describe('Workspace scan', () => {
  it('reads 1,200 users over three pages of 500 (three list calls), with progress', async () => {
    const w = world();
    for (let i = 1; i < 1200; i++)
      w.state.addUser({ primaryEmail: `u${i}@example.com`, lastLoginTime: '2025-06-01T00:00:00Z' });
    const progress: string[] = [];
    const scan = await collectWorkspace({ ...w.ctx, progress: (m) => progress.push(m) }, new Date());
    expect(scan.identities).toHaveLength(1200);
    expect(w.memory.count('directory.users.list')).toBe(3);
    expect(progress).toEqual([
      'Google Workspace: 500 users read',
      'Google Workspace: 1000 users read',
      'Google Workspace: 1200 users read',
    ]);
    expect(scan.accounts).toEqual([CUSTOMER]);
    expect(scan.warnings).toEqual([]);
  });

  it('maps every kind of user from the live directory', async () => {
    const w = world({ google: { workspace: { exemptOrgUnits: ['/Robots'], exemptUsers: ['*@partner.example.com'] } } });
    const seeds: WorkspaceUserSeed[] = [
      { primaryEmail: 'never@example.com', lastLoginTime: null, creationTime: '2024-01-01T00:00:00Z' },
      { primaryEmail: 'fresh@example.com', lastLoginTime: null, creationTime: new Date(Date.now() - DAY) },
      { primaryEmail: 'held@example.com', suspended: true, lastLoginTime: '2025-01-01T00:00:00Z' },
      { primaryEmail: 'gone@example.com', archived: true },
      { primaryEmail: 'boss@example.com', isAdmin: true },
      { primaryEmail: 'helpdesk@example.com', isDelegatedAdmin: true },
      { primaryEmail: 'bot@example.com', orgUnitPath: '/Robots/Build' },
      { primaryEmail: 'p@partner.example.com' },
    ];
    for (const s of seeds) w.state.addUser(s);
    const byName = new Map((await collectWorkspace(w.ctx)).identities.map((i) => [i.name, i]));
    expect(byName.get('never@example.com')).toMatchObject({
      signIn: { lastUse: 'never' },
      createdAt: '2024-01-01T00:00:00Z',
    });
    expect(byName.get('fresh@example.com')?.signIn?.lastUse).toBe('never');
    expect(byName.get('held@example.com')).toMatchObject({ enabled: false, signIn: { lastUse: 'used' } });
    expect(byName.get('gone@example.com')?.enabled).toBe(false);
    expect(byName.get('boss@example.com')?.protectedReason).toBe('a Workspace super admin');
    expect(byName.get('helpdesk@example.com')?.protectedReason).toBe('a Workspace delegated admin');
    expect(byName.get('bot@example.com')?.exemptReason).toBe('in the exempt org unit /Robots (/Robots/Build)');
    expect(byName.get('p@partner.example.com')?.exemptReason).toMatch(/partner/);
    expect(byName.get('admin@example.com')?.isCaller).toBe(true);
  });

  it("fails in one line when the subject is not an admin (Google's 403 Not Authorized)", async () => {
    const w = world({ adminIsAdmin: false });
    const err = await failure(collectWorkspace(w.ctx));
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/admin@example\.com is not an admin.*Not Authorized to access this resource\/api/);
    expect(err.message).not.toMatch(/\n/);
  });

  it('refuses a malformed page naming the field, and a page token that repeats', async () => {
    const malformed = world({
      override: {
        'directory.users.list': () => ({ status: 200, body: { users: [{ id: '1', primaryEmail: 'x@example.com' }] } }),
      },
    });
    const err = await failure(collectWorkspace(malformed.ctx));
    expect(err.message).toMatch(/users\.0\.isAdmin/);
    const looping = world({
      override: { 'directory.users.list': () => ({ status: 200, body: { nextPageToken: 'same' } }) },
    });
    expect((await failure(collectWorkspace(looping.ctx))).message).toMatch(/same users page token twice/);
  });

  it('warns when users carry no lastLoginTime (unknown, never "never")', async () => {
    const w = world({
      override: {
        'directory.users.list': () => ({
          status: 200,
          body: { users: [{ id: '1', primaryEmail: 'x@example.com', isAdmin: false, isDelegatedAdmin: false }] },
        }),
      },
    });
    const scan = await collectWorkspace(w.ctx);
    expect(scan.identities[0]?.signIn?.lastUse).toBe('unknown');
    expect(scan.accounts).toEqual(['my_customer']);
    expect(scan.warnings).toEqual([expect.stringMatching(/1 user has no lastLoginTime/)]);
  });
});

describe('Workspace remediation', () => {
  function seeded() {
    const w = world();
    const u = w.state.addUser({
      primaryEmail: 'carl@example.com',
      aliases: ['carl.old@example.com', 'c@example.com'],
      orgUnitPath: '/Sales/East',
      lastLoginTime: '2025-01-01T00:00:00Z',
    });
    const eng = w.state.addGroup({ email: 'eng@example.com', name: 'Engineering' });
    const ops = w.state.addGroup({ email: 'ops@example.com' });
    w.state.addMember(eng.id!, u.id!, 'MEMBER');
    w.state.addMember(ops.id!, u.id!, 'OWNER');
    return { ...w, u, eng, ops };
  }

  it('re-reads by id (a renamed user is the same user); deleted or unknown users are null', async () => {
    const w = seeded();
    w.state.lookup(w.u.id!)!.primaryEmail = 'carl.new@example.com';
    const live = await w.remediation.reread(w.ref(w.u));
    expect(live).toMatchObject({ id: w.u.id, name: 'carl.new@example.com', enabled: true });
    expect(await w.remediation.reread({ ...w.ref(w.u), id: '199999999999999999999' })).toBeNull();
    await w.ctx.apis.directory('write').users.delete({ userKey: w.u.id! });
    expect(await w.remediation.reread(w.ref(w.u))).toBeNull();
    const boss = w.state.addUser({ primaryEmail: 'boss@example.com', isAdmin: true });
    expect((await w.remediation.reread(w.ref(boss)))?.protectedReason).toBe('a Workspace super admin');
  });

  it('refuses a plan made for another customer', async () => {
    const w = seeded();
    const err = await failure(w.remediation.reread({ ...w.ref(w.u), account: 'C09zzz99z' }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/customer C09zzz99z.*administers C01abc23d/);
  });

  it('suspends as one step; isDisabled follows suspension, not archival', async () => {
    const w = seeded();
    const steps = new RecordingSteps();
    await w.remediation.perform('disable-user', { identity: w.ref(w.u), credentialId: null }, steps);
    expect(steps.done).toEqual(['suspend-user']);
    expect(w.state.lookup(w.u.id!)).toMatchObject({ suspended: true, suspensionReason: 'ADMIN' });
    const live = (await w.remediation.reread(w.ref(w.u)))!;
    expect(live.enabled).toBe(false);
    expect(w.remediation.isDisabled(live)).toBe(true);
    const archived = w.state.addUser({ primaryEmail: 'arch@example.com', archived: true });
    const a = (await w.remediation.reread(w.ref(archived)))!;
    expect(a.enabled).toBe(false);
    expect(w.remediation.isDisabled(a)).toBe(false);
  });

  it('backs up the resource, org unit, aliases and group roles, and validates it when read back', async () => {
    const w = seeded();
    const b = await w.remediation.backup(w.ref(w.u));
    expect(b).toMatchObject({ provider: 'google', kind: 'user', version: 1, account: CUSTOMER, identityId: w.u.id });
    expect(b.data).toMatchObject({
      orgUnitPath: '/Sales/East',
      suspended: false,
      aliases: ['carl.old@example.com', 'c@example.com'],
      groups: [
        { id: w.eng.id, email: 'eng@example.com', name: 'Engineering', role: 'MEMBER' },
        { id: w.ops.id, email: 'ops@example.com', role: 'OWNER' },
      ],
      user: { id: w.u.id, primaryEmail: 'carl@example.com', kind: 'admin#directory#user' },
    });
    expect(w.remediation.readBackup(JSON.parse(JSON.stringify(b)) as BackupEnvelope)).toEqual(b);
    const broken = { ...b, data: { ...(b.data as object), groups: [{ id: 'g' }] } };
    expect(() => w.remediation.readBackup(broken)).toThrow(
      /cannot read the backup of carl@example\.com: data\.groups\.0\.email/,
    );
    expect((await failure(w.remediation.backup({ ...w.ref(w.u), id: '199999999999999999999' }))).message).toMatch(
      /no longer exists; nothing to back up/,
    );
  });

  it('round trip: suspend, delete (twice is done), then restore undeletes into the org unit and re-adds what was lost', async () => {
    const w = seeded();
    const target = { identity: w.ref(w.u), credentialId: null };
    const backup = await w.remediation.backup(w.ref(w.u));
    await w.remediation.perform('disable-user', target, new RecordingSteps());
    const del = new RecordingSteps();
    await w.remediation.perform('delete-user', target, del);
    await w.remediation.perform('delete-user', target, del);
    expect(del.done).toEqual(['delete-user', 'delete-user']);
    w.advance(10);
    const steps = new RecordingSteps();
    const report = await w.remediation.restore(backup, {}, steps);
    expect(steps.done).toEqual([
      'undelete-user',
      'add-alias:carl.old@example.com',
      'add-alias:c@example.com',
      `add-group:${w.eng.id}`,
      `add-group:${w.ops.id}`,
      'unsuspend-user',
    ]);
    expect(report.cannotRestore).toEqual([]);
    expect(report.restored).toEqual([
      expect.stringMatching(/undeleted into \/Sales\/East \(same id/),
      'alias carl.old@example.com',
      'alias c@example.com',
      'member of group eng@example.com',
      'owner of group ops@example.com',
      expect.stringMatching(/unsuspended/),
    ]);
    const live = w.state.lookup(w.u.id!)!;
    expect(live).toMatchObject({
      orgUnitPath: '/Sales/East',
      suspended: false,
      aliases: ['carl.old@example.com', 'c@example.com'],
    });
    expect(w.state.membersOf(w.ops.id!).get(w.u.id!)).toBe('OWNER');
    // A second restore finds everything in place: no step runs.
    const again = new RecordingSteps();
    expect((await w.remediation.restore(backup, {}, again)).restored).toEqual([]);
    expect(again.done).toEqual([]);
  });

  it('says plainly that a user deleted more than 20 days ago cannot come back', async () => {
    const w = seeded();
    const backup = await w.remediation.backup(w.ref(w.u));
    await w.remediation.perform('delete-user', { identity: w.ref(w.u), credentialId: null }, new RecordingSteps());
    w.advance(21);
    const steps = new RecordingSteps();
    const report = await w.remediation.restore(backup, { temporaryPassword: 'Temp-1234' }, steps);
    expect(steps.done).toEqual([]);
    expect(report.restored).toEqual([]);
    expect(report.cannotRestore).toEqual([
      expect.stringMatching(/cannot come back: Google keeps a deleted user 20 days/),
    ]);
    expect(report.warnings).toEqual([expect.stringMatching(/temporary password is not used/)]);
    expect(JSON.stringify(report)).not.toMatch(/Temp-1234/);
  });

  it('leaves a user suspended before dormant suspended; reports a lost alias and a group that has gone', async () => {
    const w = world();
    const u = w.state.addUser({ primaryEmail: 'sus@example.com', suspended: true, aliases: ['s2@example.com'] });
    const g = w.state.addGroup({ email: 'tmp@example.com' });
    w.state.addMember(g.id!, u.id!);
    const backup = await w.remediation.backup(w.ref(u));
    await w.remediation.perform('delete-user', { identity: w.ref(u), credentialId: null }, new RecordingSteps());
    w.state.addUser({ primaryEmail: 'taker@example.com', aliases: ['s2@example.com'] });
    const doctored = {
      ...backup,
      data: {
        ...(backup.data as object),
        groups: [
          ...(backup.data as { groups: object[] }).groups,
          { id: '0gone', email: 'gone@example.com', name: null, role: 'MEMBER' },
        ],
      },
    };
    const steps = new RecordingSteps();
    const report = await w.remediation.restore(doctored, {}, steps);
    expect(steps.done).toEqual(['undelete-user', `add-group:${g.id}`]);
    expect(report.cannotRestore).toEqual([
      'alias s2@example.com: another user or group now has this address',
      'member of group gone@example.com: it no longer exists',
    ]);
    expect(report.warnings).toEqual([expect.stringMatching(/is suspended, but not by dormant: it stays suspended/)]);
    expect(w.state.lookup(u.id!)?.suspended).toBe(true);
  });

  it('with the record of what dormant did, unsuspends only a user dormant suspended', async () => {
    const w = seeded();
    const u = w.state.addUser({ primaryEmail: 'rec@example.com', creationTime: '2024-01-01T00:00:00Z' });
    const backup = await w.remediation.backup(w.ref(u));
    // Suspended by someone else after the backup, and dormant did nothing: it stays suspended.
    w.state.lookup(u.id!)!.suspended = true;
    const untouched = await w.remediation.restore(backup, { changes: [] }, new RecordingSteps());
    expect(untouched.warnings).toEqual([expect.stringMatching(/is suspended, but not by dormant/)]);
    expect(w.state.lookup(u.id!)?.suspended).toBe(true);
    // dormant's own suspend is undone.
    const undone = await w.remediation.restore(
      backup,
      { changes: [{ action: 'disable-user', credentialId: null }] },
      new RecordingSteps(),
    );
    expect(undone.restored.join(' ')).toMatch(/unsuspended/);
    expect(w.state.lookup(u.id!)?.suspended).toBe(false);
  });

  it('restores a user that was only suspended by unsuspending it', async () => {
    const w = seeded();
    const backup = await w.remediation.backup(w.ref(w.u));
    await w.remediation.perform('disable-user', { identity: w.ref(w.u), credentialId: null }, new RecordingSteps());
    const steps = new RecordingSteps();
    const report = await w.remediation.restore(backup, {}, steps);
    expect(steps.done).toEqual(['unsuspend-user']);
    expect(report.restored).toEqual([expect.stringMatching(/carl@example\.com unsuspended/)]);
  });

  it('refuses an unknown action and does nothing for notify', async () => {
    const w = seeded();
    const steps = new RecordingSteps();
    await w.remediation.perform('notify', { identity: w.ref(w.u), credentialId: null }, steps);
    expect(steps.done).toEqual([]);
    const err = await failure(
      w.remediation.perform('deactivate-key', { identity: w.ref(w.u), credentialId: 'k' }, steps),
    );
    expect(err.exitCode).toBe(2);
  });
});

describe('Workspace evidence', () => {
  it('lists the latest login events, newest first, at most loginEvidenceDepth', async () => {
    const w = world({ google: { loginEvidenceDepth: 2 } });
    const u = w.state.addUser({ primaryEmail: 'dee@example.com' });
    w.state.addLogin(u.id!, { at: '2026-02-01T09:00:00Z', ipAddress: '198.51.100.1' });
    w.state.addLogin(u.id!, { at: '2026-02-03T09:00:00Z', ipAddress: '198.51.100.3', loginType: 'saml' });
    w.state.addLogin(u.id!, { at: '2026-02-02T09:00:00Z', name: 'login_failure', isSuspicious: true });
    const [section] = await w.remediation.evidence(w.ref(u));
    expect(section).toMatchObject({
      source: 'google-logins',
      status: 'ok',
      summary: 'Workspace login audit: 2 latest events, the last login on 2026-02-03',
    });
    expect(section!.items.map((i) => i.summary)).toEqual([
      'Login from 198.51.100.3 (saml)',
      'Failed login from 203.0.113.10 (google_password), marked suspicious',
    ]);
    expect(section!.items[0]!.fields).toMatchObject({ event: 'login_success', ip: '198.51.100.3', loginType: 'saml' });
  });

  it('is unavailable with the reason when Google refuses the audit (403), and never throws', async () => {
    const w = world();
    const u = w.state.addUser({ primaryEmail: 'eli@example.com' });
    w.state.denyReports('admin@example.com');
    const [section] = await w.remediation.evidence(w.ref(u));
    expect(section).toMatchObject({ source: 'google-logins', status: 'unavailable', items: [] });
    expect(section!.reason).toMatch(/403 Not Authorized to access this resource\/api.*Reports privilege/);
    const none = world({ google: { subject: null } });
    const [missing] = await none.remediation.evidence(w.ref(u));
    expect(missing).toMatchObject({
      status: 'unavailable',
      reason: expect.stringMatching(/google\.subject is not set/),
    });
  });

  it('says so when the audit has no events', async () => {
    const w = world();
    const u = w.state.addUser({ primaryEmail: 'fin@example.com' });
    const [section] = await w.remediation.evidence(w.ref(u));
    expect(section).toMatchObject({
      status: 'ok',
      items: [],
      summary: expect.stringMatching(/no login events recorded/),
    });
  });
});
