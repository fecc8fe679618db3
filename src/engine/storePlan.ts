/** Store a scan and the plan built from it in one transaction (nothing half-written). */
import type { Config } from '../config/config.js';
import type { ScanResult } from '../model/finding.js';
import type { ProviderName } from '../model/identity.js';
import type { ActionDescriber } from '../providers/provider.js';
import { describersFor } from '../providers/registry.js';
import { disabledIdentities, insertPlan, openItems, snoozedUntil } from '../store/plans.js';
import { saveScan } from '../store/scans.js';
import { type Store, newId } from '../store/store.js';
import { type PlanOutput, buildPlan } from './plan.js';

export async function storePlan(
  store: Store,
  result: ScanResult,
  config: Config,
  createdBy: string,
  now: Date = new Date(result.generatedAt),
  options: {
    keepEmpty?: boolean;
    /** Plan sentences per provider; by default each registered provider's own. */
    describers?: Partial<Record<ProviderName, ActionDescriber>>;
  } = {},
): Promise<PlanOutput & { scanId: string }> {
  const describers = options.describers ?? describersFor(config);
  return store.transaction(async (trx) => {
    const scanId = await saveScan(trx, result);
    const out = buildPlan({
      result,
      config,
      planId: newId('pl'),
      scanId,
      createdBy,
      now,
      describers,
      openItems: await openItems(trx),
      snoozed: await snoozedUntil(trx, now.toISOString()),
      disabled: await disabledIdentities(trx),
    });
    // The service scans every cycle; a plan with nothing in it is not worth keeping there.
    if (out.plan.items.length === 0 && options.keepEmpty === false) return { ...out, scanId };
    await insertPlan(trx, out.plan);
    await store.audit(trx, {
      actor: createdBy,
      kind: 'plan.created',
      planId: out.plan.id,
      detail: { items: out.plan.items.length, scanId },
    });
    return { ...out, scanId };
  });
}
