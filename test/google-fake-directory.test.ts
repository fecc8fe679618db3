// The in-memory Directory and Reports APIs on their own, through Google's client libraries and
// the fake's front door: paging and its bounds, resource shapes field by field, userKey as id,
// email or alias, 404s, delete / undelete within 20 days, aliases, groups and members, the login
// audit, and each method's scopes.
import * as auth from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { SCOPES } from '../src/providers/google/google-auth.js';
import { googleStatus, googleReason, googleMessage } from '../src/providers/google/google-errors.js';
import { DIRECTORY_SCOPES, NEVER, WorkspaceState, directoryRoutes } from '../src/providers/google/memory/directory.js';
import { googleTestContext, testGoogleMemory, testServiceAccountKey, TEST_SA_CLIENT_ID } from './support/google.js';

const DAY = 86_400_000;

function tenant(options: { clock?: () => Date; admins?: boolean } = {}) {
  const clock = options.clock ?? (() => new Date());
  const state = new WorkspaceState({ clock, customerId: 'C01abc23d', domain: 'example.com' });
  if (options.admins !== false)
    state.addUser({ primaryEmail: 'admin@example.com', isAdmin: true, lastLoginTime: clock() });
  const memory = testGoogleMemory({
    clock,
    routes: directoryRoutes(state),
    isAdmin: (e) => state.isAdmin(e),
    userExists: (e) => state.userExists(e),
  });
  memory.delegate(TEST_SA_CLIENT_ID, [
    ...SCOPES.workspaceRead,
    ...SCOPES.workspaceWrite,
    ...SCOPES.reports,
    ...DIRECTORY_SCOPES.userWrite,
  ]);
  const ctx = googleTestContext(memory, { clock });
  return { state, memory, ctx, read: ctx.apis.directory('read'), write: ctx.apis.directory('write') };
}

async function refusal(
  p: Promise<unknown>,
): Promise<{ status: number | null; reason: string | null; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err === null) throw new Error('expected the call to be refused');
  return { status: googleStatus(err), reason: googleReason(err), message: googleMessage(err) };
}

/** A bearer token with exactly these scopes, acting as `subject`. */
async function token(memory: ReturnType<typeof tenant>['memory'], scopes: string[], subject = 'admin@example.com') {
  const { key } = testServiceAccountKey();
  const jwt = new auth.JWT({
    email: key.client_email,
    key: key.private_key,
    scopes,
    subject,
    transporterOptions: { fetchImplementation: memory.fetch as typeof fetch },
  });
  return (await jwt.getAccessToken()).token!;
}

