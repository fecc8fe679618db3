// Entra ID scans through the provider contract, over HTTPS against the Graph fake: every rule and
// edge case of DESIGN §2c, paging, licences and permissions, faults, and credential errors.
import { writeFileSync, mkdtempSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../src/engine/evaluate.js';
import { DormantError } from '../src/errors.js';
import type { Identity, Inventory } from '../src/model/identity.js';
import { parseConfig } from '../src/config/config.js';
import { entraEntry, createEntraSession, requireEntraIds } from '../src/providers/entra/entra-entry.js';
import { createGraphClientTransport } from '../src/providers/entra/entra-graph.js';
import { callerUserId } from '../src/providers/entra/entra-identity.js';
import { ROLE_TEMPLATES } from './support/graphFake.js';
import { NOW, REMEDIATE_ROLES, daysAgo, startEntra, type EntraHarness } from './entra-harness.js';
import { createAppCertificate } from './support/graphFake.js';

const dir = mkdtempSync(join(tmpdir(), 'dormant-entra-scan-'));

/** Runs `fn` and returns the DormantError it throws (failing the test if it throws something else). */
async function failure(fn: () => Promise<unknown>): Promise<DormantError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof DormantError) return err;
    throw err;
  }
  throw new Error('expected a DormantError');
}

function verdicts(inv: Inventory, config: Parameters<typeof evaluate>[1]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of evaluate(inv.identities, config, NOW)) {
    const local = e.identity.name.split('@')[0]!;
    out[local] = e.exemptReason ? `exempt: ${e.exemptReason}` : e.hits.map((h) => h.rule.id).join(',') || 'active';
  }
  return out;
}

