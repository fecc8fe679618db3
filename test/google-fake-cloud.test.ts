// Tests of the in-memory Google Cloud APIs themselves (IAM, Policy Analyzer, Resource Manager),
// driven by Google's own clients (@googleapis/iam, google-auth-library): paging, shapes field by
// field, error bodies as Google sends them, scopes, 404 against 403, undelete, per-project access.
import * as auth from 'google-auth-library';
import { beforeEach, describe, expect, it } from 'vitest';
import { googleStatus } from '../src/providers/google/google-errors.js';
import type { GoogleContext } from '../src/providers/google/google-context.js';
import { CloudState, cloudRoutes, type StoredServiceAccount } from '../src/providers/google/memory/cloud.js';
import type { GoogleMemory } from '../src/providers/google/memory/google-memory.js';
import { pacificDay } from '../src/providers/google/memory/policy-analyzer.js';
import { googleTestContext, testGoogleMemory, testServiceAccountKey } from './support/google.js';

const DAY = 86_400_000;
let now = new Date('2026-06-01T12:00:00Z');
let state: CloudState;
let memory: GoogleMemory;
let ctx: GoogleContext;
let app: StoredServiceAccount;

beforeEach(() => {
  now = new Date('2026-06-01T12:00:00Z');
  state = new CloudState(() => now);
  const org = state.addOrganization('100000000001');
  state.addProject('p1', { projectNumber: '111111111111', parent: org });
  app = state.addServiceAccount('p1', { accountId: 'app', displayName: 'App', description: 'runs the app' });
  memory = testGoogleMemory({ clock: () => now, routes: cloudRoutes(state), isAdmin: () => false });
  ctx = googleTestContext(memory, { clock: () => now });
});

const iam = () => ctx.apis.iam().projects.serviceAccounts;
const pa = (type: string, params: Record<string, string | number | undefined> = {}, project = 'p1') =>
  ctx.apis.cloudRequest(
    'policyAnalyzer',
    `/v1/projects/${project}/locations/global/activityTypes/${type}/activities:query`,
    {
      params,
    },
  ) as Promise<{ activities?: Record<string, unknown>[]; nextPageToken?: string }>;

/** The status and Google's error body of a call that must fail. */
async function refused(call: Promise<unknown>): Promise<{ status: number | null; error: Record<string, unknown> }> {
  try {
    await call;
  } catch (err) {
    const data = (err as { response?: { data?: { error?: Record<string, unknown> } } }).response?.data;
    return { status: googleStatus(err), error: data?.error ?? {} };
  }
  throw new Error('expected the call to be refused');
}

