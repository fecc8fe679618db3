// The CLI with `--provider google` when something is wrong (the built CLI: run `npx tsc -p
// tsconfig.build.json` first): a bad key file, a subject that is not an admin, delegation not
// granted, a project that does not exist, Policy Analyzer off, throttling storms, and a key
// deleted between plan and apply. Each failure is one line on stderr with the documented exit
// code (2 usage/config, 3 cloud) and leaves nothing in the store.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { history } from '../src/engine/history.js';
import { describeRun, type CliExit, type Workspace } from './support/cli.js';
import {
  ADMIN,
  addServiceAccount,
  addUser,
  googleConfigYaml,
  googleSection,
  runGoogle,
  sqliteWorkspace,
  startGoogleCli,
  stderrLines,
  type GoogleCliHarness,
  type GoogleCliOptions,
  type HistoryJson,
  type PlanJson,
  type ScanJson,
} from './support/googleCli.js';
import { withStore } from './support/stores.js';
import { TEST_SA_CLIENT_ID, TEST_SA_EMAIL } from './support/google.js';

const started: GoogleCliHarness[] = [];
afterEach(async () => {
  while (started.length > 0) await started.pop()!.stop();
});

async function harness(options: GoogleCliOptions = {}): Promise<GoogleCliHarness> {
  const h = await startGoogleCli(options);
  started.push(h);
  return h;
}

const json = <T>(r: CliExit): T => JSON.parse(r.stdout) as T;
const CUSTOMER = 'C03az79cb';
const KEY_FIX =
  'download a service account key (JSON) from IAM → Service accounts → Keys, or set google.credentialsFile to null to use Application Default Credentials';

/** `plan` fails with exactly these stderr lines (one error line, after any warnings) and code, and the store holds no scan, plan or event. */
async function expectPlanRefused(
  ws: Workspace,
  code: number,
  lines: string | string[],
  flags: string[] = [],
): Promise<void> {
  const r = await runGoogle(ws, ['plan', '--format', 'json', ...flags]);
  expect(r.code, describeRun(r)).toBe(code);
  expect(stderrLines(r)).toEqual(Array.isArray(lines) ? lines : [lines]);
  expect(r.stdout).toBe('');
  const hist = await runGoogle(ws, ['history', '--format', 'json']);
  expect(hist.code, describeRun(hist)).toBe(0);
  expect(json<HistoryJson>(hist)).toEqual({ plans: [], events: [] });
  if (existsSync(ws.db)) {
    expect(await withStore(ws, (s) => s.db.selectFrom('scans').select('id').execute())).toEqual([]);
  }
}

describe('a bad key file: exit 2, one line, no call to Google', () => {
  it('no key file and no Application Default Credentials: exit 3, one line naming both ways to fix it', async () => {
    const h = await harness();
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, [], { credentialsFile: null })));
    // No gcloud configuration either (ADC also looks in $CLOUDSDK_CONFIG, default ~/.config/gcloud).
    const r = await runGoogle(ws, ['scan', '--format', 'json'], { CLOUDSDK_CONFIG: join(h.dir, 'no-gcloud') });
    expect(r.code, describeRun(r)).toBe(3);
    // One line: google-auth-library's metadata-server probe warning is not printed beside it.
    expect(stderrLines(r)).toEqual([
      'dormant: no Google credentials while listing Workspace users: set google.credentialsFile to a service account key, or provide Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, or a metadata server), then scan again',
    ]);
    expect(h.tenant.memory.count()).toBe(0);
  });

  it('a key file that is not JSON', async () => {
    const h = await harness();
    const file = join(h.dir, 'not-json.json');
    writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nnot a key file\n');
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, [], { credentialsFile: file })));
    const line = `dormant: google.credentialsFile ${file} is not JSON; ${KEY_FIX}`;
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)).toEqual([line]);
    expect(r.stdout).toBe('');
    await expectPlanRefused(ws, 2, line);
    expect(h.tenant.memory.tokenRequests).toBe(0);
    expect(h.tenant.memory.count()).toBe(0);
  });

  it('an authorized_user file (gcloud application-default login) instead of a service account key', async () => {
    const h = await harness();
    const file = join(h.dir, 'adc.json');
    const secret = 'd-FL95Q19q7MQmFpd7hHD0Ty';
    const refresh = '1//0gRefreshTokenThatMustNeverBePrinted';
    writeFileSync(
      file,
      JSON.stringify({
        client_id: '764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com',
        client_secret: secret,
        refresh_token: refresh,
        type: 'authorized_user',
      }),
    );
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, [], { credentialsFile: file })));
    const line = `dormant: google.credentialsFile ${file} is an 'authorized_user' credential, not a service account key ("type": "service_account"); ${KEY_FIX}`;
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(2);
    expect(stderrLines(r)).toEqual([line]);
    expect(r.stderr + r.stdout).not.toContain(secret);
    expect(r.stderr + r.stdout).not.toContain(refresh);
    await expectPlanRefused(ws, 2, line);
    expect(h.tenant.memory.tokenRequests).toBe(0);
  });
});