describe('a tenant with every case', () => {
  let h: EntraHarness;
  const ids: Record<string, string> = {};
  let inventory: Inventory;
  let byName: Map<string, Identity>;

  beforeAll(async () => {
    h = await startEntra();
    const t = h.tenant;
    const add = (local: string, seed: Parameters<typeof t.addUser>[0]) => {
      const u = t.addUser({ userPrincipalName: `${local}@contoso.onmicrosoft.com`, ...seed });
      ids[local] = u.id!;
    };
    const signedIn = (days: number) => ({
      lastSignInDateTime: daysAgo(days),
      lastNonInteractiveSignInDateTime: null,
      lastSuccessfulSignInDateTime: daysAgo(days),
    });
    add('alice', { createdDateTime: daysAgo(700), signInActivity: signedIn(10) });
    add('bob', { createdDateTime: daysAgo(700), signInActivity: signedIn(143) });
    // Interactive sign-in long ago, but a token refresh five days ago: active.
    add('carol', {
      createdDateTime: daysAgo(700),
      signInActivity: {
        lastSignInDateTime: daysAgo(200),
        lastNonInteractiveSignInDateTime: daysAgo(5),
        lastSuccessfulSignInDateTime: daysAgo(200),
      },
    });
    add('dave', { createdDateTime: '2019-06-01T00:00:00Z', signInActivity: null });
    add('erin', { createdDateTime: daysAgo(200), signInActivity: null });
    add('frank', { createdDateTime: daysAgo(30), signInActivity: null });
    const guest = (local: string, seed: Parameters<typeof t.addUser>[0]) =>
      add(local, {
        userType: 'Guest',
        userPrincipalName: `${local}_fabrikam.com#EXT#@contoso.onmicrosoft.com`,
        mail: `${local}@fabrikam.com`,
        ...seed,
      });
    guest('gina', {
      createdDateTime: daysAgo(120),
      signInActivity: null,
      externalUserState: 'PendingAcceptance',
      externalUserStateChangeDateTime: daysAgo(120),
    });
    guest('hank', {
      createdDateTime: daysAgo(20),
      signInActivity: null,
      externalUserState: 'PendingAcceptance',
      externalUserStateChangeDateTime: daysAgo(20),
    });
    guest('ivy', {
      createdDateTime: daysAgo(300),
      signInActivity: null,
      externalUserState: 'Accepted',
      externalUserStateChangeDateTime: daysAgo(10),
    });
    guest('jack', {
      createdDateTime: daysAgo(400),
      signInActivity: signedIn(300),
      externalUserState: 'Accepted',
      externalUserStateChangeDateTime: daysAgo(399),
    });
    add('kim', { createdDateTime: daysAgo(700), signInActivity: signedIn(300), accountEnabled: false });
    add('leo', { createdDateTime: daysAgo(700), signInActivity: signedIn(200), onPremisesSyncEnabled: true });
    add('mia', { createdDateTime: daysAgo(700), signInActivity: signedIn(300) });
    add('ned', { createdDateTime: daysAgo(700), signInActivity: signedIn(300) });
    add('breakglass-1', { createdDateTime: daysAgo(700), signInActivity: null });
    add('pia', { createdDateTime: daysAgo(700), signInActivity: signedIn(300) });
    t.addDirectoryRole({ displayName: 'Global Administrator', members: [ids.mia!] });
    t.addDirectoryRole({ displayName: 'Helpdesk Administrator', members: [ids.pia!] });
    const inner = t.addGroup({ displayName: 'Break glass (inner)', members: [ids.ned!] });
    const outer = t.addGroup({ displayName: 'Break glass', members: [inner.id!] });
    ids.exemptGroup = outer.id!;
    const s = await h.open({ exemptGroups: [outer.id!], exemptUsers: ['breakglass-*'] });
    inventory = await s.scanner.collect();
    byName = new Map(inventory.identities.map((i) => [i.name.split('@')[0]!, i]));
  });
  afterAll(() => h.stop());

  it('reads every user into the neutral model', () => {
    expect(inventory).toMatchObject({
      provider: 'entra',
      source: 'graph',
      accounts: [h.tenant.tenantId],
      warnings: [],
      caller: null,
    });
    expect(byName.get('bob')).toMatchObject({
      provider: 'entra',
      account: h.tenant.tenantId,
      kind: 'user',
      id: ids.bob,
      name: 'bob@contoso.onmicrosoft.com',
      path: '/',
      enabled: true,
      credentials: [],
      signIn: {
        lastUse: 'used',
        at: daysAgo(143)
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
      },
    });
    expect(byName.get('gina_fabrikam.com#EXT#')).toMatchObject({ kind: 'guest', invitation: { state: 'pending' } });
  });

  it('gives every case its verdict', () => {
    expect(verdicts(inventory, h.config({ exemptGroups: [ids.exemptGroup], exemptUsers: ['breakglass-*'] }))).toEqual({
      alice: 'active',
      bob: 'DORMANT-ENTRA-001',
      carol: 'active',
      dave: 'DORMANT-ENTRA-001',
      erin: 'DORMANT-ENTRA-003',
      frank: 'active',
      'gina_fabrikam.com#EXT#': 'DORMANT-ENTRA-002',
      'hank_fabrikam.com#EXT#': 'active',
      'ivy_fabrikam.com#EXT#': 'active',
      'jack_fabrikam.com#EXT#': 'DORMANT-ENTRA-002',
      kim: 'active',
      leo: 'DORMANT-ENTRA-001',
      mia: 'DORMANT-ENTRA-001',
      ned: `exempt: member of the exempt group ${ids.exemptGroup}`,
      'breakglass-1': "exempt: matches entra.exemptUsers pattern 'breakglass-*'",
      pia: 'DORMANT-ENTRA-001',
    });
  });

  it('tells before-tracking from never by the creation date (April 2020)', () => {
    expect(byName.get('dave')?.signIn).toEqual({
      lastUse: 'before-tracking',
      at: null,
      trackingSince: '2020-04-01T00:00:00Z',
    });
    expect(byName.get('erin')?.signIn).toEqual({ lastUse: 'never', at: null });
  });

  it('takes the latest sign-in of any kind', () => {
    expect(byName.get('carol')?.signIn?.at).toBe(
      daysAgo(5)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    );
  });

  it('marks protected role holders, synced users and disabled users', () => {
    expect(byName.get('mia')?.protectedReason).toBe('a holder of the directory role Global Administrator');
    expect(byName.get('pia')?.protectedReason).toBeNull();
    expect(byName.get('leo')?.notifyOnlyReason).toBe(
      'synced from on-premises AD: disable it there; a cloud-side change would be overwritten by the next sync',
    );
    expect(byName.get('kim')?.enabled).toBe(false);
  });

  it('asks for what DESIGN §2c names, $top=999, one listing of roles and one of each exempt group', () => {
    const users = h.fake.callsTo('/v1.0/users', 'GET');
    expect(users).toHaveLength(1);
    expect(users[0]!.query).toMatchObject({
      $select:
        'id,userPrincipalName,displayName,mail,userType,accountEnabled,createdDateTime,signInActivity,externalUserState,externalUserStateChangeDateTime,onPremisesSyncEnabled',
      $top: '999',
    });
    // One listing of roles (no $expand: Graph cuts it at 20), then the members of each protected one.
    expect(h.fake.callsTo(/^\/v1\.0\/directoryRoles(\?|$)/, 'GET')).toHaveLength(1);
    expect(h.fake.callsTo('/v1.0/directoryRoles/*/members', 'GET')).toHaveLength(1);
    expect(
      h.fake.callsTo(`/v1.0/groups/${ids.exemptGroup}/transitiveMembers/microsoft.graph.user`, 'GET'),
    ).toHaveLength(1);
  });
});

