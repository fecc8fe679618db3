// The Google provider's shared core on the in-memory APIs: the token endpoint's checks of the
// JWT assertion (signature, audience, scopes, delegation), bearer and scope checks per call,
// Workspace admin rights, retries of rate-limit answers, and the one-line error of each refusal.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readKeyFile, SCOPES } from '../src/providers/google/google-auth.js';
import { googleFailure } from '../src/providers/google/google-errors.js';
import { routeOf } from '../src/providers/google/google-http.js';
import type { FakeRoute } from '../src/providers/google/memory/fake-types.js';
import { googleTestContext, testGoogleMemory, testServiceAccountKey, TEST_SA_CLIENT_ID } from './support/google.js';

const ping: FakeRoute[] = [
  {
    method: 'GET',
    pattern: /^\/admin\/directory\/v1\/users$/,
    scopes: [...SCOPES.workspaceRead, ...SCOPES.workspaceWrite],
    delegated: true,
    name: 'directory.users.list',
    handle: (req) => ({
      status: 200,
      body: { kind: 'admin#directory#users', users: [], etag: '"e"', who: req.principal.subject },
    }),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/projects\/([^/]+)\/serviceAccounts$/,
    scopes: SCOPES.cloud,
    name: 'iam.serviceAccounts.list',
    handle: (req) => ({ status: 200, body: { accounts: [], who: req.principal.serviceAccount } }),
  },
];

function world(admins = ['admin@example.com']) {
  const memory = testGoogleMemory({ routes: ping, isAdmin: (e) => admins.includes(e), userExists: () => true });
  return memory;
}