async function call(
  memory: ReturnType<typeof tenant>['memory'],
  bearer: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await memory.fetch(`https://admin.googleapis.com${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, never>) };
}

describe('Directory fake: users.list', () => {
  it('pages 1,200 users 500 at a time with nextPageToken, and defaults to 100', async () => {
    const { state, read } = tenant();
    for (let i = 1; i < 1200; i++) state.addUser({ primaryEmail: `u${i}@example.com` });
    const sizes: number[] = [];
    let pageToken: string | undefined;
    const ids = new Set<string>();
    do {
      const res = await read.users.list({
        customer: 'my_customer',
        maxResults: 500,
        ...(pageToken ? { pageToken } : {}),
      });
      sizes.push(res.data.users?.length ?? 0);
      for (const u of res.data.users ?? []) ids.add(u.id!);
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    expect(sizes).toEqual([500, 500, 200]);
    expect(ids.size).toBe(1200);
    const first = await read.users.list({ customer: 'C01abc23d' });
    expect(first.data.users).toHaveLength(100);
    expect(first.data.kind).toBe('admin#directory#users');
    expect(first.data.nextPageToken).toBeTruthy();
  });

  it('refuses maxResults outside [1, 500], a bad pageToken, a missing or foreign customer, and search queries', async () => {
    const { read } = tenant();
    const over = await refusal(read.users.list({ customer: 'my_customer', maxResults: 501 }));
    expect(over).toEqual({
      status: 400,
      reason: 'invalid',
      message: "Invalid value '501'. Values must be within the range: [1, 500]",
    });
    expect((await refusal(read.users.list({ customer: 'my_customer', maxResults: 0 }))).status).toBe(400);
    expect((await refusal(read.users.list({ customer: 'my_customer', pageToken: 'bm9wZQ' }))).status).toBe(400);
    expect((await refusal(read.users.list({}))).status).toBe(400);
    const foreign = await refusal(read.users.list({ customer: 'C09zzz99z' }));
    expect(foreign).toMatchObject({ status: 403, message: 'Not Authorized to access this resource/api' });
    expect((await refusal(read.users.list({ customer: 'my_customer', query: 'isSuspended=true' }))).status).toBe(400);
    expect((await refusal(read.users.list({ customer: 'my_customer', projection: 'everything' }))).status).toBe(400);
  });

  it('leaves `users` out of an empty page and sorts by email on request', async () => {
    const { state, read } = tenant();
    state.addUser({ primaryEmail: 'zed@example.com' });
    state.addUser({ primaryEmail: 'amy@example.com' });
    const sorted = await read.users.list({ customer: 'my_customer', orderBy: 'email', sortOrder: 'DESCENDING' });
    expect(sorted.data.users!.map((u) => u.primaryEmail)).toEqual([
      'zed@example.com',
      'amy@example.com',
      'admin@example.com',
    ]);
    const deleted = await read.users.list({ customer: 'my_customer', showDeleted: 'true' });
    expect(deleted.data.users).toBeUndefined();
    expect(deleted.data.nextPageToken).toBeUndefined();
  });
});

describe('Directory fake: the user resource', () => {
  it('has the reference fields, the epoch for never, and aliases only when there are some', async () => {
    const created = new Date('2025-03-01T09:30:00.000Z');
    const { state, read } = tenant();
    const plain = state.addUser({ primaryEmail: 'new@example.com', creationTime: created });
    const u = (await read.users.get({ userKey: plain.id! })).data;
    expect(u).toMatchObject({
      kind: 'admin#directory#user',
      id: plain.id,
      primaryEmail: 'new@example.com',
      name: { givenName: 'New', familyName: 'Example', fullName: 'New Example' },
      isAdmin: false,
      isDelegatedAdmin: false,
      lastLoginTime: NEVER,
      creationTime: '2025-03-01T09:30:00.000Z',
      agreedToTerms: false,
      suspended: false,
      archived: false,
      customerId: 'C01abc23d',
      orgUnitPath: '/',
      isMailboxSetup: true,
      isEnrolledIn2Sv: false,
      isEnforcedIn2Sv: false,
      emails: [{ address: 'new@example.com', primary: true }],
    });
    expect(u.id).toMatch(/^1\d{20}$/);
    expect(u.etag).toMatch(/^".+"$/);
    expect(u).not.toHaveProperty('aliases');
    expect(u).not.toHaveProperty('suspensionReason');
    const held = state.addUser({ primaryEmail: 'held@example.com', suspended: true, aliases: ['h@example.com'] });
    const h = (await read.users.get({ userKey: held.id! })).data;
    expect(h).toMatchObject({ suspended: true, suspensionReason: 'ADMIN', aliases: ['h@example.com'] });
    expect(h.emails).toEqual([{ address: 'held@example.com', primary: true }, { address: 'h@example.com' }]);
  });

  it('finds a user by id, primary email (any case) or alias; anything else is 404 Resource Not Found: userKey', async () => {
    const { state, read } = tenant();
    const u = state.addUser({ primaryEmail: 'ann@example.com', aliases: ['annie@example.com'] });
    for (const key of [u.id!, 'Ann@Example.com', 'annie@example.com']) {
      expect((await read.users.get({ userKey: key })).data.id).toBe(u.id);
    }
    expect(await refusal(read.users.get({ userKey: 'nobody@example.com' }))).toEqual({
      status: 404,
      reason: 'notFound',
      message: 'Resource Not Found: userKey',
    });
  });

  it('patches suspended (with suspensionReason), ignores output-only fields and refuses unknown ones', async () => {
    const { state, write } = tenant();
    const u = state.addUser({ primaryEmail: 'bob@example.com' });
    const res = await write.users.patch({ userKey: u.id!, requestBody: { suspended: true, isAdmin: true } });
    expect(res.data).toMatchObject({ suspended: true, suspensionReason: 'ADMIN', isAdmin: false });
    const back = await write.users.update({ userKey: u.id!, requestBody: { suspended: false } });
    expect(back.data.suspended).toBe(false);
    expect(back.data).not.toHaveProperty('suspensionReason');
    expect(back.data.primaryEmail).toBe('bob@example.com');
    const bad = await refusal(write.users.patch({ userKey: u.id!, requestBody: { disabled: true } as never }));
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/Unknown name "disabled"/);
    expect(
      (await refusal(write.users.patch({ userKey: 'x@example.com', requestBody: { suspended: true } }))).status,
    ).toBe(404);
  });
});

describe('Directory fake: delete and undelete', () => {
  it('deletes to the deleted list, frees aliases and groups, and undeletes by id into an org unit for 20 days', async () => {
    let offset = 0;
    const clock = () => new Date(Date.now() + offset);
    const { state, read, write } = tenant({ clock });
    const u = state.addUser({ primaryEmail: 'cat@example.com', aliases: ['kitty@example.com'], orgUnitPath: '/Sales' });
    const g = state.addGroup({ email: 'sales@example.com' });
    state.addMember(g.id!, u.id!, 'OWNER');
    const res = await write.users.delete({ userKey: u.id! });
    expect(res.status).toBe(204);
    expect((await refusal(read.users.get({ userKey: u.id! }))).status).toBe(404);
    const deleted = await read.users.list({ customer: 'my_customer', showDeleted: 'true' });
    expect(deleted.data.users).toEqual([expect.objectContaining({ id: u.id, deletionTime: expect.any(String) })]);
    expect(state.membersOf(g.id!).size).toBe(0);
    // The immutable id only: an email does not find a deleted user.
    expect((await refusal(write.users.undelete({ userKey: 'cat@example.com', requestBody: {} }))).status).toBe(404);
    await write.users.undelete({ userKey: u.id!, requestBody: { orgUnitPath: '/Sales/East' } });
    const back = (await read.users.get({ userKey: u.id! })).data;
    expect(back).toMatchObject({ id: u.id, orgUnitPath: '/Sales/East' });
    expect(back).not.toHaveProperty('aliases');
    await write.users.delete({ userKey: u.id! });
    offset = 21 * DAY;
    expect(await refusal(write.users.undelete({ userKey: u.id!, requestBody: { orgUnitPath: '/' } }))).toMatchObject({
      status: 404,
      reason: 'notFound',
    });
    expect((await read.users.list({ customer: 'my_customer', showDeleted: 'true' })).data.users).toBeUndefined();
  });

  it('refuses an undelete whose address was taken since (409 duplicate)', async () => {
    const { state, write } = tenant();
    const u = state.addUser({ primaryEmail: 'dan@example.com' });
    await write.users.delete({ userKey: u.id! });
    state.addUser({ primaryEmail: 'dan@example.com' });
    expect(await refusal(write.users.undelete({ userKey: u.id!, requestBody: {} }))).toMatchObject({
      status: 409,
      reason: 'duplicate',
      message: 'Entity already exists.',
    });
  });
});

describe('Directory fake: aliases, groups and members', () => {
  it('lists and inserts aliases; a taken address is 409 Entity already exists.', async () => {
    const { state, read, write } = tenant();
    const u = state.addUser({ primaryEmail: 'eve@example.com', aliases: ['e@example.com'] });
    const list = (await read.users.aliases.list({ userKey: u.id! })).data;
    expect(list).toMatchObject({
      kind: 'admin#directory#aliases',
      aliases: [{ kind: 'admin#directory#alias', id: u.id, primaryEmail: 'eve@example.com', alias: 'e@example.com' }],
    });
    const added = await write.users.aliases.insert({ userKey: u.id!, requestBody: { alias: 'eve.x@example.com' } });
    expect(added.data).toMatchObject({ alias: 'eve.x@example.com', primaryEmail: 'eve@example.com' });
    const dup = await refusal(
      write.users.aliases.insert({ userKey: u.id!, requestBody: { alias: 'admin@example.com' } }),
    );
    expect(dup).toMatchObject({ status: 409, reason: 'duplicate' });
  });

  it("lists a user's groups, gets and inserts members with roles", async () => {
    const { state, read, write } = tenant();
    const u = state.addUser({ primaryEmail: 'fay@example.com' });
    const g1 = state.addGroup({ email: 'eng@example.com', name: 'Engineering' });
    const g2 = state.addGroup({ email: 'ops@example.com' });
    state.addMember(g1.id!, u.id!, 'MANAGER');
    const groups = (await read.groups.list({ userKey: u.id! })).data;
    expect(groups.kind).toBe('admin#directory#groups');
    expect(groups.groups).toEqual([
      expect.objectContaining({
        kind: 'admin#directory#group',
        id: g1.id,
        email: 'eng@example.com',
        name: 'Engineering',
      }),
    ]);
    expect((await read.members.get({ groupKey: g1.id!, memberKey: u.id! })).data).toMatchObject({
      kind: 'admin#directory#member',
      role: 'MANAGER',
      type: 'USER',
      status: 'ACTIVE',
      email: 'fay@example.com',
    });
    expect((await refusal(read.members.get({ groupKey: g2.id!, memberKey: u.id! }))).message).toBe(
      'Resource Not Found: memberKey',
    );
    await write.members.insert({ groupKey: 'ops@example.com', requestBody: { id: u.id!, role: 'OWNER' } });
    expect(state.membersOf(g2.id!).get(u.id!)).toBe('OWNER');
    const again = await refusal(write.members.insert({ groupKey: g2.id!, requestBody: { email: 'fay@example.com' } }));
    expect(again).toMatchObject({ status: 409, message: 'Member already exists.' });
    expect(
      (await refusal(write.members.insert({ groupKey: 'nope@example.com', requestBody: { id: u.id! } }))).message,
    ).toBe('Resource Not Found: groupKey');
  });
});

describe('Reports fake: login audit', () => {
  it("lists one user's login events newest first, paged by maxResults", async () => {
    const { state, ctx } = tenant();
    const u = state.addUser({ primaryEmail: 'gus@example.com' });
    state.addLogin(u.id!, { at: '2026-01-02T10:00:00Z', ipAddress: '198.51.100.7' });
    state.addLogin(u.id!, { at: '2026-01-05T10:00:00Z', name: 'login_failure' });
    state.addLogin(u.id!, { at: '2026-01-03T10:00:00Z' });
    state.addLogin('admin@example.com', { at: '2026-01-04T10:00:00Z' });
    const reports = ctx.apis.reports();
    const first = (
      await reports.activities.list({ userKey: 'gus@example.com', applicationName: 'login', maxResults: 2 })
    ).data;
    expect(first.kind).toBe('admin#reports#activities');
    expect(first.items!.map((a) => a.id!.time)).toEqual(['2026-01-05T10:00:00.000Z', '2026-01-03T10:00:00.000Z']);
    expect(first.items![0]).toMatchObject({
      kind: 'admin#reports#activity',
      id: { applicationName: 'login', customerId: 'C01abc23d', uniqueQualifier: expect.any(String) },
      actor: { email: 'gus@example.com', profileId: u.id },
      events: [{ type: 'login', name: 'login_failure' }],
    });
    const second = (
      await reports.activities.list({
        userKey: u.id!,
        applicationName: 'login',
        maxResults: 2,
        pageToken: first.nextPageToken!,
      })
    ).data;
    expect(second.items!.map((a) => a.ipAddress)).toEqual(['198.51.100.7']);
    expect(second.nextPageToken).toBeUndefined();
    // A successful login moves lastLoginTime forward.
    expect(state.lookup(u.id!)!.lastLoginTime).toBe('2026-01-03T10:00:00.000Z');
    const over = await refusal(reports.activities.list({ userKey: 'all', applicationName: 'login', maxResults: 1001 }));
    expect(over.status).toBe(400);
    expect((await refusal(reports.activities.list({ userKey: 'all', applicationName: 'logins' }))).status).toBe(400);
  });

  it('refuses an admin whose role has no Reports privilege (403)', async () => {
    const { state, ctx } = tenant();
    state.denyReports('admin@example.com');
    const res = await refusal(ctx.apis.reports().activities.list({ userKey: 'all', applicationName: 'login' }));
    expect(res).toEqual({ status: 403, reason: 'forbidden', message: 'Not Authorized to access this resource/api' });
  });
});

describe('Directory fake: scopes and admin rights', () => {
  it("declares each method's scopes as its reference page lists them, all delegated", () => {
    const routes = directoryRoutes(new WorkspaceState());
    const scopes = Object.fromEntries(
      routes.map((r) => [r.name, r.scopes.map((s) => s.replace('https://www.googleapis.com/auth/', ''))]),
    );
    expect(scopes['directory.users.list']).toEqual([
      'admin.directory.user',
      'admin.directory.user.readonly',
      'cloud-platform',
    ]);
    expect(scopes['directory.users.undelete']).toEqual(['admin.directory.user']);
    expect(scopes['directory.groups.list']).toEqual(['admin.directory.group', 'admin.directory.group.readonly']);
    expect(scopes['directory.members.insert']).toEqual(['admin.directory.group', 'admin.directory.group.member']);
    expect(scopes['reports.activities.list']).toEqual(['admin.reports.audit.readonly']);
    expect(routes.every((r) => r.delegated)).toBe(true);
  });

  it('lets a read-only token list but not suspend, and refuses a subject that is not an admin', async () => {
    const { state, memory } = tenant();
    const u = state.addUser({ primaryEmail: 'hal@example.com' });
    state.addUser({ primaryEmail: 'plain@example.com' });
    const readOnly = await token(memory, [DIRECTORY_SCOPES.userRead[1]]);
    expect((await call(memory, readOnly, 'GET', '/admin/directory/v1/users?customer=my_customer')).status).toBe(200);
    const patch = await call(memory, readOnly, 'PATCH', `/admin/directory/v1/users/${u.id}`, { suspended: true });
    expect(patch.status).toBe(403);
    expect(JSON.stringify(patch.body)).toMatch(/insufficientPermissions/);
    const reports = await call(memory, readOnly, 'GET', '/admin/reports/v1/activity/users/all/applications/login');
    expect(reports.status).toBe(403);
    const notAdmin = await token(memory, [DIRECTORY_SCOPES.userRead[1]], 'plain@example.com');
    const refused = await call(memory, notAdmin, 'GET', '/admin/directory/v1/users?customer=my_customer');
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toMatch(/Not Authorized to access this resource\/api/);
    const missing = await call(memory, readOnly, 'GET', '/admin/directory/v1/users/404@example.com');
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 404, status: 'NOT_FOUND' } } });
  });
});
