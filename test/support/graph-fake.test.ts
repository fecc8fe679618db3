// Tests of the Entra ID / Microsoft Graph fake itself, driven by the real clients the project
// uses: @azure/identity (MSAL) for tokens and @microsoft/microsoft-graph-client for Graph.
import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { Client, GraphError, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import type * as MSGraph from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ALL_GRAPH_ROLES,
  GRAPH_PERMISSIONS,
  GraphFake,
  ROLE_TEMPLATES,
  createAppCertificate,
  type FakeTenant,
  type RegisteredApp,
} from './graphFake.js';

const SCOPE = 'https://graph.microsoft.com/.default';
const PROVIDER_SELECT =
  'id,userPrincipalName,displayName,mail,userType,accountEnabled,createdDateTime,signInActivity,externalUserState,externalUserStateChangeDateTime,onPremisesSyncEnabled';
const E5 = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';

let clock = new Date('2026-06-01T12:00:00Z');
const fake = new GraphFake({ now: () => clock });
let tenant: FakeTenant;
let app: RegisteredApp;

beforeAll(async () => {
  await fake.start();
  tenant = fake.addTenant({ displayName: 'Contoso', domains: ['contoso.onmicrosoft.com'] });
  app = tenant.addApp({ displayName: 'dormant', secret: 'correct-horse-battery', roles: [...ALL_GRAPH_ROLES] });
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.clearFaults();
  fake.clearRequests();
});

function secretCredential(tenantId = tenant.tenantId, clientId = app.clientId, secret = 'correct-horse-battery') {
  return new ClientSecretCredential(tenantId, clientId, secret, {
    authorityHost: fake.url,
    disableInstanceDiscovery: true,
  });
}

function graphClient(credential: TokenCredential): Client {
  return Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [SCOPE] }),
    baseUrl: fake.url,
    customHosts: new Set([fake.host]),
  });
}

async function tokenFor(roles: string[]): Promise<string> {
  return fake.mintToken(tenant.tenantId, app.clientId, { roles });
}