describe('paging, licences and permissions', () => {
  let h: EntraHarness;
  beforeAll(async () => {
    h = await startEntra();
    h.tenant.addUsers(2500);
  });
  afterAll(() => h.stop());

  it('reads 2,500 users over three pages, with calls = pages + roles + 1 token', async () => {
    h.fake.clearRequests();
    const s = await h.open();
    const inv = await s.scanner.collect();
    expect(inv.identities).toHaveLength(2500);
    expect(new Set(inv.identities.map((i) => i.id)).size).toBe(2500);
    expect(h.fake.callsTo('/v1.0/users', 'GET')).toHaveLength(3);
    expect(s.calls()).toBe(
      '6 Graph calls (1 GET /directoryRoles, 2 GET /roleManagement/directory/roleEligibilityScheduleInstances, 3 GET /users), 1 token request',
    );
  });

  it('without an Entra ID P1/P2 licence: one warning, every last sign-in unknown, no verdicts', async () => {
    h.tenant.premium = false;
    try {
      const s = await h.open();
      const inv = await s.scanner.collect();
      expect(inv.warnings).toEqual([
        "Entra: Graph refused signInActivity (Authentication_RequestFromNonPremiumTenantOrB2CTenant): it needs an Entra ID P1 or P2 licence in the tenant. Every user's last sign-in is unknown, so no Entra user is called inactive.",
      ]);
      expect(inv.identities).toHaveLength(2500);
      expect(inv.identities.every((i) => i.signIn?.lastUse === 'unknown')).toBe(true);
      expect(evaluate(inv.identities, h.config(), NOW).flatMap((e) => e.hits)).toEqual([]);
    } finally {
      h.tenant.premium = true;
    }
  });

  it('without AuditLog.Read.All: the warning names the permission', async () => {
    const app = h.tenant.addApp({ secret: 'other-secret', roles: ['User.Read.All', 'RoleManagement.Read.Directory'] });
    process.env.DORMANT_TEST_OTHER_SECRET = 'other-secret';
    const s = await h.open({ clientId: app.clientId, clientSecret: { env: 'DORMANT_TEST_OTHER_SECRET' } });
    const inv = await s.scanner.collect();
    expect(inv.warnings).toHaveLength(1);
    expect(inv.warnings[0]).toContain('AuditLog.Read.All');
    expect(inv.identities.every((i) => i.signIn?.lastUse === 'unknown')).toBe(true);
  });

  it('without User.Read.All: exit 3 naming the permission', async () => {
    const app = h.tenant.addApp({ secret: 'third-secret', roles: ['RoleManagement.Read.Directory'] });
    process.env.DORMANT_TEST_THIRD_SECRET = 'third-secret';
    const s = await h.open({ clientId: app.clientId, clientSecret: { env: 'DORMANT_TEST_THIRD_SECRET' } });
    const err = await failure(() => s.scanner.collect());
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe('Graph refused GET /users: the app needs User.Read.All; grant it and scan again');
  });

  it('a malformed page is an error, never a short inventory', async () => {
    h.fake.corruptUsersPage(2, 'malformed');
    const s = await h.open();
    const err = await failure(() => s.scanner.collect());
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^Graph returned a malformed answer to GET \/users \(the body is not complete JSON\)/);
  });

  it('a truncated page is an error, never a short inventory', async () => {
    h.fake.corruptUsersPage(3, 'truncated');
    const s = await h.open();
    const err = await failure(() => s.scanner.collect());
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^Graph returned a malformed answer to GET \/users \(the body was cut off/);
    expect(err.message).not.toContain('\n');
  });

  it('honours Retry-After on 429 and 503, then carries on', async () => {
    h.fake.clearRequests();
    h.fake.throttle('/v1.0/users', 1, { retryAfterSeconds: 1 });
    h.fake.throttle('/v1.0/directoryRoles', 1, { status: 503, retryAfterSeconds: 1 });
    const s = await h.open();
    const inv = await s.scanner.collect();
    expect(inv.identities).toHaveLength(2500);
    const users = h.fake.callsTo('/v1.0/users', 'GET');
    expect(users.map((r) => r.status)).toEqual([429, 200, 200, 200]);
    expect(users[1]!.at.getTime() - users[0]!.at.getTime()).toBeGreaterThanOrEqual(950);
  });

  it('a 429 storm fails after entra.maxAttempts with exit 3', async () => {
    h.fake.clearRequests();
    h.fake.storm({ pattern: '/v1.0/users', retryAfterSeconds: 0 });
    try {
      const s = await h.open({ maxAttempts: 4 });
      const err = await failure(() => s.scanner.collect());
      expect(err.exitCode).toBe(3);
      expect(err.message).toBe('Graph kept throttling (429) after 4 attempts at GET /users; try later');
      expect(h.fake.callsTo('/v1.0/users', 'GET')).toHaveLength(4);
    } finally {
      h.fake.clearFaults();
    }
  });
});