describe('Workspace refusals: exit 3, one line', () => {
  it('a subject that is not an admin: 403 Not Authorized to access this resource/api', async () => {
    const h = await harness();
    addUser(h.tenant, 'plain', { lastLoginDaysAgo: 1 });
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, [], { subject: 'plain@example.com' })));
    const line =
      'dormant: Google refused listing Workspace users: plain@example.com is not an admin allowed to use this API (403 Not Authorized to access this resource/api); set google.subject to a super admin or an admin whose role grants it, then scan again';
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(stderrLines(r)).toEqual([line]);
    // A refusal is not throttling: asked once, not retried.
    expect(h.tenant.memory.count('directory.users.list')).toBe(1);
    await expectPlanRefused(ws, 3, line);
  });

  it('domain-wide delegation not granted: unauthorized_client at the token endpoint', async () => {
    const h = await harness({ delegate: false });
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, [])));
    const line = `dormant: Google refused a token for ${TEST_SA_EMAIL} acting as ${ADMIN} (unauthorized_client) while listing Workspace users: domain-wide delegation is not granted for client id ${TEST_SA_CLIENT_ID} and these scopes; add them in the Admin console (Security → API controls → Domain-wide delegation; see \`dormant permissions --provider google\`), then scan again`;
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(stderrLines(r)).toEqual([line]);
    expect(h.tenant.memory.tokenRequests).toBeGreaterThan(0);
    expect(h.tenant.memory.count()).toBe(0);
    await expectPlanRefused(ws, 3, line);
  });
});

