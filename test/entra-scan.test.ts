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
import { entraEntry } from '../src/providers/entra/entra-entry.js';
import { NOW, daysAgo, startEntra, type EntraHarness } from './entra-harness.js';
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
    expect(h.fake.callsTo('/v1.0/directoryRoles', 'GET')).toHaveLength(1);
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
    expect(s.calls()).toBe('4 Graph calls (1 GET /directoryRoles, 3 GET /users), 1 token request');
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