async function graphFetch(path: string, token: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(`${fake.url}/v1.0${path}`, { ...init, headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

async function tokenRequest(tenantName: string, form: Record<string, string>) {
  const res = await fetch(`${fake.url}/${tenantName}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function expectEntraError(body: Record<string, unknown>, error: string, code: number) {
  expect(body.error).toBe(error);
  expect(body.error_codes).toEqual([code]);
  const d = String(body.error_description);
  expect(d).toMatch(new RegExp(`^AADSTS${code}: `));
  expect(d).toMatch(
    /\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/,
  );
  expect(body.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  expect(d).toContain(`Trace ID: ${String(body.trace_id)}`);
  expect(d).toContain(`Correlation ID: ${String(body.correlation_id)}`);
  expect(body.error_uri).toBe(`${fake.url}/error?code=${code}`);
}

function expectGraphError(body: Record<string, unknown> | null, code: string, message?: string | RegExp) {
  const e = (body as { error: { code: string; message: string; innerError: Record<string, string> } }).error;
  expect(e.code).toBe(code);
  if (typeof message === 'string') expect(e.message).toBe(message);
  else if (message) expect(e.message).toMatch(message);
  expect(e.innerError.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  expect(e.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(e.innerError['client-request-id']).toBeTruthy();
}

describe('token endpoint', () => {
  it('serves OIDC metadata whose issuer shares the authority host', async () => {
    const res = await fetch(`${fake.url}/${tenant.tenantId}/v2.0/.well-known/openid-configuration`);
    const doc = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(200);
    expect(doc.issuer).toBe(`${fake.url}/${tenant.tenantId}/v2.0`);
    expect(doc.token_endpoint).toBe(fake.tokenEndpoint(tenant.tenantId));
    expect(doc.authorization_endpoint).toBe(`${fake.url}/${tenant.tenantId}/oauth2/v2.0/authorize`);
    // By domain name too; the endpoints then name the tenant id, as Entra's do.
    const byDomain = (await (
      await fetch(`${fake.url}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration`)
    ).json()) as Record<string, string>;
    expect(byDomain.token_endpoint).toBe(fake.tokenEndpoint(tenant.tenantId));
  });

  it('the real ClientSecretCredential gets a token bound to tenant, app and roles', async () => {
    const cred = secretCredential();
    const t = await cred.getToken(SCOPE);
    expect(t.token.split('.')).toHaveLength(3);
    expect(t.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3500_000);
    const claims = JSON.parse(Buffer.from(t.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      tid: tenant.tenantId,
      appid: app.clientId,
      appidacr: '1',
      aud: 'https://graph.microsoft.com',
      idtyp: 'app',
    });
    expect(claims.roles).toEqual(app.roles);
    // MSAL asked for the metadata, then the token; nothing else.
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET /${tenant.tenantId}/v2.0/.well-known/openid-configuration 200`,
      `POST /${tenant.tenantId}/oauth2/v2.0/token 200`,
    ]);
    // MSAL caches the token in memory: a second call asks nobody.
    await cred.getToken(SCOPE);
    expect(fake.requests).toHaveLength(2);
  });

  it('a raw client-credentials request gets Entra’s success shape', async () => {
    const { status, body } = await tokenRequest(tenant.tenantId, {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: 'correct-horse-battery',
      scope: `${fake.url}/.default`,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });
    expect(typeof body.access_token).toBe('string');
  });

  it('a wrong secret is AADSTS7000215 (401 invalid_client), raw and through the credential', async () => {
    const raw = await tokenRequest(tenant.tenantId, {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: 'wrong',
      scope: SCOPE,
    });
    expect(raw.status).toBe(401);
    expectEntraError(raw.body, 'invalid_client', 7000215);
    expect(raw.body.error_description).toContain(
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
    );
    const err = await secretCredential(tenant.tenantId, app.clientId, 'wrong')
      .getToken(SCOPE)
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    // @azure/identity wraps it: AuthenticationRequiredError "invalid_client: Error(s): 7000215 - … Trace ID …".
    expect(err?.name).toBe('AuthenticationRequiredError');
    expect(err?.message).toContain('AADSTS7000215');
    expect(err?.message).toMatch(/Trace ID: .*\s+Correlation ID: /s);
  });

  it('an unknown tenant is AADSTS90002, and the credential reports an endpoint resolution failure', async () => {
    const raw = await tokenRequest('00000000-1111-2222-3333-444444444444', {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: 'correct-horse-battery',
      scope: SCOPE,
    });
    expect(raw.status).toBe(400);
    expectEntraError(raw.body, 'invalid_request', 90002);
    expect(raw.body.error_description).toContain("Tenant '00000000-1111-2222-3333-444444444444' not found.");
    const meta = await fetch(`${fake.url}/nosuch.onmicrosoft.com/v2.0/.well-known/openid-configuration`);
    expect(meta.status).toBe(400);
    expectEntraError((await meta.json()) as Record<string, unknown>, 'invalid_tenant', 90002);

    const err = await secretCredential('00000000-1111-2222-3333-444444444444')
      .getToken(SCOPE)
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    // MSAL hides the AADSTS90002 of the discovery document behind an opaque error.
    expect(err?.name).toBe('CredentialUnavailableError');
    expect(err?.message).toMatch(/endpoints_resolution_error/);
    expect(fake.callsTo('/00000000-1111-2222-3333-444444444444/v2.0/.well-known/openid-configuration')[0]?.status).toBe(
      400,
    );
  });

  it('an unknown client is AADSTS700016 (400 unauthorized_client)', async () => {
    const raw = await tokenRequest(tenant.tenantId, {
      grant_type: 'client_credentials',
      client_id: '11111111-2222-3333-4444-555555555555',
      client_secret: 'x',
      scope: SCOPE,
    });
    expect(raw.status).toBe(400);
    expectEntraError(raw.body, 'unauthorized_client', 700016);
    expect(raw.body.error_description).toContain(
      "Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory 'Contoso'.",
    );
  });

  it('a scope without /.default, or another resource, is refused', async () => {
    const base = { grant_type: 'client_credentials', client_id: app.clientId, client_secret: 'correct-horse-battery' };
    const a = await tokenRequest(tenant.tenantId, { ...base, scope: 'User.Read.All' });
    expect(a.status).toBe(400);
    expectEntraError(a.body, 'invalid_scope', 1002012);
    const b = await tokenRequest(tenant.tenantId, { ...base, scope: 'https://management.azure.com/.default' });
    expect(b.status).toBe(400);
    expectEntraError(b.body, 'invalid_resource', 500011);
    const c = await tokenRequest(tenant.tenantId, {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      scope: SCOPE,
    });
    expect(c.status).toBe(401);
    expectEntraError(c.body, 'invalid_client', 7000218);
  });

  it('ClientCertificateCredential works with a valid certificate (PS256, x5t#S256)', async () => {
    const cert = createAppCertificate();
    const certApp = tenant.addApp({
      displayName: 'dormant-cert',
      certificates: [cert.certPem],
      roles: ['User.Read.All'],
    });
    const cred = new ClientCertificateCredential(
      tenant.tenantId,
      certApp.clientId,
      { certificate: cert.pem },
      {
        authorityHost: fake.url,
        disableInstanceDiscovery: true,
      },
    );
    const t = await cred.getToken(SCOPE);
    const claims = JSON.parse(Buffer.from(t.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ appid: certApp.clientId, appidacr: '2', roles: ['User.Read.All'] });
    const res = await graphClient(cred).api('/users').select('id').top(1).get();
    expect(res).toHaveProperty('value');
  });

  it('an expired certificate is refused with AADSTS700027, and a certificate not registered too', async () => {
    const expired = createAppCertificate({
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2024-02-01T00:00:00Z'),
    });
    const expiredApp = tenant.addApp({ certificates: [expired.certPem], roles: ['User.Read.All'] });
    const err = await new ClientCertificateCredential(
      tenant.tenantId,
      expiredApp.clientId,
      { certificate: expired.pem },
      {
        authorityHost: fake.url,
        disableInstanceDiscovery: true,
      },
    )
      .getToken(SCOPE)
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toContain('AADSTS700027');
    expect(err?.message).toContain('The key used is expired.');
    const token = fake.callsTo(`/${tenant.tenantId}/oauth2/v2.0/token`).at(-1);
    expect(token).toMatchObject({ status: 401, error: 'invalid_client', clientId: expiredApp.clientId });

    const other = createAppCertificate();
    const err2 = await new ClientCertificateCredential(
      tenant.tenantId,
      expiredApp.clientId,
      { certificate: other.pem },
      {
        authorityHost: fake.url,
        disableInstanceDiscovery: true,
      },
    )
      .getToken(SCOPE)
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(err2?.message).toContain('AADSTS700027');
    expect(err2?.message).toContain('The key was not found.');
  });
});