describe('Cloud projects that cannot be read', () => {
  const ghostReason =
    "Google refused listing the service accounts and keys of project ghost (403 IAM_PERMISSION_DENIED: Permission 'iam.serviceAccounts.list' denied on resource '//iam.googleapis.com/projects/ghost' (or it may not exist).); grant the roles `dormant permissions --provider google` lists, then scan again";

  it('a project that does not exist, with others: listed as a failure, exit 3; accepted with --allow-partial', async () => {
    const h = await harness({ projects: ['p-a', 'p-c'] });
    addServiceAccount(h.tenant, 'p-a', 'a-old', { keys: [{ createdDaysAgo: 400 }] });
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, ['p-a', 'ghost', 'p-c'])));
    const line = `dormant: 1 account(s) could not be read (google ghost: ${ghostReason}); fix access, or pass --allow-partial to accept a partial result`;
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(stderrLines(r)).toEqual([line]);
    expect(json<ScanJson>(r)).toMatchObject({
      accounts: [CUSTOMER, 'p-a', 'p-c'],
      failures: [{ provider: 'google', account: 'ghost', reason: ghostReason }],
    });
    await expectPlanRefused(ws, 3, line);
    const ok = await runGoogle(ws, ['scan', '--format', 'json', '--allow-partial']);
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(stderrLines(ok)).toEqual([`dormant: warning: partial scan: google ghost could not be read: ${ghostReason}`]);
  });

  it('the only project does not exist: --allow-partial scans nothing, and plan refuses the empty inventory (exit 4)', async () => {
    const h = await harness();
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, ['ghost'], { workspace: { enabled: false } })));
    const r = await runGoogle(ws, ['scan', '--format', 'json', '--allow-partial']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(stderrLines(r)).toEqual([`dormant: warning: partial scan: google ghost could not be read: ${ghostReason}`]);
    const doc = json<ScanJson>(r);
    expect(doc).toMatchObject({ accounts: [], identities: [], findings: [] });
    expect(doc.failures).toEqual([{ provider: 'google', account: 'ghost', reason: ghostReason }]);
    // The partial result is accepted (a warning), and then the empty-inventory guard refuses it.
    await expectPlanRefused(
      ws,
      4,
      [
        `dormant: warning: partial scan: google ghost could not be read: ${ghostReason}`,
        'dormant: refusing to plan from an empty inventory: a scan that sees no users is more likely broken than right; check the source and credentials',
      ],
      ['--allow-partial'],
    );
  });

  it('Policy Analyzer off in one project: exit 0, one warning naming the fix, its keys get no verdict', async () => {
    const h = await harness({ projects: ['p-a', 'p-b'] });
    const a = addServiceAccount(h.tenant, 'p-a', 'a-old', { usedDaysAgo: 1, keys: [{ createdDaysAgo: 400 }] });
    const b = addServiceAccount(h.tenant, 'p-b', 'b-old', { keys: [{ createdDaysAgo: 400 }] });
    h.tenant.cloud.disableApi('p-b', 'policyanalyzer.googleapis.com');
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, ['p-a', 'p-b'])));
    const warning =
      'Google Cloud: the Policy Analyzer API is not enabled in project p-b: the last use of their service accounts and keys is unknown, so none of them is called unused; enable policyanalyzer.googleapis.com (gcloud services enable policyanalyzer.googleapis.com --project PROJECT_ID), then scan again';
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(stderrLines(r)).toEqual([`dormant: warning: ${warning}`]);
    const doc = json<ScanJson>(r);
    expect(doc.warnings).toEqual([warning]);
    expect(doc.failures).toBeUndefined();
    expect(doc.accounts).toEqual([CUSTOMER, 'p-a', 'p-b']);
    const bId = doc.identities.find((i) => i.name === b.sa.email)!;
    expect(bId.credentials).toEqual([expect.objectContaining({ id: b.keys[0]!.keyId, lastUse: 'unknown' })]);
    expect(doc.findings.filter((f) => f.account === 'p-b')).toEqual([]);
    expect(doc.findings.map((f) => [f.ruleId, f.credentialId])).toEqual([['DORMANT-GCP-001', a.keys[0]!.keyId]]);
  });
});

