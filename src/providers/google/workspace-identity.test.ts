// The Workspace user → Identity mapping (DESIGN §2d), table by table: the epoch as "never",
// suspended and archived as disabled, super and delegated admins protected, exemptions by glob
// on email, alias or id and by org unit (equal or below), and the schema's refusals.
import { describe, expect, it } from 'vitest';
import { NEVER } from './memory/directory.js';
import { inOrgUnit, workspaceIdentityMapper, workspaceUserSchema, type WorkspaceUser } from './workspace-identity.js';

const DAY = 86_400_000;
const CUSTOMER = 'C01abc23d';

const user = (over: Partial<WorkspaceUser> = {}): WorkspaceUser =>
  workspaceUserSchema.parse({
    id: '100000000000000000001',
    primaryEmail: 'ann@example.com',
    name: { givenName: 'Ann', familyName: 'Lee', fullName: 'Ann Lee' },
    isAdmin: false,
    isDelegatedAdmin: false,
    lastLoginTime: '2026-01-10T08:00:00.000Z',
    creationTime: '2024-05-01T12:00:00.000Z',
    suspended: false,
    archived: false,
    orgUnitPath: '/Staff',
    customerId: CUSTOMER,
    isEnrolledIn2Sv: true,
    ...over,
  });

describe('Workspace user → Identity', () => {
  const map = workspaceIdentityMapper({
    customer: 'my_customer',
    exemptUsers: ['svc-*@example.com', '100000000000000000077', 'break.glass@*'],
    exemptOrgUnits: ['/Service accounts', '/Vendors/'],
    subject: 'admin@example.com',
  });

  it('maps the fields: account = customerId, id, name = primary email, path = org unit, sign-in and 2SV', () => {
    expect(map(user())).toMatchObject({
      provider: 'google',
      account: CUSTOMER,
      kind: 'user',
      id: '100000000000000000001',
      name: 'ann@example.com',
      path: '/Staff',
      displayName: 'Ann Lee',
      mail: 'ann@example.com',
      createdAt: '2024-05-01T12:00:00Z',
      enabled: true,
      credentials: [],
      signIn: { lastUse: 'used', at: '2026-01-10T08:00:00Z' },
      lastSignInAt: '2026-01-10T08:00:00Z',
      mfaActive: true,
      protectedReason: null,
      exemptReason: null,
    });
    expect(map(user({ customerId: undefined })).account).toBe('my_customer');
  });

  it('reads 1970-01-01T00:00:00.000Z as never, not as a date, and a missing lastLoginTime as unknown', () => {
    expect(map(user({ lastLoginTime: NEVER }))).toMatchObject({
      signIn: { lastUse: 'never', at: null },
      lastSignInAt: null,
    });
    expect(map(user({ lastLoginTime: undefined })).signIn).toEqual({ lastUse: 'unknown', at: null });
  });

  it('keeps a user created yesterday (never signed in) with its creation time, for the rules to spare', () => {
    const yesterday = new Date(Date.now() - DAY).toISOString();
    const id = map(user({ lastLoginTime: NEVER, creationTime: yesterday }));
    expect(id.createdAt).toBe(yesterday.replace(/\.\d{3}Z$/, 'Z'));
    expect(id.signIn?.lastUse).toBe('never');
  });

  it('marks suspended and archived users disabled', () => {
    expect(map(user({ suspended: true, suspensionReason: 'ADMIN' })).enabled).toBe(false);
    expect(map(user({ archived: true })).enabled).toBe(false);
  });

  it('protects super admins, delegated admins and the subject itself', () => {
    expect(map(user({ isAdmin: true })).protectedReason).toBe('a Workspace super admin');
    expect(map(user({ isDelegatedAdmin: true })).protectedReason).toBe('a Workspace delegated admin');
    const me = map(user({ primaryEmail: 'Admin@example.com', isAdmin: true }));
    expect(me).toMatchObject({ protectedReason: 'the identity dormant runs as', isCaller: true });
  });

  it('exempts by glob on primary email, alias or id, and by org unit equal to or below an exempt one', () => {
    expect(map(user({ primaryEmail: 'svc-backup@example.com' })).exemptReason).toBe(
      "matches google.workspace.exemptUsers pattern 'svc-*@example.com'",
    );
    expect(map(user({ aliases: ['Break.Glass@example.com'] })).exemptReason).toMatch(/'break\.glass@\*'/);
    expect(map(user({ id: '100000000000000000077' })).exemptReason).toMatch(/100000000000000000077/);
    expect(map(user({ orgUnitPath: '/Service accounts' })).exemptReason).toBe(
      'in the exempt org unit /Service accounts',
    );
    expect(map(user({ orgUnitPath: '/Vendors/Acme/Contractors' })).exemptReason).toBe(
      'in the exempt org unit /Vendors/ (/Vendors/Acme/Contractors)',
    );
    // A sibling whose name merely starts the same is not below it.
    expect(map(user({ orgUnitPath: '/Service accounts old' })).exemptReason).toBeNull();
    expect(inOrgUnit('/anything', '/')).toBe(true);
  });

  it('refuses a user resource without isAdmin rather than guess it is no admin', () => {
    const rest: Partial<WorkspaceUser> = { ...user() };
    delete rest.isAdmin;
    expect(workspaceUserSchema.safeParse(rest).success).toBe(false);
  });
});
