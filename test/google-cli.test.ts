// The CLI with `--provider google` against the in-memory Google APIs on loopback (the built CLI:
// run `npx tsc -p tsconfig.build.json` first): the scan document (Workspace users and Cloud
// service accounts in one), a scan with a project that cannot be read (exit 3 unless
// --allow-partial, a plan stores nothing), plan → approve → apply → restore of a Workspace user
// and of a service account key on SQLite and PostgreSQL, and `dormant permissions`.
// Bad input and faults: google-cli-errors.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { history } from '../src/engine/history.js';
import { listBackups } from '../src/store/backups.js';
import { describeRun, type CliExit, type Workspace } from './support/cli.js';
import {
  ADMIN,
  addServiceAccount,
  addUser,
  DAY,
  escapeRegExp,
  googleConfigYaml,
  googleSection,
  runGoogle,
  sqliteWorkspace,
  startGoogleCli,
  stderrLines,
  type GoogleCliHarness,
  type GoogleCliOptions,
  type HistoryJson,
  type PermissionsJson,
  type PlanJson,
  type ScanJson,
} from './support/googleCli.js';
import { ENGINES, useBothEngines, withStore } from './support/stores.js';

const stores = useBothEngines('dormant-google-cli-');
const started: GoogleCliHarness[] = [];
afterEach(async () => {
  while (started.length > 0) await started.pop()!.stop();
});

async function harness(options: GoogleCliOptions = {}): Promise<GoogleCliHarness> {
  const h = await startGoogleCli(options);
  started.push(h);
  return h;
}

function json<T>(r: CliExit): T {
  return JSON.parse(r.stdout) as T;
}

async function planned(ws: Workspace, ...flags: string[]): Promise<PlanJson> {
  const r = await runGoogle(ws, ['plan', '--format', 'json', ...flags]);
  expect(r.code, describeRun(r)).toBe(0);
  return json<PlanJson>(r);
}

const CUSTOMER = 'C03az79cb';
const sa = (project: string, id: string) => `${id}@${project}.iam.gserviceaccount.com`;