describe('throttling', () => {
  it('a few rateLimitExceeded and 429 answers are retried, and the scan succeeds', async () => {
    const h = await harness({ projects: ['p-a'] });
    const stale = addUser(h.tenant, 'stale', { lastLoginDaysAgo: 200 });
    h.tenant.memory.fault('directory.users.list', { status: 403, reason: 'rateLimitExceeded', times: 2 });
    h.tenant.memory.fault('iam.serviceAccounts.list', { status: 429, times: 2 });
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, ['p-a'])));
    const r = await runGoogle(ws, ['scan', '--format', 'json', '--verbose']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(json<ScanJson>(r).findings.map((f) => f.identityName)).toEqual([stale.email]);
    const m = h.tenant.memory;
    expect(m.calls.filter((c) => c.name === 'directory.users.list').map((c) => c.status)).toEqual([403, 403, 200]);
    expect(m.calls.filter((c) => c.name === 'iam.serviceAccounts.list').map((c) => c.status)).toEqual([429, 429, 200]);
    expect(stderrLines(r).filter((l) => l.includes('google calls:'))).toEqual([
      expect.stringMatching(
        /^dormant: debug: google calls: \d+ \(.*GET admin\/directory\/v1\/users ×3.*\); 4 retried$/,
      ),
    ]);
  });

  it('an endless rateLimitExceeded storm: maxAttempts calls, then exit 3 with one line; plan stores nothing', async () => {
    const h = await harness();
    h.tenant.memory.fault('directory.users.list', { status: 403, reason: 'rateLimitExceeded', times: 1000 });
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, [], { maxAttempts: 4 })));
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(h.tenant.memory.count('directory.users.list')).toBe(4);
    const [line, ...more] = stderrLines(r);
    expect(more).toEqual([]);
    await expectPlanRefused(ws, 3, line!);
    expect(h.tenant.memory.count('directory.users.list')).toBe(8);
    // BUG (src/providers/google/google-errors.ts, googleFailure): a 403 whose reason is
    // rateLimitExceeded, once the retries are spent, falls into the generic `status === 403`
    // branch and tells the operator to grant roles; it is throttling, and must read as such.
    expect(line).toBe(
      'dormant: Google kept failing while listing Workspace users (403 rateLimitExceeded: Quota exceeded for quota metric.) after every retry; scan again later',
    );
  });

  it('a 429 storm outlasting maxAttempts on one project: that project listed as a failure, exit 3', async () => {
    const h = await harness({ projects: ['p-a', 'p-b'] });
    addServiceAccount(h.tenant, 'p-a', 'a-old', { keys: [{ createdDaysAgo: 400 }] });
    addServiceAccount(h.tenant, 'p-b', 'b-old', { keys: [{ createdDaysAgo: 400 }] });
    // One project at a time, p-a first: its every attempt is throttled, and the storm is over for p-b.
    h.tenant.memory.fault('iam.serviceAccounts.list', { status: 429, times: 3 });
    const ws = sqliteWorkspace(
      h,
      googleConfigYaml(googleSection(h, ['p-a', 'p-b'], { maxAttempts: 3, cloud: { concurrency: 1 } })),
    );
    const reason =
      'Google kept failing while listing the service accounts and keys of project p-a (429 rateLimitExceeded: Quota exceeded for quota metric.) after every retry; scan again later';
    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(stderrLines(r)).toEqual([
      `dormant: 1 account(s) could not be read (google p-a: ${reason}); fix access, or pass --allow-partial to accept a partial result`,
    ]);
    expect(json<ScanJson>(r).failures).toEqual([{ provider: 'google', account: 'p-a', reason }]);
    const listed = (project: string) =>
      h.tenant.memory.calls.filter((c) => c.name === 'iam.serviceAccounts.list' && c.path.includes(`/${project}/`));
    expect(listed('p-a').map((c) => c.status)).toEqual([429, 429, 429]);
    expect(listed('p-b').map((c) => c.status)).toEqual([200]);
    expect(json<ScanJson>(r).accounts).toEqual([CUSTOMER, 'p-b']);
  });
});

