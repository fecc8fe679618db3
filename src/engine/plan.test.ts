// The planner: default actions per rule, staging, dedupe of open items, snoozes, caller and empty-inventory guards.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import type { Finding, ScanResult, ScannedIdentity } from '../model/finding.js';
import type { PlanItem } from '../model/plan.js';
import { GuardError } from '../errors.js';
import { describersFor } from '../providers/registry.js';
import { awsFinding, awsUser, scanResult, scanned } from '../../test/support/identities.js';
import { buildPlan } from './plan.js';

const NOW = new Date('2026-11-22T12:00:00Z');

function identity(name: string, extra: Partial<ScannedIdentity> = {}): ScannedIdentity {
  return scanned(awsUser(name, '2024-01-01T00:00:00Z'), {
    lastActivityAt: '2024-01-01T00:00:00Z',
    state: 'active',
    ...extra,
  });
}

function finding(name: string, ruleId: string, credentialId: string | null = null, days = 143): Finding {
  return awsFinding(name, ruleId, {
    severity: ruleId === 'DORMANT-AWS-005' ? 'low' : 'medium',
    credentialId,
    message: 'x',
    daysSinceActivity: days,
  });
}

function result(identities: ScannedIdentity[], findings: Finding[]): ScanResult {
  return scanResult(identities, findings, { generatedAt: NOW.toISOString() });
}

function plan(
  r: ScanResult,
  config = parseConfig({}),
  openItems: PlanItem[] = [],
  snoozed = new Map<string, string>(),
  disabled = new Map<string, { itemId: string; doneAt: string }>(),
) {
  return buildPlan({
    result: r,
    config,
    planId: 'pl-test',
    scanId: 'sc-1',
    createdBy: 'tester',
    now: NOW,
    describers: describersFor(config),
    openItems,
    snoozed,
    disabled,
  });
}