describe('IAM service accounts', () => {
  it('answers a ServiceAccount field by field, leaving out false and empty fields as proto3 JSON does', async () => {
    const plain = state.addServiceAccount('p1', { accountId: 'plain' });
    const { data } = await iam().get({ name: `projects/p1/serviceAccounts/${app.email}` });
    expect(data).toEqual({
      name: `projects/p1/serviceAccounts/app@p1.iam.gserviceaccount.com`,
      projectId: 'p1',
      uniqueId: app.uniqueId,
      email: 'app@p1.iam.gserviceaccount.com',
      displayName: 'App',
      description: 'runs the app',
      etag: app.etag,
      oauth2ClientId: app.uniqueId,
    });
    expect(app.uniqueId).toMatch(/^1\d{20}$/);
    const byId = await iam().get({ name: `projects/-/serviceAccounts/${plain.uniqueId}` });
    expect(byId.data).not.toHaveProperty('disabled');
    expect(byId.data).not.toHaveProperty('displayName');
  });

  it('pages 20 by default and 100 at most, and refuses a token it did not make', async () => {
    for (let i = 0; i < 129; i++) state.addServiceAccount('p1', { accountId: `sa-${String(i).padStart(3, '0')}` });
    const pages = async (pageSize?: number) => {
      const sizes: number[] = [];
      let pageToken: string | undefined;
      do {
        const { data } = await iam().list({ name: 'projects/p1', pageSize, pageToken });
        sizes.push(data.accounts?.length ?? 0);
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken);
      return sizes;
    };
    expect(await pages()).toEqual([20, 20, 20, 20, 20, 20, 10]);
    expect(await pages(100)).toEqual([100, 30]);
    expect(await pages(500)).toEqual([100, 30]);
    const bad = await refused(iam().list({ name: 'projects/p1', pageToken: 'bm90LWEtdG9rZW4' }));
    expect(bad).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });

  it('says 404 for an unknown account and 403 for a project that is not there or not readable', async () => {
    expect(await refused(iam().get({ name: 'projects/p1/serviceAccounts/ghost@p1.iam.gserviceaccount.com' }))).toEqual({
      status: 404,
      error: { code: 404, message: 'Unknown service account', status: 'NOT_FOUND' },
    });
    // Under the `-` wildcard IAM answers 403 for an account that does not exist (its reference says so).
    expect(await refused(iam().get({ name: 'projects/-/serviceAccounts/123456789012345678901' }))).toMatchObject({
      status: 403,
    });
    const missing = await refused(iam().list({ name: 'projects/nope' }));
    expect(missing.status).toBe(403);
    expect(missing.error).toMatchObject({
      status: 'PERMISSION_DENIED',
      message:
        "Permission 'iam.serviceAccounts.list' denied on resource '//iam.googleapis.com/projects/nope' (or it may not exist).",
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'IAM_PERMISSION_DENIED',
          metadata: { permission: 'iam.serviceAccounts.list' },
        },
      ],
    });
    state.revoke('p1', 'roles/iam.*');
    expect(await refused(iam().get({ name: `projects/-/serviceAccounts/${app.uniqueId}` }))).toMatchObject({
      status: 403,
    });
  });

  it("answers SERVICE_DISABLED, in Google's own shape, on a project without the IAM API", async () => {
    state.disableApi('p1', 'iam.googleapis.com');
    const { status, error } = await refused(iam().list({ name: 'projects/p1' }));
    expect(status).toBe(403);
    expect(error.status).toBe('PERMISSION_DENIED');
    expect(error.message).toMatch(
      /^Identity and Access Management \(IAM\) API has not been used in project 111111111111 before or it is disabled\. Enable it by visiting https:\/\/console\.developers\.google\.com\/apis\/api\/iam\.googleapis\.com\/overview\?project=111111111111 then retry\./,
    );
    expect((error.details as unknown[])[0]).toMatchObject({
      reason: 'SERVICE_DISABLED',
      domain: 'googleapis.com',
      metadata: { service: 'iam.googleapis.com', consumer: 'projects/111111111111' },
    });
  });

  it('disables, enables, deletes and undeletes by unique id within 30 days only', async () => {
    const name = `projects/p1/serviceAccounts/${app.uniqueId}`;
    const before = app.etag;
    expect((await iam().disable({ name, requestBody: {} })).data).toEqual({});
    expect((await iam().get({ name })).data).toMatchObject({ disabled: true });
    expect(app.etag).not.toBe(before);
    await iam().enable({ name, requestBody: {} });
    expect((await iam().get({ name })).data).not.toHaveProperty('disabled');
    expect(await refused(iam().undelete({ name, requestBody: {} }))).toMatchObject({
      status: 400,
      error: { status: 'FAILED_PRECONDITION' },
    });

    await iam().delete({ name });
    expect(await refused(iam().get({ name }))).toMatchObject({ status: 404 });
    expect(await refused(iam().get({ name: `projects/-/serviceAccounts/${app.uniqueId}` }))).toMatchObject({
      status: 403,
    });
    expect((await iam().list({ name: 'projects/p1' })).data).toEqual({});
    expect(await refused(iam().delete({ name }))).toMatchObject({ status: 404 });
    const byEmail = await refused(iam().undelete({ name: `projects/-/serviceAccounts/${app.email}`, requestBody: {} }));
    expect(byEmail).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
    const { data } = await iam().undelete({ name, requestBody: {} });
    expect(data.restoredAccount).toMatchObject({ uniqueId: app.uniqueId, email: app.email });
    expect((await iam().get({ name })).data.email).toBe(app.email);

    await iam().delete({ name });
    now = new Date(now.getTime() + 30 * DAY);
    expect(await refused(iam().undelete({ name, requestBody: {} }))).toMatchObject({
      status: 404,
      error: { status: 'NOT_FOUND' },
    });
  });
});