describe('dormant scan --provider google', () => {
  it('one document: Workspace users and service accounts, admins protected, the exempt org unit exempt', async () => {
    const h = await harness({ projects: ['p-one', 'p-two'] });
    const t = h.tenant;
    const boss = addUser(t, 'boss', { lastLoginDaysAgo: 200, isAdmin: true });
    const helper = addUser(t, 'helper', { lastLoginDaysAgo: null, createdDaysAgo: 400, isDelegatedAdmin: true });
    const stale = addUser(t, 'stale', { lastLoginDaysAgo: 200 });
    const never = addUser(t, 'never', { lastLoginDaysAgo: null, createdDaysAgo: 300 });
    addUser(t, 'fresh', { lastLoginDaysAgo: 3 });
    const bot = addUser(t, 'bot', { lastLoginDaysAgo: 300, orgUnitPath: '/Service accounts/Bots' });
    // ci authenticates (with another credential), but its key never did: only the key is unused.
    const ci = addServiceAccount(t, 'p-one', 'ci', { usedDaysAgo: 2, keys: [{ createdDaysAgo: 400 }] });
    const old = addServiceAccount(t, 'p-one', 'old', { keys: [{ createdDaysAgo: 400 }] });
    addServiceAccount(t, 'p-two', 'busy', { keys: [{ createdDaysAgo: 400, usedDaysAgo: 1 }] });
    const config = googleSection(h, ['p-one', 'p-two'], { workspace: { exemptOrgUnits: ['/Service accounts'] } });
    const ws = sqliteWorkspace(h, googleConfigYaml(config));

    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toBe('');
    const doc = json<ScanJson>(r);
    expect(doc.accounts).toEqual([CUSTOMER, 'p-one', 'p-two']);
    expect([doc.failures, doc.warnings]).toEqual([undefined, []]);
    expect(doc.identities.map((i) => i.provider)).toEqual(doc.identities.map(() => 'google'));
    const found = doc.findings.map((f) => [f.ruleId, f.identityName, f.account, f.credentialId, f.recommendedAction]);
    expect(found.sort()).toEqual(
      [
        ['DORMANT-GWS-001', boss.email, CUSTOMER, null, 'disable-user'],
        ['DORMANT-GWS-001', stale.email, CUSTOMER, null, 'disable-user'],
        ['DORMANT-GWS-002', helper.email, CUSTOMER, null, 'disable-user'],
        ['DORMANT-GWS-002', never.email, CUSTOMER, null, 'disable-user'],
        ['DORMANT-GCP-001', ci.sa.email, 'p-one', ci.keys[0]!.keyId, 'deactivate-key'],
        ['DORMANT-GCP-001', old.sa.email, 'p-one', old.keys[0]!.keyId, 'deactivate-key'],
        ['DORMANT-GCP-002', old.sa.email, 'p-one', null, 'disable-user'],
      ].sort(),
    );
    expect(doc.findings.every((f) => f.provider === 'google')).toBe(true);
    const byName = new Map(doc.identities.map((i) => [i.name, i]));
    expect(byName.get(ADMIN)).toMatchObject({ protectedReason: 'the identity dormant runs as', account: CUSTOMER });
    expect(byName.get(boss.email)).toMatchObject({ protectedReason: 'a Workspace super admin', kind: 'user' });
    expect(byName.get(helper.email)).toMatchObject({ protectedReason: 'a Workspace delegated admin' });
    expect(byName.get(bot.email)).toMatchObject({
      state: 'exempt',
      exemptReason: 'in the exempt org unit /Service accounts (/Service accounts/Bots)',
    });
    expect(byName.get(sa('p-two', 'busy'))).toMatchObject({
      account: 'p-two',
      kind: 'service-account',
      state: 'active',
    });
    expect(byName.get(ci.sa.email)?.credentials).toEqual([
      expect.objectContaining({ id: ci.keys[0]!.keyId, status: 'enabled', lastUse: 'never' }),
    ]);

    // The plan reports the admins in notes and never acts on them; the exempt user is not in it either.
    const p = await runGoogle(ws, ['plan', '--format', 'json']);
    expect(p.code, describeRun(p)).toBe(0);
    const plan = json<PlanJson>(p);
    const acted = new Set(plan.items.map((i) => i.identityName));
    expect([...acted].sort()).toEqual([ci.sa.email, never.email, old.sa.email, stale.email].sort());
    // The admin dormant runs as signed in yesterday: no finding, so no note either.
    expect(stderrLines(p)).toEqual([
      `dormant: info: ${boss.email}: protected (a Workspace super admin); it is reported but never acted on`,
      `dormant: info: ${helper.email}: protected (a Workspace delegated admin); it is reported but never acted on`,
    ]);
    expect(plan.items.every((i) => i.provider === 'google')).toBe(true);
  });

  it('a project whose IAM API is off: exit 3 naming it and --allow-partial, the failure in the document; plan stores nothing', async () => {
    const h = await harness({ projects: ['p-a', 'p-b', 'p-c'] });
    const t = h.tenant;
    addServiceAccount(t, 'p-a', 'a-old', { keys: [{ createdDaysAgo: 400 }] });
    addServiceAccount(t, 'p-b', 'b-old', { keys: [{ createdDaysAgo: 400 }] });
    addServiceAccount(t, 'p-c', 'c-old', { keys: [{ createdDaysAgo: 400 }] });
    t.cloud.disableApi('p-b', 'iam.googleapis.com');
    const number = t.cloud.project('p-b')!.projectNumber;
    const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, ['p-a', 'p-b', 'p-c'])));
    const reason =
      `Google refused listing the service accounts and keys of project p-b: the API is not enabled (Identity and Access Management (IAM) API has not been used in project ${number} before or it is disabled. ` +
      `Enable it by visiting https://console.developers.google.com/apis/api/iam.googleapis.com/overview?project=${number} then retry. ` +
      'If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.); enable it, then scan again';
    const refusal = `dormant: 1 account(s) could not be read (google p-b: ${reason}); fix access, or pass --allow-partial to accept a partial result`;

    const r = await runGoogle(ws, ['scan', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(3);
    expect(stderrLines(r)).toEqual([refusal]);
    const doc = json<ScanJson>(r);
    expect(doc.failures).toEqual([{ provider: 'google', account: 'p-b', reason }]);
    expect(doc.accounts).toEqual([CUSTOMER, 'p-a', 'p-c']);
    expect(
      doc.identities
        .map((i) => i.name)
        .filter((n) => n.includes('.iam.'))
        .sort(),
    ).toEqual([sa('p-a', 'a-old'), sa('p-c', 'c-old')]);

    const partial = await runGoogle(ws, ['scan', '--format', 'json', '--allow-partial']);
    expect(partial.code, describeRun(partial)).toBe(0);
    expect(stderrLines(partial)).toEqual([`dormant: warning: partial scan: google p-b could not be read: ${reason}`]);
    expect(json<ScanJson>(partial).failures).toEqual([{ provider: 'google', account: 'p-b', reason }]);

    const plan = await runGoogle(ws, ['plan', '--format', 'json']);
    expect(plan.code, describeRun(plan)).toBe(3);
    expect(stderrLines(plan)).toEqual([refusal]);
    expect(plan.stdout).toBe('');
    const hist = await runGoogle(ws, ['history', '--format', 'json']);
    expect(hist.code, describeRun(hist)).toBe(0);
    expect(json<HistoryJson>(hist)).toEqual({ plans: [], events: [] });
    expect(await withStore(ws, (s) => s.db.selectFrom('scans').select('id').execute())).toEqual([]);

    // Accepted as partial, the plan covers what was read, and only that.
    const accepted = await planned(ws, '--allow-partial');
    expect([...new Set(accepted.items.map((i) => i.account))].sort()).toEqual(['p-a', 'p-c']);
  });
});