describe('Graph authentication and permissions', () => {
  it('no token, a garbage token, a forged and an expired token are 401 InvalidAuthenticationToken', async () => {
    const none = await graphFetch('/users', null);
    expect(none.status).toBe(401);
    expectGraphError(none.body, 'InvalidAuthenticationToken', 'Access token is empty.');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=""/);

    const garbage = await graphFetch('/users', 'not-a-jwt');
    expect(garbage.status).toBe(401);
    expectGraphError(
      garbage.body,
      'InvalidAuthenticationToken',
      'CompactToken parsing failed with error code: 80049217',
    );

    const good = await tokenFor(['User.Read.All']);
    // Same signature, payload edited to claim more roles.
    const [h, p, sig] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const morePower = Buffer.from(JSON.stringify({ ...claims, roles: ['Directory.ReadWrite.All'] })).toString(
      'base64url',
    );
    const forged = `${h}.${morePower}.${sig}`;
    const f = await graphFetch('/users', forged);
    expect(f.status).toBe(401);
    expectGraphError(f.body, 'InvalidAuthenticationToken', /^Access token validation failure/);

    const expired = fake.mintToken(tenant.tenantId, app.clientId, { expiresInSeconds: -10 });
    const e = await graphFetch('/users', expired);
    expect(e.status).toBe(401);
    expectGraphError(e.body, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
  });

  it('a token without the endpoint’s permission is 403 Authorization_RequestDenied', async () => {
    const u = tenant.addUser({ displayName: 'Perm Target' });
    const readOnly = await tokenFor(['User.Read.All']);
    const patch = await graphFetch(`/users/${u.id!}`, readOnly, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accountEnabled: false }),
    });
    expect(patch.status).toBe(403);
    expectGraphError(patch.body, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    expect(tenant.user(u.id!)?.accountEnabled).toBe(true);
    // User.EnableDisableAccount.All is enough for accountEnabled…
    const disabler = await tokenFor(['User.EnableDisableAccount.All']);
    const ok = await graphFetch(`/users/${u.id!}`, disabler, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accountEnabled: false }),
    });
    expect(ok.status).toBe(204);
    expect(tenant.user(u.id!)?.accountEnabled).toBe(false);
    // …but not for other properties.
    const other = await graphFetch(`/users/${u.id!}`, disabler, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobTitle: 'x' }),
    });
    expect(other.status).toBe(403);
    // The table says which permissions each endpoint takes.
    expect(GRAPH_PERMISSIONS.updateUserAccountEnabled.anyOf).toContain('User.EnableDisableAccount.All');
    expect(GRAPH_PERMISSIONS.listDirectoryRoles.anyOf).toContain('RoleManagement.Read.Directory');
  });

  it('an app whose permissions change keeps the roles its existing tokens carry', async () => {
    const a = tenant.addApp({ secret: 's3cret', roles: ['User.Read.All'] });
    const cred = secretCredential(tenant.tenantId, a.clientId, 's3cret');
    const client = graphClient(cred);
    await client.api('/users').select('id').top(1).get();
    tenant.setAppRoles(a.clientId, []);
    await expect(client.api('/users').select('id').top(1).get()).resolves.toHaveProperty('value');
    const fresh = graphClient(secretCredential(tenant.tenantId, a.clientId, 's3cret'));
    await expect(fresh.api('/users').select('id').top(1).get()).rejects.toMatchObject({
      statusCode: 403,
      code: 'Authorization_RequestDenied',
    });
  });
});