describe('Google token endpoint and front door (in-memory)', () => {
  it('issues a token for a delegated, signed assertion and the call carries it', async () => {
    const memory = world();
    memory.delegate(TEST_SA_CLIENT_ID, [...SCOPES.workspaceRead, ...SCOPES.workspaceWrite, ...SCOPES.reports]);
    const ctx = googleTestContext(memory);
    const res = await ctx.apis.directory('read').users.list({ customer: 'my_customer' });
    expect((res.data as { who?: string }).who).toBe('admin@example.com');
    expect(memory.tokenRequests).toBe(1);
    // The token is cached: a second call asks for no new one.
    await ctx.apis.directory('read').users.list({ customer: 'my_customer' });
    expect(memory.tokenRequests).toBe(1);
    expect(ctx.counter.total).toBe(3);
  });

  it('refuses delegation that was not granted: unauthorized_client, one line naming the fix', async () => {
    const memory = world();
    memory.delegate(TEST_SA_CLIENT_ID, SCOPES.reports);
    const ctx = googleTestContext(memory);
    const err = await ctx.apis
      .directory('read')
      .users.list({ customer: 'my_customer' })
      .catch((e: unknown) => e);
    const failure = googleFailure(err, {
      what: 'listing Workspace users',
      fix: 'scan again',
      subject: 'admin@example.com',
    });
    expect(failure.exitCode).toBe(3);
    expect(failure.message).toMatch(/unauthorized_client.*domain-wide delegation is not granted/);
    expect(failure.message).not.toMatch(/\n/);
    expect(memory.count()).toBe(0);
  });

  it("refuses a subject without admin rights with Google's 403 Not Authorized", async () => {
    const memory = world([]);
    memory.delegate(TEST_SA_CLIENT_ID, [...SCOPES.workspaceRead]);
    const ctx = googleTestContext(memory);
    const err = await ctx.apis
      .directory('read')
      .users.list({ customer: 'my_customer' })
      .catch((e: unknown) => e);
    const failure = googleFailure(err, {
      what: 'listing Workspace users',
      fix: 'scan again',
      subject: 'admin@example.com',
    });
    expect(failure.message).toMatch(/admin@example.com is not an admin allowed to use this API \(403 Not Authorized/);
  });

  it('refuses an assertion signed by another key (invalid_grant)', async () => {
    const memory = world();
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    memory.registerServiceAccount(testServiceAccountKey().key.client_email, other.publicKey, TEST_SA_CLIENT_ID);
    const ctx = googleTestContext(memory);
    const err = await ctx.apis
      .iam()
      .projects.serviceAccounts.list({ name: 'projects/p1' })
      .catch((e: unknown) => e);
    expect(googleFailure(err, { what: 'listing service accounts', fix: 'scan again' }).message).toMatch(
      /invalid_grant: .*Invalid JWT Signature/,
    );
  });

  it("checks scopes per call: a token without the route's scope gets 403", async () => {
    const memory = testGoogleMemory({
      routes: [{ ...ping[1]!, scopes: ['https://www.googleapis.com/auth/iam'] }],
      isAdmin: () => false,
    });
    const ctx = googleTestContext(memory);
    const err = await ctx.apis
      .iam()
      .projects.serviceAccounts.list({ name: 'projects/p1' })
      .catch((e: unknown) => e);
    expect(googleFailure(err, { what: 'listing service accounts', fix: 'scan again' }).message).toMatch(
      /403 insufficientPermissions/,
    );
  });

  it('retries 403 rateLimitExceeded and 429 with backoff, then succeeds', async () => {
    const memory = world();
    memory.fault('iam.serviceAccounts.list', { status: 403, reason: 'rateLimitExceeded', times: 3 });
    memory.fault('iam.serviceAccounts.list', { status: 429, times: 1, retryAfter: 0 });
    const ctx = googleTestContext(memory);
    const res = await ctx.apis.iam().projects.serviceAccounts.list({ name: 'projects/p1' });
    expect(res.status).toBe(200);
    expect(memory.count('iam.serviceAccounts.list')).toBe(5);
    expect(ctx.counter.retryCount).toBe(4);
  });

  it('gives up after maxAttempts with one line (exit 3)', async () => {
    const memory = world();
    memory.fault('iam.serviceAccounts.list', { status: 403, reason: 'rateLimitExceeded', times: 50 });
    const ctx = googleTestContext(memory, { google: { maxAttempts: 3 } });
    const err = await ctx.apis
      .iam()
      .projects.serviceAccounts.list({ name: 'projects/p1' })
      .catch((e: unknown) => e);
    expect(memory.count('iam.serviceAccounts.list')).toBe(3);
    const failure = googleFailure(err, { what: 'listing service accounts of p1', fix: 'scan again' });
    expect(failure.exitCode).toBe(3);
    expect(failure.message).toMatch(/403 rateLimitExceeded/);
  });

  it('does not retry a real 403 refusal', async () => {
    const memory = world();
    memory.fault('iam.serviceAccounts.list', {
      status: 403,
      reason: 'forbidden',
      message: 'Permission denied',
      times: 5,
    });
    const ctx = googleTestContext(memory);
    await ctx.apis
      .iam()
      .projects.serviceAccounts.list({ name: 'projects/p1' })
      .catch(() => null);
    expect(memory.count('iam.serviceAccounts.list')).toBe(1);
  });

  it('names routes without ids for counting', () => {
    expect(
      routeOf(
        new URL(
          'https://iam.googleapis.com/v1/projects/p1/serviceAccounts/sa@p1.iam.gserviceaccount.com/keys/abc:disable',
        ),
      ),
    ).toBe('v1/projects/{id}/serviceAccounts/{id}/keys/{id}:disable');
  });
});

describe('google.credentialsFile checks (exit 2, one line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dormant-gkey-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  it.each([
    ['not JSON', 'hello', /is not JSON/],
    [
      'an authorized_user file',
      JSON.stringify({ type: 'authorized_user', client_id: 'x', refresh_token: 'y' }),
      /is an 'authorized_user' credential, not a service account key/,
    ],
    ['no private key', JSON.stringify({ type: 'service_account', client_email: 'a@b' }), /has no "private_key"/],
    [
      'a broken private key',
      JSON.stringify({ type: 'service_account', client_email: 'a@b', private_key: 'nope' }),
      /not a PEM private key/,
    ],
  ])('%s', (_name, text, pattern) => {
    const file = write(`${_name.replace(/\W+/g, '-')}.json`, text);
    let caught: unknown;
    try {
      readKeyFile(file);
    } catch (err) {
      caught = err;
    }
    expect((caught as { exitCode: number }).exitCode).toBe(2);
    expect((caught as Error).message).toMatch(pattern);
    expect((caught as Error).message).not.toMatch(/BEGIN|nope|refresh_token/);
  });
  it('a missing file', () => {
    expect(() => readKeyFile(join(dir, 'absent.json'))).toThrow(/does not exist/);
  });
});