describe('credentials and configuration', () => {
  let h: EntraHarness;
  beforeAll(async () => {
    h = await startEntra();
    h.tenant.addUser({ userPrincipalName: 'bob@contoso.onmicrosoft.com' });
  });
  afterAll(() => h.stop());

  const scan = async (entra: Record<string, unknown>) => failure(async () => (await h.open(entra)).scanner.collect());

  it('refuses to open without entra.tenantId or entra.clientId (exit 2)', async () => {
    for (const key of ['tenantId', 'clientId']) {
      const err = await failure(() => entraEntry.open({ config: h.config({ [key]: null }) }));
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(new RegExp(`^entra\\.${key} is not set;`));
    }
  });

  it('a wrong tenant id: exit 2 naming entra.tenantId', async () => {
    const err = await scan({ tenantId: '11111111-2222-3333-4444-555555555555' });
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('(AADSTS90002); check entra.tenantId');
  });

  it('an unknown client id: exit 2 naming entra.clientId', async () => {
    const err = await scan({ clientId: '11111111-2222-3333-4444-555555555555' });
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('(AADSTS700016); check entra.clientId');
  });

  it('a wrong client secret: exit 3 naming its source, never its value, on one line', async () => {
    process.env.DORMANT_TEST_WRONG_SECRET = 'definitely-not-it';
    const err = await scan({ clientSecret: { env: 'DORMANT_TEST_WRONG_SECRET' } });
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(
      /^Entra refused the client secret from environment variable DORMANT_TEST_WRONG_SECRET: .*AADSTS7000215/,
    );
    expect(err.message).not.toContain('definitely-not-it');
    expect(err.message).not.toMatch(/[\r\n]|Trace ID|Correlation ID/);
    const file = join(dir, 'wrong-secret');
    writeFileSync(file, 'definitely-not-it\n');
    const fromFile = await scan({ clientSecret: { file } });
    expect(fromFile.message).toMatch(new RegExp(`^Entra refused the client secret from file ${file}: `));
  });

  it('reads the secret from a file, and names a missing file (exit 2)', async () => {
    const file = join(dir, 'secret');
    writeFileSync(file, `${process.env[h.secretEnv]}\n`);
    const inv = await (await h.open({ clientSecret: { file } })).scanner.collect();
    expect(inv.identities).toHaveLength(1);
    const err = await failure(() => h.open({ clientSecret: { file: join(dir, 'nope') } }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/^entra\.clientSecret\.file: cannot read .*nope \(ENOENT\)/);
  });

  it('a certificate: a valid one works, an expired one is exit 3 naming the file', async () => {
    const good = createAppCertificate();
    const goodFile = join(dir, 'good.pem');
    writeFileSync(goodFile, good.pem);
    const app = h.tenant.addApp({
      certificates: [good.certPem],
      roles: ['User.Read.All', 'RoleManagement.Read.Directory', 'AuditLog.Read.All'],
    });
    const inv = await (
      await h.open({ clientId: app.clientId, clientCertificate: { file: goodFile } })
    ).scanner.collect();
    expect(inv.identities).toHaveLength(1);

    const expired = createAppCertificate({ notBefore: daysAgo(400), notAfter: daysAgo(3) });
    const expiredFile = join(dir, 'expired.pem');
    writeFileSync(expiredFile, expired.pem);
    const old = h.tenant.addApp({ certificates: [expired.certPem], roles: ['User.Read.All'] });
    const err = await scan({ clientId: old.clientId, clientCertificate: { file: expiredFile } });
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(
      new RegExp(
        `^Entra refused the certificate in ${expiredFile} \\(AADSTS700027\\): it expired on \\d{4}-\\d\\d-\\d\\d; `,
      ),
    );

    const missing = await failure(() => h.open({ clientCertificate: { file: join(dir, 'missing.pem') } }));
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toMatch(/^entra\.clientCertificate\.file: .* does not exist/);
  });

  it('tells an untrusted certificate from an unreachable host (exit 3)', async () => {
    // A server whose certificate no CA on this machine vouches for.
    const self = createAppCertificate({ commonName: '127.0.0.1' });
    const server = https.createServer({ key: self.keyPem, cert: self.certPem }, (_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const untrusted = await scan({ authorityHost: `https://127.0.0.1:${port}` });
      expect(untrusted.exitCode).toBe(3);
      expect(untrusted.message).toMatch(
        new RegExp(
          `^the Entra authority at https://127.0.0.1:${port} presented a TLS certificate this machine does not trust \\(`,
        ),
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    // The same port, now closed.
    const unreachable = await scan({ authorityHost: `https://127.0.0.1:${port}` });
    expect(unreachable.exitCode).toBe(3);
    expect(unreachable.message).toBe(
      `cannot reach the Entra authority at https://127.0.0.1:${port} (ECONNREFUSED); check entra.authorityHost and the network`,
    );
  });

  it('an exempt group that does not exist: exit 2 naming entra.exemptGroups', async () => {
    const err = await scan({ exemptGroups: ['6b1f0e6e-0000-4000-8000-000000000000'] });
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/^entra\.exemptGroups: there is no group 6b1f0e6e/);
  });
});

describe('protected roles: paging, template ids, PIM eligibility', () => {
  let h: EntraHarness;
  const byId = async (entra: Record<string, unknown> = {}) => {
    const inv = await (await h.open(entra)).scanner.collect();
    return new Map(inv.identities.map((i) => [i.id, i]));
  };
  beforeAll(async () => {
    h = await startEntra();
  });
  afterAll(() => h.stop());

  it('protects all 25 Global Administrators (Graph cuts $expand=members at 20, so members are paged)', async () => {
    const admins = h.tenant.addUsers(25);
    const ga = h.tenant.addDirectoryRole({ displayName: 'Global Administrator' });
    h.tenant.addRoleMembers(ga.id!, admins);
    h.fake.clearRequests();
    const users = await byId();
    for (const id of admins) {
      expect(users.get(id)?.protectedReason).toBe('a holder of the directory role Global Administrator');
    }
    expect(h.fake.callsTo('/v1.0/directoryRoles', 'GET').every((r) => !('$expand' in r.query))).toBe(true);
    expect(h.fake.callsTo(`/v1.0/directoryRoles/${ga.id!}/members`, 'GET')).toHaveLength(1);
  });

  it('always protects Global and Privileged Role Administrators, even with protectedRoles: []', async () => {
    const ga = h.tenant.addUser({ userPrincipalName: 'ga2@contoso.onmicrosoft.com' }).id!;
    const pra = h.tenant.addUser({ userPrincipalName: 'pra@contoso.onmicrosoft.com' }).id!;
    h.tenant.addDirectoryRoleMember(ROLE_TEMPLATES['Global Administrator'], ga);
    h.tenant.addDirectoryRole({ displayName: 'Privileged Role Administrator', members: [pra] });
    const users = await byId({ protectedRoles: [] });
    expect(users.get(ga)?.protectedReason).toBe('a holder of the directory role Global Administrator');
    expect(users.get(pra)?.protectedReason).toBe('a holder of the directory role Privileged Role Administrator');
  });

  it('matches configured roles by name (any case) or template id, and through role-assignable groups', async () => {
    const helpdesk = h.tenant.addUser({ userPrincipalName: 'helpdesk@contoso.onmicrosoft.com' }).id!;
    const viaGroup = h.tenant.addUser({ userPrincipalName: 'viagroup@contoso.onmicrosoft.com' }).id!;
    const group = h.tenant.addGroup({ displayName: 'Exchange admins', isAssignableToRole: true, members: [viaGroup] });
    h.tenant.addDirectoryRole({ displayName: 'Helpdesk Administrator', members: [helpdesk] });
    h.tenant.addDirectoryRole({ displayName: 'Exchange Administrator', members: [group.id!] });
    const none = await byId();
    expect(none.get(helpdesk)?.protectedReason).toBeNull();
    expect(none.get(viaGroup)?.protectedReason).toBeNull();
    const users = await byId({ protectedRoles: ['helpdesk administrator', ROLE_TEMPLATES['Exchange Administrator']] });
    expect(users.get(helpdesk)?.protectedReason).toBe('a holder of the directory role Helpdesk Administrator');
    expect(users.get(viaGroup)?.protectedReason).toBe('a holder of the directory role Exchange Administrator');
  });

  it('protects users eligible (PIM) for a protected role, directly or through a group', async () => {
    const eligible = h.tenant.addUser({ userPrincipalName: 'eligible@contoso.onmicrosoft.com' }).id!;
    const member = h.tenant.addUser({ userPrincipalName: 'pimgroup-member@contoso.onmicrosoft.com' }).id!;
    const group = h.tenant.addGroup({ displayName: 'PIM admins', isAssignableToRole: true, members: [member] });
    const helpdeskOnly = h.tenant.addUser({ userPrincipalName: 'eligible-helpdesk@contoso.onmicrosoft.com' }).id!;
    h.tenant.addRoleEligibility({ principalId: eligible, roleName: 'Global Administrator' });
    h.tenant.addRoleEligibility({ principalId: group.id!, roleName: 'Privileged Role Administrator' });
    h.tenant.addRoleEligibility({ principalId: helpdeskOnly, roleName: 'Helpdesk Administrator' });
    const users = await byId({ protectedRoles: [] });
    expect(users.get(eligible)?.protectedReason).toBe('eligible (PIM) for the directory role Global Administrator');
    expect(users.get(member)?.protectedReason).toBe(
      'eligible (PIM) for the directory role Privileged Role Administrator',
    );
    expect(users.get(helpdeskOnly)?.protectedReason).toBeNull();
    // Named in config: its eligibilities are read too.
    expect((await byId({ protectedRoles: ['Helpdesk Administrator'] })).get(helpdeskOnly)?.protectedReason).toBe(
      'eligible (PIM) for the directory role Helpdesk Administrator',
    );
  });

  it('stops (exit 3, one line naming the permission) when Graph refuses the PIM eligibilities', async () => {
    const app = h.tenant.addApp({
      secret: 'no-pim',
      roles: ['User.Read.All', 'AuditLog.Read.All', 'Directory.Read.All'],
    });
    process.env.DORMANT_TEST_NO_PIM = 'no-pim';
    const s = await h.open({ clientId: app.clientId, clientSecret: { env: 'DORMANT_TEST_NO_PIM' } });
    const err = await failure(() => s.scanner.collect());
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      'Graph refused GET /roleManagement/directory/roleEligibilityScheduleInstances: the app needs RoleEligibilitySchedule.Read.Directory (or RoleManagement.Read.Directory) to see who is eligible for a protected role; grant it and scan again',
    );
  });
});

describe('whose token: tenant check and the caller', () => {
  let h: EntraHarness;
  const AZURE = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST'] as const;
  beforeAll(async () => {
    h = await startEntra();
  });
  afterAll(() => h.stop());

  it('an explicitly configured secret variable that is unset is exit 2 naming it, not a silent fallback', async () => {
    const err = await failure(() => h.open({ clientSecret: { env: 'DORMANT_TEST_UNSET_SECRET_VAR' } }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(
      /^entra\.clientSecret\.env: the environment variable DORMANT_TEST_UNSET_SECRET_VAR is not set/,
    );
  });

  it('refuses a DefaultAzureCredential environment that signs in to another tenant (exit 3, one line)', async () => {
    const other = h.fake.addTenant({ displayName: 'Fabrikam', domains: ['fabrikam.onmicrosoft.com'] });
    const otherApp = other.addApp({ secret: 'fabrikam-secret', roles: [...REMEDIATE_ROLES] });
    const saved = Object.fromEntries(AZURE.map((k) => [k, process.env[k]]));
    Object.assign(process.env, {
      AZURE_TENANT_ID: other.tenantId,
      AZURE_CLIENT_ID: otherApp.clientId,
      AZURE_CLIENT_SECRET: 'fabrikam-secret',
      AZURE_AUTHORITY_HOST: h.fake.url,
    });
    try {
      // The default clientSecret (AZURE_CLIENT_SECRET) is set here: null makes it DefaultAzureCredential.
      const s = await h.open({ clientSecret: null });
      const err = await failure(() => s.scanner.collect());
      expect(err.exitCode).toBe(3);
      expect(err.message).toBe(
        `the Entra credential gave a token for tenant ${other.tenantId}, not entra.tenantId ${h.tenant.tenantId}; dormant refuses to act on another tenant: check AZURE_TENANT_ID, az login or the managed identity`,
      );
      expect(h.fake.requests.filter((r) => r.path.startsWith('/v1.0/') && r.tenantId === other.tenantId)).toEqual([]);
    } finally {
      for (const k of AZURE) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('resolves a domain entra.tenantId to its GUID from the OpenID issuer, and refuses another tenant’s token', async () => {
    const ok = await (await h.open({ tenantId: 'contoso.onmicrosoft.com' })).scanner.collect();
    expect(ok.provider).toBe('entra');
    const other = h.fake.tenant('fabrikam.onmicrosoft.com');
    const otherApp = [...other.apps.values()][0]!;
    const entra = requireEntraIds(h.config({ tenantId: 'contoso.onmicrosoft.com' }).entra);
    const transport = createGraphClientTransport({
      sdk: await import('@microsoft/microsoft-graph-client'),
      credential: {
        getToken: async () => ({
          token: h.fake.mintToken(other.tenantId, otherApp.clientId),
          expiresOnTimestamp: Date.now() + 3_600_000,
        }),
      },
      graphUrl: h.fake.url,
      maxAttempts: 1,
      onTokenError: async (e) => e as never,
      onNetworkError: (e) => e as never,
      tenant: { tenantId: entra.tenantId, authorityHost: h.fake.url },
    });
    const err = await failure(() => createEntraSession({ transport, entra }).scanner.collect());
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain(`a token for tenant ${other.tenantId}, not entra.tenantId contoso.onmicrosoft.com`);
  });

  it('protects the user a delegated token belongs to: the identity dormant runs as', async () => {
    const me = h.tenant.addUser({
      userPrincipalName: 'operator@contoso.onmicrosoft.com',
      createdDateTime: daysAgo(700),
      signInActivity: null,
    }).id!;
    const entra = requireEntraIds(h.config().entra);
    const transport = createGraphClientTransport({
      sdk: await import('@microsoft/microsoft-graph-client'),
      credential: {
        getToken: async () => ({
          token: h.fake.mintUserToken(h.tenant.tenantId, h.app.clientId, me),
          expiresOnTimestamp: Date.now() + 3_600_000,
        }),
      },
      graphUrl: h.fake.url,
      maxAttempts: 1,
      onTokenError: async (e) => e as never,
      onNetworkError: (e) => e as never,
      tenant: { tenantId: entra.tenantId, authorityHost: h.fake.url },
    });
    const session = createEntraSession({ transport, entra });
    const inv = await session.scanner.collect();
    expect(inv.caller).toEqual({ arn: me, account: h.tenant.tenantId });
    expect(inv.identities.find((i) => i.id === me)).toMatchObject({
      isCaller: true,
      protectedReason: 'the identity dormant runs as',
    });
    const live = await session.remediation.reread({
      provider: 'entra',
      account: h.tenant.tenantId,
      id: me,
      name: 'operator',
    });
    expect(live).toMatchObject({ isCaller: true, protectedReason: 'the identity dormant runs as' });
    // An app token (client credentials) names no caller.
    const app = await (await h.open()).scanner.collect();
    expect(app.caller).toBeNull();
    expect(app.identities.find((i) => i.id === me)?.protectedReason).toBeNull();
  });

  it('tells a user token from an app token', () => {
    expect(callerUserId({ idtyp: 'user', oid: 'AB' })).toBe('ab');
    expect(callerUserId({ idtyp: 'app', oid: 'sp', roles: [] })).toBeNull();
    expect(callerUserId({ oid: 'u1', upn: 'a@b' })).toBe('u1');
    expect(callerUserId({ oid: 'u2', scp: 'User.Read' })).toBe('u2');
    expect(callerUserId({ oid: 'sp' })).toBeNull();
    expect(callerUserId(null)).toBeNull();
  });
});

describe('entra.graphUrl and entra.authorityHost must be https', () => {
  const config = (entra: Record<string, unknown>) => () => parseConfig({ entra });
  it('refuses plain http except on localhost and 127.0.0.1', () => {
    expect(config({ graphUrl: 'http://graph.example.com' })).toThrow(/entra\.graphUrl must be an https URL/);
    expect(config({ authorityHost: 'http://login.example.com' })).toThrow(/entra\.authorityHost must be an https URL/);
    expect(config({ graphUrl: 'http://127.0.0.1:8080', authorityHost: 'http://localhost:8443' })).not.toThrow();
    expect(config({ graphUrl: 'https://graph.microsoft.us' })).not.toThrow();
  });
});