describe.each(ENGINES)('plan → approve → apply → restore, store %s', (engine) => {
  async function workspace(h: GoogleCliHarness, projects: string[], deleteAfterDays: number): Promise<Workspace> {
    return stores.workspace(engine, googleConfigYaml(googleSection(h, projects), { remediation: { deleteAfterDays } }));
  }

  it('a Workspace user: suspended and deleted in one apply, then undeleted with its org unit, aliases and groups', async () => {
    const h = await harness();
    const t = h.tenant;
    const leaver = addUser(t, 'leaver', {
      lastLoginDaysAgo: 200,
      orgUnitPath: '/Sales',
      aliases: ['leaver.alias@example.com'],
    });
    t.workspace.addGroup({ email: 'team@example.com' });
    t.workspace.addGroup({ email: 'leads@example.com' });
    t.workspace.addMember('team@example.com', leaver.email, 'MEMBER');
    t.workspace.addMember('leads@example.com', leaver.email, 'MANAGER');
    const ws = await workspace(h, [], 0);

    const plan = await planned(ws);
    expect(plan.items.map((i) => [i.seq, i.identityId, i.action, i.sentence])).toEqual([
      [1, leaver.id, 'disable-user', `Suspend Workspace user ${leaver.email} (inactive 200 days)`],
      [
        2,
        leaver.id,
        'delete-user',
        `Delete Workspace user ${leaver.email} (undeletable for 20 days), once it is suspended (inactive 200 days)`,
      ],
    ]);
    const approved = await runGoogle(ws, ['approve', plan.id, '1', '2', '--by', 'alice']);
    expect(approved.code, describeRun(approved)).toBe(0);
    const applied = await runGoogle(ws, ['apply', plan.id, '--by', 'alice']);
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout.trim().split('\n')).toEqual([
      `done: ${plan.items[0]!.sentence}`,
      `done: ${plan.items[1]!.sentence}`,
      '2 done, 0 skipped, 0 failed, 0 waiting',
    ]);
    expect(t.workspace.lookup(leaver.id)).toBeUndefined();
    expect(t.workspace.deletedUser(leaver.id)).toBeDefined();
    const writes = t.memory.calls.filter((c) => c.method !== 'GET').map((c) => `${c.name} ${c.status}`);
    expect(writes).toEqual(['directory.users.patch 200', 'directory.users.delete 204']);

    const restored = await runGoogle(ws, ['restore', leaver.email, '--by', 'alice']);
    expect(restored.code, describeRun(restored)).toBe(0);
    const lines = restored.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^Restored ${escapeRegExp(leaver.email)} from backup bk-\\S+ \\(taken \\S+\\)$`),
    );
    expect(lines.slice(1)).toEqual([
      `  restored: user ${leaver.email} undeleted into /Sales (same id; its mail, Drive files and calendars come back with it)`,
      '  restored: alias leaver.alias@example.com',
      '  restored: member of group team@example.com',
      '  restored: manager of group leads@example.com',
      `  restored: ${leaver.email} unsuspended: it can sign in again with its own password and 2-Step Verification`,
    ]);
    const back = t.workspace.lookup(leaver.id)!;
    expect(back).toMatchObject({ primaryEmail: leaver.email, suspended: false, orgUnitPath: '/Sales' });
    expect(back.aliases).toEqual(['leaver.alias@example.com']);
    expect(t.workspace.membersOf('team@example.com').get(leaver.id)).toBe('MEMBER');
    expect(t.workspace.membersOf('leads@example.com').get(leaver.id)).toBe('MANAGER');

    const doc = (await withStore(ws, (s) => history(s))) as unknown as HistoryJson;
    expect(doc.plans[0]!.items.map((i) => i.status)).toEqual(['done', 'done']);
    const done = doc.events.find((e) => e.kind === 'restore.done');
    expect(done).toMatchObject({
      actor: 'alice',
      detail: { user: leaver.email, provider: 'google', cannotRestore: [] },
    });
    const hist = await runGoogle(ws, ['history']);
    expect(hist.stdout).toContain(`Restore at `);
    expect(hist.stdout).toContain(`"user":"${leaver.email}"`);
  });

  it('a Workspace user with deleteAfterDays 30: suspended now, the delete waits', async () => {
    const h = await harness();
    const leaver = addUser(h.tenant, 'later', { lastLoginDaysAgo: 200 });
    const ws = await workspace(h, [], 30);
    const plan = await planned(ws);
    const del = plan.items.find((i) => i.action === 'delete-user')!;
    expect(Date.parse(del.notBefore) - Date.parse(plan.createdAt)).toBe(30 * DAY);
    expect(del.sentence).toBe(
      `Delete Workspace user ${leaver.email} (undeletable for 20 days), 30 days after it is suspended (inactive 200 days)`,
    );
    const applied = await runGoogle(ws, ['apply', plan.id, '--yes', '--by', 'alice']);
    expect(applied.code, describeRun(applied)).toBe(0);
    const lines = applied.stdout.trim().split('\n');
    expect(lines[0]).toBe(`done: Suspend Workspace user ${leaver.email} (inactive 200 days)`);
    expect(lines[1]).toMatch(new RegExp(`^waiting: ${escapeRegExp(del.sentence)}: not before \\d{4}-\\d\\d-\\d\\dT`));
    expect(lines[2]).toBe('1 done, 0 skipped, 0 failed, 1 waiting');
    expect(h.tenant.workspace.lookup(leaver.id)).toMatchObject({ suspended: true, suspensionReason: 'ADMIN' });
    expect(h.tenant.memory.count('directory.users.delete')).toBe(0);
  });

  it('a service account key: disabled then deleted; restore says it cannot come back', async () => {
    const h = await harness({ projects: ['p-one'] });
    const t = h.tenant;
    const { sa: deployer, keys } = addServiceAccount(t, 'p-one', 'deployer', {
      usedDaysAgo: 2,
      keys: [{ createdDaysAgo: 400 }],
    });
    const keyId = keys[0]!.keyId;
    const bystander = addUser(t, 'bystander', { lastLoginDaysAgo: 200 });
    const ws = await workspace(h, ['p-one'], 0);

    const plan = await planned(ws);
    const mine = plan.items.filter((i) => i.identityName === deployer.email);
    expect(mine.map((i) => [i.action, i.credentialId, i.sentence])).toEqual([
      ['deactivate-key', keyId, `Disable key ${keyId} of service account ${deployer.email} (unused 400 days)`],
      [
        'delete-key',
        keyId,
        // deleteAfterDays 0 is raised to 3 for Google keys: Policy Analyzer reports a use up to two days late.
        `Delete key ${keyId} of service account ${deployer.email}, 3 days after it is disabled (unused 400 days); a deleted key cannot come back`,
      ],
    ]);
    const approved = await runGoogle(ws, ['approve', plan.id, ...mine.map((i) => i.id), '--by', 'alice']);
    expect(approved.code, describeRun(approved)).toBe(0);
    const applied = await runGoogle(ws, ['apply', plan.id, '--by', 'alice']);
    expect(applied.code, describeRun(applied)).toBe(0);
    const first = applied.stdout.trim().split('\n');
    expect(first[0]).toBe(`done: ${mine[0]!.sentence}`);
    expect(first[1]).toMatch(new RegExp(`^waiting: .*${keyId}.*: not before `));
    expect(first[2]).toBe('1 done, 0 skipped, 0 failed, 1 waiting');
    expect(t.cloud.keys.get(keyId)?.disabled).toBe(true);
    // Three days later (moved in the store: the CLI runs on the real clock), the delete is due.
    await withStore(ws, (st) =>
      st.db
        .updateTable('plan_items')
        .set({ not_before: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', mine[1]!.id)
        .execute(),
    );
    const later = await runGoogle(ws, ['apply', plan.id, '--by', 'alice']);
    expect(later.code, describeRun(later)).toBe(0);
    expect(later.stdout.trim().split('\n')).toEqual([
      `done: ${mine[1]!.sentence}`,
      '1 done, 0 skipped, 0 failed, 0 waiting',
    ]);
    const keyWrites = t.memory.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.name} ${c.status}`);
    expect(keyWrites).toEqual(['POST iam.keys.disable 200', 'DELETE iam.keys.delete 200']);
    expect(t.memory.calls.find((c) => c.name === 'iam.keys.disable')!.path).toMatch(
      new RegExp(`/keys/${keyId}:disable$`),
    );
    expect(t.cloud.keys.has(keyId)).toBe(false);
    expect(t.cloud.findServiceAccount(deployer.uniqueId)).toMatchObject({ disabled: false });
    // The items not approved were left alone.
    expect(t.workspace.lookup(bystander.id)).toMatchObject({ suspended: false });

    const restored = await runGoogle(ws, ['restore', deployer.email, '--by', 'alice']);
    expect(restored.code, describeRun(restored)).toBe(0);
    expect(restored.stdout.trim().split('\n').slice(1)).toEqual([
      `  cannot restore: key ${keyId} of ${deployer.email} was deleted: a deleted service account key cannot come back (Google keeps no copy of its private key); create a new key and give it to whatever used the old one`,
    ]);
    const doc = (await withStore(ws, (s) => history(s))) as unknown as HistoryJson;
    expect(doc.events.find((e) => e.kind === 'restore.done')?.detail).toMatchObject({
      user: deployer.email,
      restored: [],
      cannotRestore: [expect.stringContaining(`key ${keyId} of ${deployer.email} was deleted`)],
    });
  });

  it('a service account key only disabled (deleteAfterDays 30) comes back enabled on restore', async () => {
    const h = await harness({ projects: ['p-one'] });
    const t = h.tenant;
    const { sa: deployer, keys } = addServiceAccount(t, 'p-one', 'deployer', {
      usedDaysAgo: 2,
      keys: [{ createdDaysAgo: 400 }],
    });
    const keyId = keys[0]!.keyId;
    const ws = await workspace(h, ['p-one'], 30);
    const plan = await planned(ws);
    expect(plan.items.map((i) => i.action)).toEqual(['deactivate-key', 'delete-key']);
    expect(plan.items[1]!.sentence).toBe(
      `Delete key ${keyId} of service account ${deployer.email}, 30 days after it is disabled (unused 400 days); a deleted key cannot come back`,
    );
    expect((await runGoogle(ws, ['approve', plan.id, '--all', '--by', 'alice'])).code).toBe(0);
    const applied = await runGoogle(ws, ['apply', plan.id, '--by', 'alice']);
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout.trim().split('\n').at(-1)).toBe('1 done, 0 skipped, 0 failed, 1 waiting');
    expect(t.cloud.keys.get(keyId)).toMatchObject({ disabled: true });
    expect(t.memory.count('iam.keys.delete')).toBe(0);
    const backups = await withStore(ws, (s) => listBackups(s.db));
    expect(backups.map((b) => b.identityName)).toEqual([deployer.email]);

    const restored = await runGoogle(ws, ['restore', deployer.email, '--by', 'alice']);
    expect(restored.code, describeRun(restored)).toBe(0);
    expect(restored.stdout.trim().split('\n').slice(1)).toEqual([
      `  restored: key ${keyId} of ${deployer.email} enabled again`,
    ]);
    expect(stderrLines(restored)).toEqual([`dormant: warning: closed 1 open plan item(s) for ${deployer.email}`]);
    expect(t.cloud.keys.get(keyId)).toMatchObject({ disabled: false });
    const doc = (await withStore(ws, (s) => history(s))) as unknown as HistoryJson;
    expect(doc.plans[0]!.items.map((i) => i.status)).toEqual(['done', 'skipped']);
  });
});

