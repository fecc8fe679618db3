// The CLI with `--provider entra` against the Graph fake (the built CLI: run `npx tsc -p
// tsconfig.build.json` first): scan, plan → approve → apply → restore for disable and for
// delete, a user deleted or renamed between plan and apply, a refused write, a refused secret.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { describeRun, runCli, type CliExit } from './support/cli.js';
import { daysAgo, startEntra, type EntraHarness } from './entra-harness.js';

interface PlanJson {
  id: string;
  items: { id: string; identityId: string; identityName: string; action: string; status: string; sentence: string }[];
}

describe('dormant --provider entra', () => {
  let h: EntraHarness;
  let dir: string;

  beforeAll(async () => {
    h = await startEntra();
    dir = mkdtempSync(join(tmpdir(), 'dormant-entra-cli-'));
  });
  afterAll(() => h.stop());

  /** A workspace: its own config (entra settings merged in) and store. */
  function workspace(name: string, entra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
    const config = join(dir, `${name}.yml`);
    writeFileSync(
      config,
      stringify({
        remediation: { maxActionsPercent: 100, ...((top.remediation as object) ?? {}) },
        entra: {
          enabled: true,
          tenantId: h.tenant.tenantId,
          clientId: h.app.clientId,
          clientSecret: { env: h.secretEnv },
          authorityHost: h.fake.url,
          graphUrl: h.fake.url,
          maxAttempts: 2,
          ...entra,
        },
      }),
    );
    const db = join(dir, `${name}.db`);
    const env = {
      [h.secretEnv]: process.env[h.secretEnv]!,
      DORMANT_TEST_CLI_OTHER: process.env.DORMANT_TEST_CLI_OTHER ?? '',
    };
    const run = (...args: string[]): Promise<CliExit> =>
      runCli([...args, '--provider', 'entra', '--config', config, '--db', db], { env, timeoutMs: 60_000 });
    return { run };
  }

  const user = (local: string, days: number, extra: Record<string, unknown> = {}) =>
    h.tenant.addUser({
      userPrincipalName: `${local}@contoso.onmicrosoft.com`,
      createdDateTime: daysAgo(700),
      signInActivity: { lastSignInDateTime: daysAgo(days) },
      usageLocation: 'US',
      ...extra,
    }).id!;

  async function planned(ws: ReturnType<typeof workspace>): Promise<PlanJson> {
    const r = await ws.run('plan', '--format', 'json');
    expect(r.code, describeRun(r)).toBe(0);
    return JSON.parse(r.stdout) as PlanJson;
  }

  it('scan --format json: Entra identities and findings in the one document', async () => {
    const ws = workspace('scan', {}, {});
    const stale = user('scan-stale', 200);
    user('scan-fresh', 3);
    const r = await ws.run('scan', '--format', 'json');
    expect(r.code, describeRun(r)).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      accounts: string[];
      identities: { provider: string; name: string; state: string }[];
      findings: { provider: string; identityId: string; ruleId: string; recommendedAction: string }[];
    };
    expect(doc.accounts).toEqual([h.tenant.tenantId]);
    expect(doc.identities.every((i) => i.provider === 'entra')).toBe(true);
    expect(doc.findings).toContainEqual(
      expect.objectContaining({
        provider: 'entra',
        identityId: stale,
        ruleId: 'DORMANT-ENTRA-001',
        recommendedAction: 'disable-user',
      }),
    );
  });

  it('plan → approve → apply → restore, for a disable', async () => {
    const ws = workspace('disable', {}, { remediation: { deleteAfterDays: null } });
    const id = user('disable-me', 200);
    const plan = await planned(ws);
    const item = plan.items.find((i) => i.identityId === id)!;
    expect(item.sentence).toBe(
      'Disable Entra user disable-me@contoso.onmicrosoft.com: block sign-in and revoke sessions (inactive 200 days)',
    );
    expect((await ws.run('approve', plan.id, String(plan.items.indexOf(item) + 1), '--by', 'alice')).code).toBe(0);
    const applied = await ws.run('apply', plan.id, '--by', 'alice');
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(h.tenant.user(id)?.accountEnabled).toBe(false);
    expect(h.tenant.revocations.filter((r) => r.userId === id)).toHaveLength(1);
    const restored = await ws.run('restore', 'disable-me@contoso.onmicrosoft.com', '--by', 'alice');
    expect(restored.code, describeRun(restored)).toBe(0);
    expect(restored.stdout).toContain('restored: sign-in re-enabled for disable-me@contoso.onmicrosoft.com');
    expect(h.tenant.user(id)?.accountEnabled).toBe(true);
  });

  it('plan → apply (--yes) → restore, for a delete: restored from deletedItems with its role re-added', async () => {
    const ws = workspace('delete', {}, { remediation: { deleteAfterDays: 0 } });
    const id = user('delete-me', 200);
    const role = h.tenant.addDirectoryRole({ displayName: 'Helpdesk Administrator', members: [id] }).id!;
    const plan = await planned(ws);
    expect(plan.items.filter((i) => i.identityId === id).map((i) => i.action)).toEqual(['disable-user', 'delete-user']);
    const applied = await ws.run('apply', plan.id, '--yes', '--by', 'alice');
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(h.tenant.user(id)).toBeUndefined();
    expect(h.tenant.deletedUser(id)).toBeDefined();
    const restored = await ws.run('restore', 'delete-me@contoso.onmicrosoft.com', '--by', 'alice');
    expect(restored.code, describeRun(restored)).toBe(0);
    expect(restored.stdout).toContain('restored: directory role Helpdesk Administrator');
    expect(h.tenant.memberOf(id).roles).toEqual([role]);
    expect(h.tenant.user(id)?.accountEnabled).toBe(true);
  });

  it('skips a user deleted between plan and apply, and finds a renamed one by object id', async () => {
    const ws = workspace('drift', {}, { remediation: { deleteAfterDays: null } });
    const gone = user('drift-gone', 200);
    const renamed = user('drift-renamed', 200);
    const plan = await planned(ws);
    h.tenant.softDelete(h.tenant.liveUser(gone)!);
    h.tenant.updateUser(renamed, { userPrincipalName: 'drift-renamed-now@contoso.onmicrosoft.com' });
    const applied = await ws.run('apply', plan.id, '--yes', '--by', 'alice');
    expect(applied.code, describeRun(applied)).toBe(0);
    expect(applied.stdout).toMatch(
      /skipped: Disable Entra user drift-gone@contoso\.onmicrosoft\.com.*: the user no longer exists/,
    );
    expect(applied.stdout).toMatch(/done: Disable Entra user drift-renamed@contoso\.onmicrosoft\.com/);
    expect(h.tenant.user(renamed)?.accountEnabled).toBe(false);
  });

  it('a write the app may not make fails the item, naming the permission', async () => {
    const app = h.tenant.addApp({
      secret: 'cli-read-only',
      roles: ['User.Read.All', 'AuditLog.Read.All', 'RoleManagement.Read.Directory', 'GroupMember.Read.All'],
    });
    process.env.DORMANT_TEST_CLI_OTHER = 'cli-read-only';
    const ws = workspace(
      'readonly',
      { clientId: app.clientId, clientSecret: { env: 'DORMANT_TEST_CLI_OTHER' } },
      { remediation: { deleteAfterDays: null } },
    );
    const id = user('readonly-target', 200);
    const plan = await planned(ws);
    const applied = await ws.run('apply', plan.id, '--yes', '--by', 'alice');
    expect(applied.stdout + applied.stderr).toContain(
      'Graph refused PATCH /users/{id}: the app needs User.ReadWrite.All (or User.EnableDisableAccount.All); grant it and apply again',
    );
    expect(h.tenant.user(id)?.accountEnabled).toBe(true);
  });

  it('a wrong client secret: exit 3, one line on stderr naming its source, never its value', async () => {
    process.env.DORMANT_TEST_CLI_OTHER = 'not-the-secret-value';
    const ws = workspace('badsecret', { clientSecret: { env: 'DORMANT_TEST_CLI_OTHER' } });
    const r = await ws.run('scan', '--format', 'json');
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('Entra refused the client secret from environment variable DORMANT_TEST_CLI_OTHER');
    expect(r.stderr).not.toContain('not-the-secret-value');
  });

  it('permissions --provider entra prints the Graph application permissions', async () => {
    const ws = workspace('perms');
    const r = await ws.run('permissions', '--mode', 'remediate');
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      provider: 'entra',
      applicationPermissions: expect.arrayContaining(['User.Read.All', 'User.EnableDisableAccount.All']),
    });
  });
});