describe('drift between plan and apply', () => {
  it('a key deleted after the plan: its items are skipped with the reason, the other key is disabled, exit 0', async () => {
    const h = await harness({ projects: ['p-one'] });
    const { sa, keys } = addServiceAccount(h.tenant, 'p-one', 'deployer', {
      usedDaysAgo: 2,
      keys: [{ createdDaysAgo: 400 }, { createdDaysAgo: 300 }],
    });
    const [gone, kept] = [keys[0]!.keyId, keys[1]!.keyId];
    const ws = sqliteWorkspace(
      h,
      googleConfigYaml(googleSection(h, ['p-one']), { remediation: { deleteAfterDays: 0 } }),
    );
    const r = await runGoogle(ws, ['plan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(0);
    const plan = json<PlanJson>(r);
    const item = (action: string, key: string) =>
      plan.items.find((i) => i.action === action && i.credentialId === key)!;
    expect(plan.items).toHaveLength(4);
    h.tenant.cloud.keys.delete(gone);

    const applied = await runGoogle(ws, ['apply', plan.id, '--yes', '--by', 'alice']);
    expect(applied.code, describeRun(applied)).toBe(0);
    // Disables first, in plan order; the delete behind the skipped disable is skipped with it, and
    // the other key's delete waits at least 3 days (Policy Analyzer's lag), whatever deleteAfterDays says.
    const disables = [item('deactivate-key', gone), item('deactivate-key', kept)].sort((x, y) => x.seq - y.seq);
    const lines = applied.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(
      disables.map((i) =>
        i.credentialId === gone ? `skipped: ${i.sentence}: credential ${gone} no longer exists` : `done: ${i.sentence}`,
      ),
    );
    expect(lines.slice(2, 3)).toEqual([
      `skipped: ${item('delete-key', gone).sentence}: its deactivate-key (item ${item('deactivate-key', gone).seq}) was skipped: credential ${gone} no longer exists`,
    ]);
    expect(lines[3]).toMatch(new RegExp(`^waiting: .*${kept}.*: not before `));
    expect(lines.slice(4)).toEqual(['1 done, 2 skipped, 0 failed, 1 waiting']);
    expect(item('delete-key', kept).sentence).toMatch(/3 days after it is disabled/);
    expect(h.tenant.cloud.keys.get(kept)?.disabled).toBe(true);
    const writes = h.tenant.memory.calls
      .filter((c) => c.method !== 'GET')
      .map((c) => `${c.name} ${c.path.split('/keys/')[1]}`);
    expect(writes).toEqual([`iam.keys.disable ${kept}:disable`]);
    const doc = (await withStore(ws, (s) => history(s))) as unknown as HistoryJson;
    const status = Object.fromEntries(doc.plans[0]!.items.map((i) => [`${i.action} ${i.credentialId}`, i.status]));
    expect(status).toEqual({
      [`deactivate-key ${gone}`]: 'skipped',
      [`delete-key ${gone}`]: 'skipped',
      [`deactivate-key ${kept}`]: 'done',
      [`delete-key ${kept}`]: 'approved',
    });
    expect(doc.events.filter((e) => e.kind === 'item.skipped').map((e) => e.detail)).toEqual([
      { reason: `credential ${gone} no longer exists` },
      {
        reason: `its deactivate-key (item ${item('deactivate-key', gone).seq}) was skipped: credential ${gone} no longer exists`,
      },
    ]);
    expect(sa.disabled).toBe(false);
  });

  it('a key used after the plan: its items are skipped, the key is not touched', async () => {
    const h = await harness({ projects: ['p-one'] });
    const { sa, keys } = addServiceAccount(h.tenant, 'p-one', 'deployer', {
      usedDaysAgo: 2,
      keys: [{ createdDaysAgo: 400 }],
    });
    const keyId = keys[0]!.keyId;
    const ws = sqliteWorkspace(
      h,
      googleConfigYaml(googleSection(h, ['p-one']), { remediation: { deleteAfterDays: 0 } }),
    );
    const r = await runGoogle(ws, ['plan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(0);
    const plan = json<PlanJson>(r);
    expect(plan.items.map((i) => i.action)).toEqual(['deactivate-key', 'delete-key']);
    h.tenant.cloud.recordAuthentication(sa.email, new Date(), keyId);

    const applied = await runGoogle(ws, ['apply', plan.id, '--yes', '--by', 'alice']);
    expect(applied.code, describeRun(applied)).toBe(0);
    const lines = applied.stdout.trim().split('\n');
    // The disable is skipped, and the delete behind it with it (nothing is left waiting for it).
    expect(lines.at(-1)).toBe('0 done, 2 skipped, 0 failed, 0 waiting');
    expect(h.tenant.cloud.keys.get(keyId)).toMatchObject({ disabled: false });
    expect(h.tenant.memory.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    // A Google key is a "key", not AWS's "access key", in the reason the operator reads.
    expect(lines[0]).toBe(`skipped: ${plan.items[0]!.sentence}: key ${keyId} is no longer unused`);
  });
});