describe('dormant permissions --provider google', () => {
  const read = [
    'https://www.googleapis.com/auth/admin.directory.group.readonly',
    'https://www.googleapis.com/auth/admin.directory.user.readonly',
    'https://www.googleapis.com/auth/admin.reports.audit.readonly',
  ];
  const scanPerms = [
    'iam.serviceAccountKeys.list',
    'iam.serviceAccounts.get',
    'iam.serviceAccounts.list',
    'policyanalyzer.serviceAccountKeyLastAuthenticationActivities.query',
    'policyanalyzer.serviceAccountLastAuthenticationActivities.query',
    'resourcemanager.folders.list',
    'resourcemanager.projects.list',
  ];

  it.each(['scan', 'remediate'] as const)(
    '--mode %s prints the delegation scopes and the custom role',
    async (mode) => {
      const h = await harness();
      const ws = sqliteWorkspace(h, googleConfigYaml(googleSection(h, [])));
      const r = await runGoogle(ws, ['permissions', '--mode', mode]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stderr).toBe('');
      const doc = json<PermissionsJson>(r);
      expect(doc.provider).toBe('google');
      const scopes =
        mode === 'scan'
          ? read
          : [
              'https://www.googleapis.com/auth/admin.directory.group.member',
              read[0],
              'https://www.googleapis.com/auth/admin.directory.user',
              read[1],
              read[2],
            ];
      expect(doc.workspace.domainWideDelegationScopes).toEqual(scopes);
      const perms =
        mode === 'scan'
          ? scanPerms
          : [
              ...scanPerms,
              'iam.serviceAccountKeys.delete',
              'iam.serviceAccountKeys.disable',
              'iam.serviceAccountKeys.enable',
              'iam.serviceAccountKeys.get',
              'iam.serviceAccounts.delete',
              'iam.serviceAccounts.disable',
              'iam.serviceAccounts.enable',
              'iam.serviceAccounts.undelete',
            ].sort();
      expect(doc.cloud.customRole).toEqual({ title: `dormant ${mode}`, includedPermissions: perms });
      expect(Object.keys(doc.cloud.why).sort()).toEqual(perms);
      expect(doc.workspace.adminPrivileges.length).toBeGreaterThan(0);
    },
  );
});