describe('buildPlan', () => {
  it('stages an inactive user: disable now, delete after deleteAfterDays, depending on the disable', () => {
    const { plan: p } = plan(
      result(
        [identity('alice')],
        [finding('alice', 'DORMANT-AWS-001'), finding('alice', 'DORMANT-AWS-002', 'AKIAAAAAAAAAAAAAAAAA')],
      ),
    );
    expect(p.items.map((i) => [i.seq, i.action])).toEqual([
      [1, 'disable-user'],
      [2, 'delete-user'],
    ]);
    expect(p.items[0]!.ruleIds).toEqual(['DORMANT-AWS-001', 'DORMANT-AWS-002']);
    expect(p.items[0]!.notBefore).toBe(NOW.toISOString());
    expect(p.items[1]!.notBefore).toBe('2026-12-22T12:00:00.000Z');
    expect(p.items[1]!.dependsOn).toBe(p.items[0]!.id);
    expect(p.items[0]!.sentence).toBe(
      'Disable user alice: deactivate its access keys and remove its console password (inactive 143 days)',
    );
    expect(p.items.every((i) => i.status === 'pending')).toBe(true);
  });

  it('deleteAfterDays 0 puts both steps in one plan due now; null never deletes', () => {
    const r = result([identity('bob')], [finding('bob', 'DORMANT-AWS-003')]);
    const zero = plan(r, parseConfig({ remediation: { deleteAfterDays: 0 } })).plan;
    expect(zero.items.map((i) => [i.action, i.notBefore])).toEqual([
      ['disable-user', NOW.toISOString()],
      ['delete-user', NOW.toISOString()],
    ]);
    const never = plan(r, parseConfig({ remediation: { deleteAfterDays: null } })).plan;
    expect(never.items.map((i) => i.action)).toEqual(['disable-user']);
  });

  it('gives each credential rule its own action, and notify only for unrotated keys not being deactivated', () => {
    const { plan: p } = plan(
      result(
        [identity('carol')],
        [
          finding('carol', 'DORMANT-AWS-002', 'AKIACAROL00000000001'),
          finding('carol', 'DORMANT-AWS-004'),
          finding('carol', 'DORMANT-AWS-005', 'AKIACAROL00000000001'),
          finding('carol', 'DORMANT-AWS-005', 'AKIACAROL00000000002'),
        ],
      ),
    );
    expect(p.items.map((i) => [i.action, i.credentialId])).toEqual([
      ['deactivate-key', 'AKIACAROL00000000001'],
      ['remove-password', null],
      ['notify', 'AKIACAROL00000000002'],
    ]);
    expect(p.items[0]!.sentence).toBe('Deactivate access key AKIACAROL00000000001 of carol (unused 143 days)');
  });

  it('never plans an action on a key known only by report slot', () => {
    const out = plan(result([identity('dan')], [finding('dan', 'DORMANT-AWS-002', 'access_key_1')]));
    expect(out.plan.items).toHaveLength(0);
    expect(out.notes.join()).toMatch(/known only as access_key_1/);
  });

  it('does not duplicate items still open in an earlier plan', () => {
    const r = result([identity('erin')], [finding('erin', 'DORMANT-AWS-004')]);
    const first = plan(r).plan;
    const second = plan(r, parseConfig({}), first.items);
    expect(second.plan.items).toHaveLength(0);
    expect(second.notes[0]).toMatch(/already open in plan/);
  });

  it('leaves out snoozed identities and the caller', () => {
    const r = result(
      [identity('frank'), identity('runner', { isCaller: true })],
      [finding('frank', 'DORMANT-AWS-001'), finding('runner', 'DORMANT-AWS-001')],
    );
    const out = plan(
      r,
      parseConfig({}),
      [],
      new Map([['arn:aws:iam::123456789012:user/frank', '2026-12-01T00:00:00Z']]),
    );
    expect(out.plan.items).toHaveLength(0);
    expect(out.notes).toEqual([
      'frank: snoozed until 2026-12-01T00:00:00Z',
      'runner: dormant runs as this identity; it is reported but never acted on',
    ]);
  });

  it('counts per account and kind only identities it could act on, and records the kind of each identity it names', () => {
    const { plan: p } = plan(
      result(
        [
          identity('alice', { state: 'inactive' }),
          identity('bob'),
          identity('svc', { kind: 'role', state: 'exempt' }),
          identity('ops', { kind: 'role' }),
        ],
        [finding('alice', 'DORMANT-AWS-001')],
      ),
    );
    expect(p.inventorySize).toBe(4);
    expect(p.inventoryByAccount).toEqual({ 'aws|123456789012': 3 });
    expect(p.inventoryByKind).toEqual({ 'aws|123456789012|user': 2, 'aws|123456789012|role': 1 });
    expect(Object.values(p.kindOf ?? {})).toEqual(['user']);
  });

  it('refuses to plan from an empty inventory', () => {
    expect(() => plan(result([], []))).toThrow(GuardError);
  });

  it('does not ask again to disable a user dormant already disabled; the delete waits from the disable', () => {
    const r = result([identity('gina')], [finding('gina', 'DORMANT-AWS-001')]);
    const arn = 'arn:aws:iam::123456789012:user/gina';
    const out = plan(
      r,
      parseConfig({}),
      [],
      new Map(),
      new Map([[arn, { itemId: 'pl-old-1', doneAt: '2026-11-10T00:00:00.000Z' }]]),
    );
    expect(out.plan.items.map((i) => [i.action, i.dependsOn, i.notBefore])).toEqual([
      ['delete-user', 'pl-old-1', '2026-12-10T00:00:00.000Z'],
    ]);
    expect(out.notes).toEqual(['gina: already disabled by dormant (item pl-old-1)']);
  });

  it('makes a new delete wait for a disable still open in an earlier plan', () => {
    const r = result([identity('hank')], [finding('hank', 'DORMANT-AWS-001')]);
    const first = plan(r).plan;
    const openDisable = first.items.filter((i) => i.action === 'disable-user');
    const second = plan(r, parseConfig({}), openDisable).plan;
    expect(second.items.map((i) => [i.action, i.dependsOn])).toEqual([['delete-user', openDisable[0]!.id]]);
  });
});