describe('IAM keys', () => {
  it('lists by key type without paging, metadata only, and never a private key', async () => {
    const created = new Date('2025-01-02T03:04:05Z');
    for (let i = 0; i < 10; i++) state.addKey(app.email, { createdAt: new Date(created.getTime() + i * DAY) });
    const system = state.addKey(app.email, { createdAt: now, keyType: 'SYSTEM_MANAGED' });
    const name = `projects/p1/serviceAccounts/${app.email}`;
    const user = (await iam().keys.list({ name, keyTypes: ['USER_MANAGED'] })).data;
    expect(user.keys).toHaveLength(10);
    expect(user).not.toHaveProperty('nextPageToken');
    expect(user.keys![0]).toEqual({
      name: expect.stringMatching(
        /^projects\/p1\/serviceAccounts\/app@p1\.iam\.gserviceaccount\.com\/keys\/[0-9a-f]{40}$/,
      ),
      validAfterTime: '2025-01-02T03:04:05Z',
      validBeforeTime: '9999-12-31T23:59:59Z',
      keyAlgorithm: 'KEY_ALG_RSA_2048',
      keyOrigin: 'GOOGLE_PROVIDED',
      keyType: 'USER_MANAGED',
    });
    const all = (await iam().keys.list({ name })).data.keys!;
    expect(all.map((k) => k.keyType)).toContain('SYSTEM_MANAGED');
    expect(JSON.stringify(all)).not.toMatch(/privateKeyData|PRIVATE KEY/);
    expect(await refused(iam().keys.list({ name, keyTypes: ['GOOGLE'] }))).toMatchObject({ status: 400 });
    const sysName = `${name}/keys/${system.keyId}`;
    expect(await refused(iam().keys.disable({ name: sysName, requestBody: {} }))).toMatchObject({
      status: 400,
      error: { status: 'FAILED_PRECONDITION' },
    });
    expect(await refused(iam().keys.delete({ name: sysName }))).toMatchObject({ status: 400 });
  });

  it('disables, enables and deletes one key; a deleted key is 404', async () => {
    const key = state.addKey(app.email, { createdAt: '2025-01-01T00:00:00Z' });
    const name = `projects/-/serviceAccounts/${app.uniqueId}/keys/${key.keyId}`;
    await iam().keys.disable({ name, requestBody: {} });
    expect((await iam().keys.get({ name })).data).toMatchObject({ disabled: true });
    await iam().keys.enable({ name, requestBody: {} });
    expect((await iam().keys.get({ name })).data).not.toHaveProperty('disabled');
    await iam().keys.delete({ name });
    expect(await refused(iam().keys.get({ name }))).toMatchObject({ status: 404, error: { status: 'NOT_FOUND' } });
    expect(await refused(iam().keys.delete({ name }))).toMatchObject({ status: 404 });
  });
});

