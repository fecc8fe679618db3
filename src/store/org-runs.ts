/**
 * Organization runs and their per-account outcomes (DESIGN §8). A worker saves an account's
 * outcome once; a second save of the same (run, account) is ignored, so a job that pg-boss
 * retried after a worker vanished, and that the first worker also finished, never counts twice.
 */
import { z } from 'zod';
import type { AccountOutcome } from '../engine/org-scan.js';
import type { ScanResult } from '../model/finding.js';
import type { Db } from './store.js';
import { nowIso } from './store.js';

export const orgRunSettingsSchema = z.strictObject({
  provider: z.string().min(1),
  inactiveDays: z.number().int().min(1),
  /** The run's "now": every account is evaluated as of the same instant. */
  asOf: z.string().min(1),
  source: z.string().nullable(),
  /** Which report-slot keys get their ids (engine/scan.ts ResolveKeys). */
  resolveKeys: z.enum(['all', 'actions', 'none']),
});
export type OrgRunSettings = z.infer<typeof orgRunSettingsSchema>;

/** Record a run, or check that a resumed one asks for the same scan. Returns the stored settings. */
export async function openRun(
  db: Db,
  id: string,
  settings: OrgRunSettings,
): Promise<{ created: boolean; settings: OrgRunSettings }> {
  const inserted = await db
    .insertInto('org_runs')
    .values({ id, created_at: nowIso(), provider: settings.provider, settings: JSON.stringify(settings) })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  const row = await db.selectFrom('org_runs').select(['settings']).where('id', '=', id).executeTakeFirstOrThrow();
  return {
    created: Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0,
    settings: orgRunSettingsSchema.parse(JSON.parse(row.settings)),
  };
}

export async function runSettings(db: Db, id: string): Promise<OrgRunSettings | null> {
  const row = await db.selectFrom('org_runs').select(['settings']).where('id', '=', id).executeTakeFirst();
  return row ? orgRunSettingsSchema.parse(JSON.parse(row.settings)) : null;
}

/** True when this save was the first for (run, account). */
export async function saveOutcome(db: Db, runId: string, outcome: AccountOutcome, worker: string): Promise<boolean> {
  const r = await db
    .insertInto('org_results')
    .values({
      run_id: runId,
      account: outcome.account,
      outcome: JSON.stringify(outcome),
      worker,
      finished_at: nowIso(),
    })
    .onConflict((oc) => oc.columns(['run_id', 'account']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

const outcomeSchema = z.union([
  z.object({ account: z.string(), result: z.custom<ScanResult>((v) => typeof v === 'object' && v !== null) }),
  z.object({
    account: z.string(),
    failure: z.object({ provider: z.string(), account: z.string(), reason: z.string() }),
  }),
]);

export async function outcomes(
  db: Db,
  runId: string,
  accounts?: readonly string[],
): Promise<Map<string, AccountOutcome & { worker: string }>> {
  let q = db.selectFrom('org_results').select(['account', 'outcome', 'worker']).where('run_id', '=', runId);
  if (accounts) {
    if (accounts.length === 0) return new Map();
    q = q.where('account', 'in', [...accounts]);
  }
  const rows = await q.execute();
  return new Map(
    rows.map((r) => [
      r.account,
      { ...(outcomeSchema.parse(JSON.parse(r.outcome)) as AccountOutcome), worker: r.worker },
    ]),
  );
}

/**
 * A resumed run tries again the accounts that failed before (a role since fixed, throttling
 * since passed): their failure outcomes are dropped; scanned accounts are kept.
 */
export async function dropFailures(db: Db, runId: string): Promise<number> {
  const failed = [...(await outcomes(db, runId))].filter(([, o]) => 'failure' in o).map(([account]) => account);
  if (failed.length === 0) return 0;
  await db.deleteFrom('org_results').where('run_id', '=', runId).where('account', 'in', failed).execute();
  return failed.length;
}
