/** Store a scan and the plan built from it in one transaction (nothing half-written). */
import type { Config } from '../config/config.js';
import type { ScanResult } from '../model/finding.js';
import { insertPlan, openItems, snoozedUntil } from '../store/plans.js';
import { saveScan } from '../store/scans.js';
import type { Store } from '../store/store.js';
import { type PlanOutput, buildPlan } from './plan.js';

export async function storePlan(
  store: Store,
  result: ScanResult,
  config: Config,
  createdBy: string,
  now: Date = new Date(result.generatedAt),
): Promise<PlanOutput & { scanId: string }> {
  return store.transaction(async (trx) => {
    const scanId = await saveScan(trx, result);
    const out = buildPlan({
      result,
      config,
      scanId,
      createdBy,
      now,
      openItems: await openItems(trx),
      snoozed: await snoozedUntil(trx, now.toISOString()),
    });
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
