// The shipped demo tenant (examples/entra/tenant.json) through openDemoEntra: the in-memory Graph
// runs the provider's own collect/remediation code with no network; every case gets its verdict,
// and disable → delete → restore works on it.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/engine/evaluate.js';
import { DAY_MS } from '../src/model/time.js';
import { openDemoEntra } from '../src/providers/entra/entra-memory.js';
import type { IdentityRef } from '../src/providers/provider.js';
import { RecordingSteps } from './entra-harness.js';

const TENANT = fileURLToPath(new URL('../examples/entra/tenant.json', import.meta.url));

describe('the demo tenant', () => {
  it('gives each case its verdict, with no network', async () => {
    const s = await openDemoEntra(TENANT);
    const inv = await s.scanner.collect();
    expect(inv).toMatchObject({ provider: 'entra', accounts: ['7f3b2c1d-5e4a-4b6c-9d8e-1f2a3b4c5d6e'], warnings: [] });
    const verdicts = Object.fromEntries(
      evaluate(inv.identities, s.config, s.asOf).map((e) => [
        e.identity.name.split(/[@_]/)[0],
        [
          e.exemptReason ? 'exempt' : e.hits.map((h) => h.rule.id).join(',') || 'active',
          e.identity.protectedReason ? 'protected' : '',
          e.identity.notifyOnlyReason ? 'notify' : '',
        ]
          .filter(Boolean)
          .join(' '),
      ]),
    );
    expect(verdicts).toEqual({
      'adele.vance': 'active',
      'bob.kelly': 'DORMANT-ENTRA-001',
      'carol.diaz': 'active',
      'dan.reyes': 'DORMANT-ENTRA-001',
      'erin.cho': 'DORMANT-ENTRA-003',
      'frank.ito': 'active',
      'gina.lopez': 'DORMANT-ENTRA-002',
      'hank.moss': 'active',
      'ivan.petrov': 'DORMANT-ENTRA-002',
      'julia.kim': 'active',
      'kevin.osei': 'DORMANT-ENTRA-001 notify',
      'lara.novak': 'DORMANT-ENTRA-001 protected',
      'breakglass-01': 'exempt protected',
    });
    expect(s.calls()).toBe(
      '6 Graph calls (1 GET /directoryRoles, 1 GET /directoryRoles/{id}/members, 1 GET /groups/{id}/transitiveMembers/microsoft.graph.user, 2 GET /roleManagement/directory/roleEligibilityScheduleInstances, 1 GET /users), 0 token requests',
    );
  });

  it('disables, deletes and restores a user, re-adding what the delete removed', async () => {
    const s = await openDemoEntra(TENANT);
    const bob: IdentityRef = {
      provider: 'entra',
      account: s.tenant.file.tenantId,
      id: '0a1b2c3d-0002-4000-8000-00000000000b',
      name: 'bob.kelly@contoso.com',
    };
    const backup = await s.remediation.backup(bob);
    const steps = new RecordingSteps();
    await s.remediation.perform('disable-user', { identity: bob, credentialId: null }, steps);
    expect(s.remediation.isDisabled((await s.remediation.reread(bob))!)).toBe(true);
    await s.remediation.perform('delete-user', { identity: bob, credentialId: null }, steps);
    expect(await s.remediation.reread(bob)).toBeNull();
    const report = await s.remediation.restore(backup, {}, steps);
    expect(steps.done).toEqual([
      'disable-account',
      'revoke-sessions',
      'delete-user',
      'restore-user',
      'add-role:d1e2c3b4-0002-4000-8000-000000000002',
      'add-app-role:5e5e5e5e-0001-4000-8000-00000000e4e5:3a7c1e2d-0001-4000-8000-0000000a0001',
      'set-manager',
      'enable-account',
    ]);
    expect(report.restored).toEqual([
      'user bob.kelly@contoso.com restored from deleted items (same object id)',
      'directory role Helpdesk Administrator',
      'app role 3a7c1e2d-0001-4000-8000-0000000a0001 of Expense Reports',
      'manager adele.vance@contoso.com',
      'sign-in re-enabled for bob.kelly@contoso.com (sessions revoked by the disable stay revoked: the user signs in again)',
    ]);
    expect(s.tenant.writes).toEqual([
      'PATCH accountEnabled=false bob.kelly@contoso.com',
      'POST revokeSignInSessions bob.kelly@contoso.com',
      'DELETE bob.kelly@contoso.com',
      'POST restore bob.kelly@contoso.com',
      'POST role member Helpdesk Administrator 0a1b2c3d-0002-4000-8000-00000000000b',
      'POST appRoleAssignment bob.kelly@contoso.com 3a7c1e2d-0001-4000-8000-0000000a0001',
      'PUT manager bob.kelly@contoso.com',
      'PATCH accountEnabled=true bob.kelly@contoso.com',
    ]);
    const [evidence] = await s.remediation.evidence(bob);
    expect(evidence?.items.map((i) => i.summary)).toEqual([
      'Sign-in to Office 365 Exchange Online from 203.0.113.24 (Redmond, US): success',
      'Sign-in to Expense Reports from 203.0.113.24 (Redmond, US): success',
    ]);
  });

  it('cannot restore a user purged after 30 days, and says so', async () => {
    let now = new Date('2026-11-22T12:00:00Z').getTime();
    const s = await openDemoEntra(TENANT, { clock: () => new Date(now) });
    const erin: IdentityRef = {
      provider: 'entra',
      account: s.tenant.file.tenantId,
      id: '0a1b2c3d-0005-4000-8000-00000000000e',
      name: 'erin.cho@contoso.com',
    };
    const backup = await s.remediation.backup(erin);
    await s.remediation.perform('delete-user', { identity: erin, credentialId: null }, new RecordingSteps());
    now += 30 * DAY_MS;
    const report = await s.remediation.restore(backup, {}, new RecordingSteps());
    expect(report.restored).toEqual([]);
    expect(report.cannotRestore[0]).toMatch(
      /^Entra user erin.cho@contoso.com .* is no longer in deleted items: Entra purges a deleted user after 30 days/,
    );
  });

  it('without a licence: one warning and no verdicts', async () => {
    const s = await openDemoEntra(TENANT);
    s.tenant.file.premium = false;
    const inv = await s.scanner.collect();
    expect(inv.warnings).toHaveLength(1);
    expect(evaluate(inv.identities, s.config, s.asOf).flatMap((e) => e.hits)).toEqual([]);
  });

  it('protects a PIM-eligible admin, and pages role members (an $expand stops at 20, as in Graph)', async () => {
    const s = await openDemoEntra(TENANT);
    const bob = '0a1b2c3d-0002-4000-8000-00000000000b';
    s.tenant.file.roleEligibilities.push({
      principalId: bob,
      roleDefinitionId: '62e90394-69f5-4237-9190-012177145e10',
    });
    const inv = await s.scanner.collect();
    expect(inv.identities.find((i) => i.id === bob)?.protectedReason).toBe(
      'eligible (PIM) for the directory role Global Administrator',
    );
    const ga = s.tenant.file.directoryRoles.find((r) => r.displayName === 'Global Administrator')!;
    ga.members.push(...[...s.tenant.users.keys()].filter((id) => !ga.members.includes(id)));
    const expanded = (await s.tenant.send('GET', '/directoryRoles?$expand=members($select=id)')) as {
      value: { id: string; members: unknown[] }[];
    };
    expect(expanded.value.find((r) => r.id === ga.id)?.members.length).toBeLessThanOrEqual(20);
    const page = (await s.tenant.send('GET', `/directoryRoles/${ga.id}/members?$select=id&$top=5`)) as {
      value: unknown[];
      '@odata.nextLink'?: string;
    };
    expect(page.value).toHaveLength(5);
    expect(new URL(page['@odata.nextLink']!).searchParams.get('$skiptoken')).toBe('5');
    const all = await s.scanner.collect();
    for (const id of ga.members) {
      expect(all.identities.find((i) => i.id === id)?.protectedReason).toMatch(/Global Administrator/);
    }
  });
});