describe('Graph reads', () => {
  let pagingTenant: FakeTenant;
  let pagingApp: RegisteredApp;

  beforeAll(() => {
    pagingTenant = fake.addTenant({ displayName: 'Fabrikam' });
    pagingApp = pagingTenant.addApp({ secret: 'fab-secret', roles: ['User.Read.All', 'AuditLog.Read.All'] });
    pagingTenant.addUsers(2500);
  });

  it('the real Graph client lists 2,500 users over three pages of 999 with PageIterator', async () => {
    const client = graphClient(secretCredential(pagingTenant.tenantId, pagingApp.clientId, 'fab-secret'));
    const first = (await client.api('/users').query(`$select=${PROVIDER_SELECT}`).top(999).get()) as PageCollection;
    expect(first.value).toHaveLength(999);
    const next = String(first['@odata.nextLink']);
    expect(next.startsWith(`${fake.url}/v1.0/users?`)).toBe(true);
    expect(new URL(next).searchParams.get('$skiptoken')).toBeTruthy();
    expect(new URL(next).searchParams.get('$top')).toBe('999');
    const seen: MSGraph.User[] = [];
    await new PageIterator(client, first, (u: MSGraph.User) => {
      seen.push(u);
      return true;
    }).iterate();
    expect(seen).toHaveLength(2500);
    expect(new Set(seen.map((u) => u.id)).size).toBe(2500);
    const pages = fake.callsTo('/v1.0/users', 'GET');
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(pages.map((p) => p.query.$skiptoken === undefined)).toEqual([true, false, false]);
    // Every page carried the bearer token (the fake is a custom host) and the provider's $select.
    expect(pages.every((p) => p.clientId === pagingApp.clientId)).toBe(true);
    expect(Object.keys(seen[0]!).sort()).toEqual(PROVIDER_SELECT.split(',').sort());
    expect(seen[0]!.signInActivity).toMatchObject({
      lastSignInDateTime: expect.any(String),
      lastSuccessfulSignInRequestId: expect.any(String),
    });
  });

  it('honours $select: only the selected properties, unset ones as null; default set without it', async () => {
    const u = tenant.addUser({
      displayName: 'Select Me',
      userPrincipalName: 'select.me@contoso.onmicrosoft.com',
      jobTitle: 'Engineer',
    });
    const token = await tokenFor(['User.Read.All']);
    const sel = await graphFetch(`/users/${u.id!}?$select=displayName,officeLocation`, token);
    expect(sel.status).toBe(200);
    const { ['@odata.context']: ctx, ...props } = sel.body!;
    expect(ctx).toBe(`${fake.url}/v1.0/$metadata#users(displayName,officeLocation)/$entity`);
    expect(props).toEqual({ displayName: 'Select Me', officeLocation: null });
    const def = await graphFetch('/users/select.me@contoso.onmicrosoft.com', token);
    expect(
      Object.keys(def.body!)
        .filter((k) => !k.startsWith('@'))
        .sort(),
    ).toEqual(
      [
        'businessPhones',
        'displayName',
        'givenName',
        'id',
        'jobTitle',
        'mail',
        'mobilePhone',
        'officeLocation',
        'preferredLanguage',
        'surname',
        'userPrincipalName',
      ].sort(),
    );
    const unknown = await graphFetch('/users?$select=id,nosuch', token);
    expect(unknown.status).toBe(400);
    expectGraphError(
      unknown.body,
      'Request_BadRequest',
      "Could not find a property named 'nosuch' on type 'microsoft.graph.user'.",
    );
  });

  it('$top must be 1..999', async () => {
    const token = await tokenFor(['User.Read.All']);
    const big = await graphFetch('/users?$top=1000', token);
    expect(big.status).toBe(400);
    expectGraphError(
      big.body,
      'Request_UnsupportedQuery',
      "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );
    expect((await graphFetch('/users?$top=0', token)).status).toBe(400);
    const client = graphClient(secretCredential());
    await expect(client.api('/users').top(1000).get()).rejects.toMatchObject({
      statusCode: 400,
      code: 'Request_UnsupportedQuery',
    });
  });

  it('a tampered or foreign $skiptoken is Directory_ExpiredPageToken', async () => {
    const token = fake.mintToken(pagingTenant.tenantId, pagingApp.clientId);
    const first = await graphFetch('/users?$select=id&$top=5', token);
    const next = new URL(String(first.body!['@odata.nextLink']));
    const other = await graphFetch(
      `/users?$select=id,displayName&$top=5&$skiptoken=${next.searchParams.get('$skiptoken')!}`,
      token,
    );
    expect(other.status).toBe(400);
    expectGraphError(other.body, 'Directory_ExpiredPageToken');
    expect((await graphFetch('/users?$top=5&$skiptoken=garbage', token)).status).toBe(400);
  });

  it('signInActivity without a P1/P2 licence is 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant', async () => {
    const free = fake.addTenant({ displayName: 'Free', premium: false });
    const freeApp = free.addApp({ secret: 'free', roles: ['User.Read.All', 'AuditLog.Read.All'] });
    free.addUser({ signInActivity: { lastSignInDateTime: clock } });
    const client = graphClient(secretCredential(free.tenantId, freeApp.clientId, 'free'));
    const err = (await client
      .api('/users')
      .query(`$select=${PROVIDER_SELECT}`)
      .top(999)
      .get()
      .catch((e: unknown) => e)) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('Authentication_RequestFromNonPremiumTenantOrB2CTenant');
    expect(err.message).toBe("Neither tenant is B2C or tenant doesn't have premium license");
    // Without signInActivity the same listing works.
    await expect(client.api('/users').select('id,userPrincipalName').get()).resolves.toHaveProperty('value');
    // Sign-in logs need the licence too.
    await expect(client.api('/auditLogs/signIns').get()).rejects.toMatchObject({
      statusCode: 403,
      code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    });
  });

  it('signInActivity without AuditLog.Read.All is 403 Authorization_RequestDenied', async () => {
    const token = await tokenFor(['User.Read.All']);
    const res = await graphFetch(`/users?$select=${PROVIDER_SELECT}&$top=999`, token);
    expect(res.status).toBe(403);
    expectGraphError(res.body, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  });

  it('an unknown user is 404 Request_ResourceNotFound', async () => {
    const token = await tokenFor(['User.Read.All']);
    const id = '99999999-9999-9999-9999-999999999999';
    const res = await graphFetch(`/users/${id}`, token);
    expect(res.status).toBe(404);
    expectGraphError(
      res.body,
      'Request_ResourceNotFound',
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    );
  });

  it('serves user shapes: guests, pending invitations, synced users, licences, manager', async () => {
    const boss = tenant.addUser({ displayName: 'Boss' });
    const guest = tenant.addUser({
      userType: 'Guest',
      externalUserState: 'PendingAcceptance',
      createdDateTime: '2025-01-01T00:00:00Z',
      manager: boss.id!,
      assignedLicenses: [{ skuId: E5, disabledPlans: [] }],
    });
    const synced = tenant.addUser({ onPremisesSyncEnabled: true, onPremisesImmutableId: 'abc==' });
    const token = await tokenFor(['User.Read.All']);
    const g = await graphFetch(
      `/users/${guest.id!}?$select=id,userType,externalUserState,externalUserStateChangeDateTime,creationType,createdDateTime,assignedLicenses,signInActivity`,
      await tokenFor(['User.Read.All', 'AuditLog.Read.All']),
    );
    expect(g.body).toMatchObject({
      userType: 'Guest',
      externalUserState: 'PendingAcceptance',
      externalUserStateChangeDateTime: '2025-01-01T00:00:00Z',
      creationType: 'Invitation',
      createdDateTime: '2025-01-01T00:00:00Z',
      assignedLicenses: [{ disabledPlans: [], skuId: E5 }],
      signInActivity: null,
    });
    const s = await graphFetch(`/users/${synced.id!}?$select=onPremisesSyncEnabled`, token);
    expect(s.body).toMatchObject({ onPremisesSyncEnabled: true });
    const m = await graphFetch(`/users/${guest.id!}/manager?$select=id,userPrincipalName`, token);
    expect(m.body).toMatchObject({
      '@odata.type': '#microsoft.graph.user',
      id: boss.id,
      userPrincipalName: boss.userPrincipalName,
    });
    const none = await graphFetch(`/users/${boss.id!}/manager`, token);
    expect(none.status).toBe(404);
    expectGraphError(none.body, 'Request_ResourceNotFound');
  });

  it('lists activated directory roles with members, group transitive members and a user’s memberOf', async () => {
    const admin = tenant.addUser({ displayName: 'Admin' });
    const inner = tenant.addGroup({ displayName: 'Inner', members: [admin.id!] });
    const outer = tenant.addGroup({ displayName: 'Break glass', members: [inner.id!] });
    const ga = tenant.addDirectoryRole({ displayName: 'Global Administrator', members: [admin.id!] });
    const client = graphClient(secretCredential());
    const roles = (await client.api('/directoryRoles').expand('members($select=id)').get()) as {
      value: MSGraph.DirectoryRole[];
    };
    const gaView = roles.value.find((r) => r.id === ga.id);
    expect(gaView).toMatchObject({
      displayName: 'Global Administrator',
      roleTemplateId: ROLE_TEMPLATES['Global Administrator'],
    });
    expect(gaView?.members).toEqual([{ '@odata.type': '#microsoft.graph.user', id: admin.id }]);
    const trans = (await client
      .api(`/groups/${outer.id!}/transitiveMembers/microsoft.graph.user`)
      .select('id')
      .top(999)
      .get()) as PageCollection;
    expect(trans.value).toEqual([{ id: admin.id }]);
    const memberOf = (await client
      .api(`/users/${admin.id!}/memberOf`)
      .select('id,displayName')
      .get()) as PageCollection;
    expect(memberOf.value).toEqual([
      { '@odata.type': '#microsoft.graph.group', id: inner.id, displayName: 'Inner' },
      { '@odata.type': '#microsoft.graph.directoryRole', id: ga.id, displayName: 'Global Administrator' },
    ]);
    await expect(
      client.api('/groups/99999999-9999-9999-9999-999999999999/transitiveMembers/microsoft.graph.user').get(),
    ).rejects.toMatchObject({
      statusCode: 404,
      code: 'Request_ResourceNotFound',
    });
  });

  it('serves a user’s sign-in logs newest first, filtered and paged', async () => {
    const u = tenant.addUser({ displayName: 'Signer' });
    for (let d = 1; d <= 5; d++) {
      tenant.addSignIn({
        userId: u.id!,
        createdDateTime: new Date(clock.getTime() - d * 86_400_000),
        appDisplayName: `App ${d}`,
        ipAddress: `198.51.100.${d}`,
      });
    }
    tenant.addSignIn({ userId: tenant.addUser({}).id!, createdDateTime: clock });
    const client = graphClient(secretCredential());
    const res = (await client.api('/auditLogs/signIns').filter(`userId eq '${u.id!}'`).top(2).get()) as PageCollection;
    expect(res.value.map((s: MSGraph.SignIn) => s.appDisplayName)).toEqual(['App 1', 'App 2']);
    expect(res['@odata.nextLink']).toBeTruthy();
    const s0 = res.value[0] as MSGraph.SignIn;
    expect(s0).toMatchObject({
      userId: u.id,
      ipAddress: '198.51.100.1',
      isInteractive: true,
      clientAppUsed: 'Browser',
      location: { city: expect.any(String), state: expect.any(String), countryOrRegion: expect.any(String) },
      status: { errorCode: 0, failureReason: null },
    });
    const all: MSGraph.SignIn[] = [];
    await new PageIterator(client, res, (s: MSGraph.SignIn) => {
      all.push(s);
      return true;
    }).iterate();
    expect(all).toHaveLength(5);
  });
});

describe('Graph writes', () => {
  it('disables a user and revokes its sessions, which the fake records', async () => {
    const u = tenant.addUser({ displayName: 'To Disable' });
    const client = graphClient(secretCredential());
    await client.api(`/users/${u.id!}`).patch({ accountEnabled: false });
    const r = (await client.api(`/users/${u.id!}/revokeSignInSessions`).post({})) as { value: boolean };
    expect(r.value).toBe(true);
    expect(tenant.user(u.id!)?.accountEnabled).toBe(false);
    expect(tenant.revocations.filter((x) => x.userId === u.id)).toEqual([
      { userId: u.id, at: clock, clientId: app.clientId },
    ]);
    expect(tenant.user(u.id!)?.signInSessionsValidFromDateTime).toBe(clock.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  });

  it('refuses cloud changes to a user synced from on-premises', async () => {
    const u = tenant.addUser({ onPremisesSyncEnabled: true });
    const client = graphClient(secretCredential());
    await expect(client.api(`/users/${u.id!}`).patch({ accountEnabled: false })).rejects.toMatchObject({
      statusCode: 400,
      code: 'Request_BadRequest',
      message: expect.stringContaining('on-premises mastered Directory Sync objects') as unknown,
    });
    expect(tenant.user(u.id!)?.accountEnabled).toBe(true);
  });

  it('group, role, app role, licence and manager writes', async () => {
    const u = tenant.addUser({ usageLocation: 'DE' });
    const boss = tenant.addUser({});
    const g = tenant.addGroup({ displayName: 'Team' });
    const role = tenant.addDirectoryRole({ displayName: 'User Administrator' });
    const sp = tenant.addServicePrincipal({ displayName: 'Payroll', appRoles: [{ value: 'Payroll.User' }] });
    tenant.addSku({ skuId: E5, skuPartNumber: 'SPE_E5' });
    const client = graphClient(secretCredential());
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${u.id!}` };
    await client.api(`/groups/${g.id!}/members/$ref`).post(ref);
    await expect(client.api(`/groups/${g.id!}/members/$ref`).post(ref)).rejects.toMatchObject({
      statusCode: 400,
      message: "One or more added object references already exist for the following modified properties: 'members'.",
    });
    await client.api(`/directoryRoles/${role.id!}/members/$ref`).post(ref);
    await client
      .api(`/users/${u.id!}/manager/$ref`)
      .put({ '@odata.id': `https://graph.microsoft.com/v1.0/users/${boss.id!}` });
    const lic = (await client
      .api(`/users/${u.id!}/assignLicense`)
      .post({ addLicenses: [{ skuId: E5, disabledPlans: [] }], removeLicenses: [] })) as MSGraph.User;
    expect(lic.id).toBe(u.id);
    const a = (await client
      .api(`/users/${u.id!}/appRoleAssignments`)
      .post({ principalId: u.id, resourceId: sp.id, appRoleId: sp.appRoles[0]!.id })) as MSGraph.AppRoleAssignment;
    expect(a).toMatchObject({
      principalId: u.id,
      resourceId: sp.id,
      resourceDisplayName: 'Payroll',
      principalType: 'User',
    });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tenant.memberOf(u.id!)).toEqual({ groups: [g.id], roles: [role.id] });
    expect(tenant.managerOf(u.id!)?.id).toBe(boss.id);
    expect(tenant.user(u.id!)?.assignedLicenses).toEqual([{ disabledPlans: [], skuId: E5 }]);
    const list = (await client.api(`/users/${u.id!}/appRoleAssignments`).get()) as PageCollection;
    expect(list.value).toHaveLength(1);
    // A licence needs a usage location, as in Entra.
    const nowhere = tenant.addUser({});
    await expect(
      client
        .api(`/users/${nowhere.id!}/assignLicense`)
        .post({ addLicenses: [{ skuId: E5, disabledPlans: [] }], removeLicenses: [] }),
    ).rejects.toMatchObject({
      statusCode: 400,
      message: 'License assignment cannot be done for user with invalid usage location.',
    });
  });

  it('soft delete → deletedItems → restore, and what comes back', async () => {
    const u = tenant.addUser({ displayName: 'Leaver', usageLocation: 'US', assignedLicenses: [{ skuId: E5 }] });
    const boss = tenant.addUser({});
    tenant.updateUser(u.id!, { manager: boss.id! });
    const cloud = tenant.addGroup({ displayName: 'Cloud group', members: [u.id!] });
    const synced = tenant.addGroup({ displayName: 'Synced group', onPremisesSyncEnabled: true, members: [u.id!] });
    tenant.addDirectoryRole({ displayName: 'Helpdesk Administrator', members: [u.id!] });
    tenant.addAppRoleAssignment({ principalId: u.id!, resourceDisplayName: 'Expenses' });
    const client = graphClient(secretCredential());

    await client.api(`/users/${u.id!}`).delete();
    await expect(client.api(`/users/${u.id!}`).get()).rejects.toMatchObject({
      statusCode: 404,
      code: 'Request_ResourceNotFound',
    });
    const deleted = (await client.api(`/directory/deletedItems/${u.id!}`).get()) as MSGraph.User &
      Record<string, unknown>;
    expect(deleted).toMatchObject({
      '@odata.type': '#microsoft.graph.user',
      id: u.id,
      displayName: 'Leaver',
      deletedDateTime: '2026-06-01T12:00:00Z',
    });
    const listed = (await client
      .api('/directory/deletedItems/microsoft.graph.user')
      .select('id,deletedDateTime')
      .get()) as PageCollection;
    expect(listed.value).toContainEqual({ id: u.id, deletedDateTime: '2026-06-01T12:00:00Z' });
    expect(tenant.deletedUser(u.id!)?.deletedDateTime).toBe('2026-06-01T12:00:00Z');

    clock = new Date(clock.getTime() + 10 * 86_400_000);
    try {
      const restored = (await client.api(`/directory/deletedItems/${u.id!}/restore`).post({})) as MSGraph.User &
        Record<string, unknown>;
      expect(restored).toMatchObject({ '@odata.type': '#microsoft.graph.user', id: u.id });
      expect(tenant.user(u.id!)?.deletedDateTime).toBeNull();
      // Cloud group memberships and licences come back; synced groups, roles, app roles and the manager do not.
      expect(tenant.memberOf(u.id!)).toEqual({ groups: [cloud.id], roles: [] });
      expect(tenant.groupMembers(synced.id!)).toEqual([]);
      expect(tenant.appRoleAssignments(u.id!)).toEqual([]);
      expect(tenant.managerOf(u.id!)).toBeNull();
      expect(tenant.user(u.id!)?.assignedLicenses).toEqual([{ disabledPlans: [], skuId: E5 }]);
      await expect(client.api(`/directory/deletedItems/${u.id!}`).get()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      clock = new Date('2026-06-01T12:00:00Z');
    }
  });

  it('purges soft-deleted users after 30 days: restore is then 404', async () => {
    const u = tenant.addUser({ displayName: 'Gone for good' });
    const client = graphClient(secretCredential());
    await client.api(`/users/${u.id!}`).delete();
    clock = new Date(clock.getTime() + 29 * 86_400_000);
    try {
      await expect(client.api(`/directory/deletedItems/${u.id!}`).get()).resolves.toMatchObject({ id: u.id });
      clock = new Date(clock.getTime() + 1 * 86_400_000);
      await expect(client.api(`/directory/deletedItems/${u.id!}/restore`).post({})).rejects.toMatchObject({
        statusCode: 404,
        code: 'Request_ResourceNotFound',
      });
      expect(tenant.purged).toContain(u.id);
      expect(tenant.deletedUser(u.id!)).toBeUndefined();
    } finally {
      clock = new Date('2026-06-01T12:00:00Z');
    }
  });

  it('restore is refused while another user holds the userPrincipalName', async () => {
    const u = tenant.addUser({ userPrincipalName: 'reused@contoso.onmicrosoft.com' });
    const client = graphClient(secretCredential());
    await client.api(`/users/${u.id!}`).delete();
    tenant.addUser({ userPrincipalName: 'reused@contoso.onmicrosoft.com' });
    await expect(client.api(`/directory/deletedItems/${u.id!}/restore`).post({})).rejects.toMatchObject({
      statusCode: 400,
      message: 'Another object with the same value for property userPrincipalName already exists.',
    });
  });
});

describe('faults', () => {
  it('429 with Retry-After is retried by the Graph client’s RetryHandler', async () => {
    const client = graphClient(secretCredential());
    await client.api('/users').select('id').top(1).get(); // token cached
    fake.clearRequests();
    fake.throttle('/v1.0/users', 2, { retryAfterSeconds: 1 });
    const started = Date.now();
    const res = (await client.api('/users').select('id').top(1).get()) as PageCollection;
    const elapsed = Date.now() - started;
    expect(res.value).toHaveLength(1);
    const calls = fake.callsTo('/v1.0/users');
    expect(calls.map((c) => [c.status, c.fault])).toEqual([
      [429, 'throttle'],
      [429, 'throttle'],
      [200, null],
    ]);
    // It waited the Retry-After (1 s) before each retry.
    expect(elapsed).toBeGreaterThanOrEqual(2000);
  });

  it('a storm is always 429: the client gives up after its 3 retries', async () => {
    const client = graphClient(secretCredential());
    await client.api('/users').select('id').top(1).get();
    fake.clearRequests();
    fake.storm({ retryAfterSeconds: 0 });
    const err = (await client
      .api('/users')
      .select('id')
      .top(1)
      .get()
      .catch((e: unknown) => e)) as GraphError;
    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('TooManyRequests');
    expect(fake.callsTo('/v1.0/users').map((c) => c.status)).toEqual([429, 429, 429, 429]);
    const raw = await graphFetch('/users', await tokenFor(['User.Read.All']));
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('0');
    fake.storm(false);
    expect((await graphFetch('/users?$top=1', await tokenFor(['User.Read.All']))).status).toBe(200);
  });

  it('a malformed or truncated users page breaks that page only', async () => {
    const t = fake.addTenant({ displayName: 'Faulty' });
    const a = t.addApp({ secret: 'f', roles: ['User.Read.All'] });
    t.addUsers(30);
    const client = graphClient(secretCredential(t.tenantId, a.clientId, 'f'));
    fake.corruptUsersPage(2, 'malformed');
    const first = (await client.api('/users').select('id').top(10).get()) as PageCollection;
    const next = String(first['@odata.nextLink']);
    await expect(client.api(next).get()).rejects.toThrow();
    expect(fake.callsTo('/v1.0/users').at(-1)).toMatchObject({ status: 200, fault: 'malformed' });
    const again = (await client.api(next).get()) as PageCollection; // only once
    expect(again.value).toHaveLength(10);

    fake.corruptUsersPage(3, 'truncated');
    await expect(client.api(String(again['@odata.nextLink'])).get()).rejects.toThrow();
    expect(fake.callsTo('/v1.0/users').at(-1)).toMatchObject({ fault: 'truncated' });
    const last = (await client.api(String(again['@odata.nextLink'])).get()) as PageCollection;
    expect(last.value).toHaveLength(10);
    expect(last['@odata.nextLink']).toBeUndefined();
  });

  it('adds latency per call and records every request', async () => {
    const token = await tokenFor(['User.Read.All']);
    fake.setLatency(150);
    const started = Date.now();
    await graphFetch('/users?$top=1', token);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    fake.setLatency(0);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: '/v1.0/users',
      query: { $top: '1' },
      status: 200,
      tenantId: tenant.tenantId,
      clientId: app.clientId,
    });
  });
});

describe('scale', () => {
  it('adds 20,000 users through the generator and pages them at O(page) cost', async () => {
    const big = fake.addTenant({ displayName: 'Big' });
    const bigApp = big.addApp({ secret: 'big', roles: ['User.Read.All', 'AuditLog.Read.All'] });
    const ids = big.addUsers(20_000, (i) =>
      i % 10 === 0 ? { userType: 'Guest', externalUserState: i % 20 === 0 ? 'PendingAcceptance' : 'Accepted' } : {},
    );
    expect(ids).toHaveLength(20_000);
    expect(big.userCount).toBe(20_000);
    const client = graphClient(secretCredential(big.tenantId, bigApp.clientId, 'big'));
    let n = 0;
    let guests = 0;
    const first = (await client.api('/users').query(`$select=${PROVIDER_SELECT}`).top(999).get()) as PageCollection;
    await new PageIterator(client, first, (u: MSGraph.User) => {
      n++;
      if (u.userType === 'Guest') guests++;
      return true;
    }).iterate();
    expect(n).toBe(20_000);
    expect(guests).toBe(2_000);
    expect(fake.callsTo('/v1.0/users')).toHaveLength(Math.ceil(20_000 / 999));
  });
});

describe('protected-role surface: role members, PIM eligibility, per-user checks, user tokens', () => {
  it('caps $expand=members of directory roles at 20 with no nextLink, and pages /directoryRoles/{id}/members', async () => {
    const ids = tenant.addUsers(25);
    const role = tenant.addDirectoryRole({ displayName: 'Security Administrator' });
    tenant.addRoleMembers(role.id!, ids);
    const token = await tokenFor(['RoleManagement.Read.Directory']);
    const expanded = await graphFetch('/directoryRoles?$expand=members($select=id)', token);
    const view = (expanded.body!.value as { id: string; members: unknown[] }[]).find((r) => r.id === role.id);
    expect(view?.members).toHaveLength(20);
    expect(JSON.stringify(expanded.body)).not.toContain('nextLink');
    const seen: string[] = [];
    let next: string | undefined = `/directoryRoles/${role.id!}/members?$select=id&$top=10`;
    let pages = 0;
    while (next) {
      const page = await graphFetch(next, token);
      expect(page.status).toBe(200);
      for (const m of page.body!.value as { '@odata.type': string; id: string }[]) {
        expect(m['@odata.type']).toBe('#microsoft.graph.user');
        seen.push(m.id);
      }
      const link = page.body!['@odata.nextLink'] as string | undefined;
      next = link ? link.slice(`${fake.url}/v1.0`.length) : undefined;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].map((i) => i.toLowerCase()).sort());
  });

  it('lists PIM eligibilities by roleDefinitionId, expands the principal, and needs a permission', async () => {
    const u = tenant.addUser({ displayName: 'Eligible' });
    const g = tenant.addGroup({ displayName: 'PIM group', isAssignableToRole: true, members: [] });
    tenant.addRoleEligibility({ principalId: u.id!, roleName: 'Global Administrator' });
    tenant.addRoleEligibility({ principalId: g.id!, roleName: 'Global Administrator' });
    tenant.addRoleEligibility({ principalId: u.id!, roleName: 'Helpdesk Administrator' });
    const ga = ROLE_TEMPLATES['Global Administrator'];
    const path = `/roleManagement/directory/roleEligibilityScheduleInstances?$filter=${encodeURIComponent(`roleDefinitionId eq '${ga}'`)}&$expand=principal`;
    const ok = await graphFetch(path, await tokenFor(['RoleEligibilitySchedule.Read.Directory']));
    expect(ok.status).toBe(200);
    const value = ok.body!.value as {
      principalId: string;
      roleDefinitionId: string;
      principal: { '@odata.type': string };
    }[];
    expect(value.map((v) => [v.principalId, v.roleDefinitionId, v.principal['@odata.type']])).toEqual([
      [u.id, ga, '#microsoft.graph.user'],
      [g.id, ga, '#microsoft.graph.group'],
    ]);
    const denied = await graphFetch(path, await tokenFor(['Directory.Read.All']));
    expect(denied.status).toBe(403);
    expectGraphError(denied.body, 'Authorization_RequestDenied');
  });

  it('answers checkMemberGroups and transitiveMemberOf transitively (roles through groups too)', async () => {
    const u = tenant.addUser({ displayName: 'Nested' });
    const inner = tenant.addGroup({ displayName: 'Inner', isAssignableToRole: true, members: [u.id!] });
    const outer = tenant.addGroup({ displayName: 'Outer', members: [inner.id!] });
    const other = tenant.addGroup({ displayName: 'Other' });
    const role = tenant.addDirectoryRole({ displayName: 'Exchange Administrator', members: [inner.id!] });
    const token = await tokenFor(['GroupMember.Read.All']);
    const check = await graphFetch(`/users/${u.id!}/checkMemberGroups`, token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ groupIds: [outer.id, other.id] }),
    });
    expect(check.status).toBe(200);
    expect(check.body!.value).toEqual([outer.id]);
    const roles = await graphFetch(
      `/users/${u.id!}/transitiveMemberOf/microsoft.graph.directoryRole?$select=id,displayName,roleTemplateId`,
      token,
    );
    expect(roles.body!.value).toEqual([
      { id: role.id, displayName: 'Exchange Administrator', roleTemplateId: ROLE_TEMPLATES['Exchange Administrator'] },
    ]);
  });

  it('mints delegated user tokens (idtyp user, oid, upn, scp) that Graph accepts', async () => {
    const u = tenant.addUser({ userPrincipalName: 'operator@contoso.onmicrosoft.com' });
    const token = fake.mintUserToken(tenant.tenantId, app.clientId, u.id!);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({
      idtyp: 'user',
      oid: u.id,
      upn: 'operator@contoso.onmicrosoft.com',
      tid: tenant.tenantId,
    });
    expect(typeof claims.scp).toBe('string');
    expect((await graphFetch(`/users/${u.id!}?$select=id`, token)).status).toBe(200);
  });
});