describe('Policy Analyzer activities:query', () => {
  it('answers both activity types in the documented shape, by Pacific day', async () => {
    const key = state.addKey(app.email, { createdAt: '2025-01-01T00:00:00Z' });
    state.recordAuthentication(app.email, '2026-05-30T03:00:00Z', key.keyId);
    const observationPeriod = { startTime: '2024-01-01T08:00:00Z', endTime: pacificDay(now) };
    const account = `//iam.googleapis.com/projects/p1/serviceAccounts/${app.email}`;
    expect(await pa('serviceAccountLastAuthentication')).toEqual({
      activities: [
        {
          fullResourceName: account,
          activityType: 'serviceAccountLastAuthentication',
          observationPeriod,
          activity: {
            // 03:00 UTC on the 30th is still the 29th in California.
            lastAuthenticatedTime: '2026-05-29T08:00:00Z',
            serviceAccount: {
              fullResourceName: account,
              projectNumber: '111111111111',
              serviceAccountId: app.uniqueId,
            },
          },
        },
      ],
    });
    const keys = await pa('serviceAccountKeyLastAuthentication');
    expect(keys.activities![0]).toMatchObject({
      fullResourceName: `${account}/keys/${key.keyId}`,
      activity: {
        serviceAccountKey: { fullResourceName: `${account}/keys/${key.keyId}`, serviceAccountId: app.uniqueId },
      },
    });
  });

  it('filters by one full resource name, and refuses OR and a bad filter', async () => {
    const other = state.addServiceAccount('p1', { accountId: 'other' });
    const third = state.addServiceAccount('p1', { accountId: 'third' });
    for (const sa of [app, other, third]) state.recordAuthentication(sa.email, '2026-05-01T12:00:00Z');
    const nameOf = (sa: StoredServiceAccount) => `//iam.googleapis.com/projects/p1/serviceAccounts/${sa.email}`;
    const one = await pa('serviceAccountLastAuthentication', {
      filter: `activities.full_resource_name = "${nameOf(other)}"`,
    });
    expect(one.activities!.map((a) => a.fullResourceName)).toEqual([nameOf(other)]);
    const camel = await pa('serviceAccountLastAuthentication', {
      filter: `activities.fullResourceName="${nameOf(third)}"`,
    });
    expect(camel.activities!.map((a) => a.fullResourceName)).toEqual([nameOf(third)]);
    // The reference documents one name per filter: OR is refused.
    expect(
      await refused(
        pa('serviceAccountLastAuthentication', {
          filter: `activities.fullResourceName="${nameOf(app)}" OR activities.full_resource_name="${nameOf(third)}"`,
        }),
      ),
    ).toMatchObject({ status: 400 });
    expect(await refused(pa('serviceAccountLastAuthentication', { filter: 'name = x' }))).toMatchObject({
      status: 400,
    });
    expect(await refused(pa('somethingElse'))).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
  });

  it('may answer short pages and empty pages that still carry a nextPageToken', async () => {
    for (let i = 0; i < 5; i++) state.recordAuthentication(state.addServiceAccount('p1').email, '2026-05-01T12:00:00Z');
    state.paging = { maxPerPage: 2, emptyFirstPage: true, trailingEmptyPage: true };
    const sizes: number[] = [];
    let pageToken: string | undefined;
    do {
      const page = await pa('serviceAccountLastAuthentication', { pageSize: 1000, pageToken });
      sizes.push(page.activities?.length ?? 0);
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(sizes).toEqual([0, 2, 2, 1, 0]);
  });

  it('leaves out what it has not processed yet (the lag)', async () => {
    state.lagDays = 2;
    state.recordAuthentication(app.email, new Date(now.getTime() - DAY));
    expect(await pa('serviceAccountLastAuthentication')).toEqual({});
  });

  it("answers Google's SERVICE_DISABLED when the API is off, and 403 without the viewer role", async () => {
    state.disableApi('p1', 'policyanalyzer.googleapis.com');
    const off = await refused(pa('serviceAccountLastAuthentication'));
    expect(off.status).toBe(403);
    expect(off.error.message).toMatch(
      /^Policy Analyzer API has not been used in project 111111111111 before or it is disabled/,
    );
    expect((off.error.details as { reason?: string }[]).map((d) => d.reason)).toContain('SERVICE_DISABLED');
    state.enableApi('p1', 'policyanalyzer.googleapis.com');
    state.revoke('p1', 'roles/policyanalyzer.activityAnalysisViewer');
    const denied = await refused(pa('serviceAccountKeyLastAuthentication'));
    expect(denied).toMatchObject({ status: 403, error: { status: 'PERMISSION_DENIED' } });
    expect(denied.error.message).toContain('policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query');
    expect(await refused(pa('serviceAccountLastAuthentication', {}, 'unknown-project'))).toMatchObject({ status: 403 });
  });
});

describe('Resource Manager v3', () => {
  const rm = <T>(path: string, params: Record<string, string | number | undefined> = {}) =>
    ctx.apis.cloudRequest('resourceManager', path, { params }) as Promise<T>;
  type Projects = { projects?: { projectId: string; state: string }[]; nextPageToken?: string };

  it('gets a project, and answers the same 403 for one that does not exist and one it may not see', async () => {
    expect(await rm('/v3/projects/p1')).toEqual({
      name: 'projects/111111111111',
      parent: 'organizations/100000000001',
      projectId: 'p1',
      state: 'ACTIVE',
      displayName: 'p1',
      createTime: '2026-06-01T12:00:00Z',
      updateTime: '2026-06-01T12:00:00Z',
      etag: expect.any(String),
    });
    const missing = await refused(rm('/v3/projects/nope'));
    state.addProject('hidden');
    state.revoke('hidden', 'roles/*');
    const hidden = await refused(rm('/v3/projects/hidden'));
    expect(missing).toMatchObject({ status: 403, error: { status: 'PERMISSION_DENIED' } });
    expect(hidden.status).toBe(403);
    expect(hidden.error.message).toBe(
      "Permission 'resourcemanager.projects.get' denied on resource '//cloudresourcemanager.googleapis.com/projects/hidden' (or it may not exist).",
    );
  });

  it('lists projects and folders by parent (active only unless showDeleted), paged, and searches by parent', async () => {
    const folder = state.addFolder('organizations/100000000001', { id: '200000000001' });
    const inner = state.addFolder(folder, { id: '200000000002' });
    for (let i = 0; i < 3; i++) state.addProject(`f-${i}`, { parent: folder });
    state.addProject('f-going', { parent: folder, state: 'DELETE_REQUESTED' });
    state.addProject('inner-1', { parent: inner });
    const first = await rm<Projects>('/v3/projects', { parent: folder, pageSize: 2 });
    expect(first.projects!.map((p) => p.projectId)).toEqual(['f-0', 'f-1']);
    const second = await rm<Projects>('/v3/projects', { parent: folder, pageSize: 2, pageToken: first.nextPageToken });
    expect(second).toEqual({ projects: [expect.objectContaining({ projectId: 'f-2' })] });
    const withDeleted = await rm<Projects>('/v3/projects', { parent: folder, showDeleted: 'true' });
    expect(withDeleted.projects!.map((p) => p.state)).toContain('DELETE_REQUESTED');
    expect(await rm('/v3/folders', { parent: folder })).toEqual({
      folders: [expect.objectContaining({ name: inner, parent: folder, state: 'ACTIVE' })],
    });
    const found = await rm<Projects>('/v3/projects:search', { query: `parent:${folder} state:ACTIVE` });
    expect(found.projects!.map((p) => p.projectId)).toEqual(['f-0', 'f-1', 'f-2']);
    expect(await refused(rm('/v3/projects'))).toMatchObject({ status: 400, error: { status: 'INVALID_ARGUMENT' } });
    state.revoke(folder, 'roles/browser');
    expect(await refused(rm('/v3/folders', { parent: folder }))).toMatchObject({ status: 403 });
    expect(await refused(rm('/v3/projects', { parent: 'folders/999' }))).toMatchObject({ status: 403 });
  });
});

describe('tokens and scopes', () => {
  const client = (scopes: string[]) => {
    const { key } = testServiceAccountKey();
    return new auth.JWT({
      email: key.client_email,
      key: key.private_key,
      scopes,
      transporterOptions: { fetchImplementation: memory.fetch as never, retry: false },
    });
  };

  it('needs a bearer token with the cloud-platform scope; read-only is enough for Resource Manager only', async () => {
    const none = await memory.fetch('https://iam.googleapis.com/v1/projects/p1/serviceAccounts');
    expect(none.status).toBe(401);
    const directory = client(['https://www.googleapis.com/auth/admin.directory.user.readonly']);
    const wrong = await refused(
      directory.request({ url: 'https://iam.googleapis.com/v1/projects/p1/serviceAccounts' }),
    );
    expect(wrong).toMatchObject({ status: 403, error: { message: 'Request had insufficient authentication scopes.' } });
    const readOnly = client(['https://www.googleapis.com/auth/cloud-platform.read-only']);
    const project = await readOnly.request({ url: 'https://cloudresourcemanager.googleapis.com/v3/projects/p1' });
    expect(project.status).toBe(200);
    const list = await refused(readOnly.request({ url: 'https://iam.googleapis.com/v1/projects/p1/serviceAccounts' }));
    expect(list.status).toBe(403);
    expect(memory.count('iam.serviceAccounts.list')).toBe(3);
  });
});
