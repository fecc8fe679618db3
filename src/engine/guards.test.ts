// The pre-flight guards count across the whole run and in each account: a large tenant in the
// same plan must not make room for retiring most of a small account.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { GuardError } from '../errors.js';
import type { Identity } from '../model/identity.js';
import type { Plan, PlanItem } from '../model/plan.js';
import type { RemediationProvider } from '../providers/provider.js';
import { guard } from './guards.js';

function item(seq: number, provider: 'aws' | 'entra', account: string): PlanItem {
  return {
    id: `pl-1-${seq}`,
    planId: 'pl-1',
    seq,
    provider,
    identityId: `${provider}-${seq}`,
    identityName: `user-${seq}`,
    account,
    credentialId: null,
    action: 'disable-user',
    ruleIds: [],
    findingIds: [],
    status: 'approved',
    notBefore: '2026-11-22T12:00:00.000Z',
    dependsOn: null,
    sentence: 'x',
    reason: null,
    decidedBy: 'alice',
    decidedAt: '2026-11-22T12:00:00.000Z',
  };
}

const live = (i: PlanItem): Identity => ({
  provider: i.provider,
  account: i.account,
  kind: 'user',
  id: i.identityId,
  name: i.identityName,
  path: '/',
  createdAt: null,
  credentials: [],
});
const provider = {
  reread: async (ref: { id: string; name: string }) => live(items.find((i) => i.identityId === ref.id)!),
};
let items: PlanItem[] = [];

describe('guard', () => {
  it('refuses a run over maxActionsPercent in one account even when the whole plan is under it', async () => {
    // 4 of 10 AWS identities (40%), in a plan of 10 AWS + 1,000 Entra identities (0.4% overall).
    items = [1, 2, 3, 4].map((n) => item(n, 'aws', '123456789012'));
    const plan: Plan = {
      id: 'pl-1',
      createdAt: '2026-11-22T12:00:00.000Z',
      scanId: 'sc-1',
      inventorySize: 1010,
      inventoryByAccount: { 'aws|123456789012': 10, 'entra|tenant-1': 1000 },
      createdBy: 't',
      items,
    };
    const config = parseConfig({ remediation: { maxActionsPercent: 10 } });
    const refusal = await guard(plan, items, () => provider as unknown as RemediationProvider, config, undefined).catch(
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(GuardError);
    expect((refusal as Error).message).toBe(
      'plan pl-1 would act on 4 of 10 identities in aws account 123456789012, more than remediation.maxActionsPercent (10%, 1); review the plan or raise the limit',
    );
    // One identity in that account is within 10% of 10.
    await expect(
      guard(plan, items.slice(0, 1), () => provider as unknown as RemediationProvider, config, undefined),
    ).resolves.toBeUndefined();
  });

  it('refuses a run over maxActionsPercent of one kind, even when the account has many identities of another', async () => {
    // 3 of 20 users (15%) in an account that also lists 200 roles (3 of 220 = 1.4%).
    items = [1, 2, 3].map((n) => item(n, 'aws', '123456789012'));
    const plan: Plan = {
      id: 'pl-1',
      createdAt: '2026-11-22T12:00:00.000Z',
      scanId: 'sc-1',
      inventorySize: 220,
      inventoryByAccount: { 'aws|123456789012': 220 },
      inventoryByKind: { 'aws|123456789012|user': 20, 'aws|123456789012|role': 200 },
      kindOf: Object.fromEntries(items.map((i) => [i.identityId, 'user' as const])),
      createdBy: 't',
      items,
    };
    const config = parseConfig({ remediation: { maxActionsPercent: 10 } });
    const refusal = await guard(plan, items, () => provider as unknown as RemediationProvider, config, undefined).catch(
      (err: unknown) => err,
    );
    expect((refusal as Error).message).toBe(
      'plan pl-1 would act on 3 of 20 user identities in aws account 123456789012, more than remediation.maxActionsPercent (10%, 2); review the plan or raise the limit',
    );
    await expect(
      guard(plan, items.slice(0, 2), () => provider as unknown as RemediationProvider, config, undefined),
    ).resolves.toBeUndefined();
  });
});
