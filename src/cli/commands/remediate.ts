/** `dormant plan | approve | deny | apply | restore | history`: the remediation commands. */
import { Option, type Command } from 'commander';
import { apply } from '../../engine/apply.js';
import { decide } from '../../engine/decide.js';
import { history } from '../../engine/history.js';
import { storePlan } from '../../engine/storePlan.js';
import { restore } from '../../engine/restore.js';
import { EXIT, UsageError } from '../../errors.js';
import type { Plan } from '../../model/plan.js';
import { findBackup } from '../../engine/restore.js';
import { getPlan } from '../../store/plans.js';
import { noStoreYet, parseStoreUrl, Store } from '../../store/store.js';
import { openFor } from '../sessions.js';
import { type CommandContext, buildContext, parseIntFlag, type GlobalFlags } from '../context.js';
import { operatorName } from '../operator.js';
import { addScanOptions, partialFailure, runScan, type ScanFlags } from './scan.js';

export async function withStore<T>(ctx: CommandContext, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(ctx.config.store.url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * For commands that only read when the store is missing (history; apply, approve, deny and
 * restore, whose plan or backup cannot exist without one): a SQLite store that does not exist
 * yet is never created; `missing` answers instead, given the sentence that says so.
 */
export async function withExistingStore<T>(
  ctx: CommandContext,
  missing: (noStore: string) => T | Promise<T>,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await Store.openExisting(ctx.config.store.url);
  if (!store) return missing(noStoreYet(parseStoreUrl(ctx.config.store.url).target));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function planJson(plan: Plan): object {
  return {
    id: plan.id,
    createdAt: plan.createdAt,
    items: plan.items.map((i) => ({
      id: i.id,
      seq: i.seq,
      provider: i.provider,
      account: i.account,
      identityId: i.identityId,
      identityName: i.identityName,
      credentialId: i.credentialId,
      action: i.action,
      ruleIds: i.ruleIds,
      status: i.status,
      notBefore: i.notBefore,
      dependsOn: i.dependsOn,
      sentence: i.sentence,
      reason: i.reason,
    })),
  };
}

export function planText(plan: Plan, notes: string[]): string {
  const lines = [`Plan ${plan.id}: ${plan.items.length} item(s), made ${plan.createdAt} by ${plan.createdBy}`];
  for (const i of plan.items) {
    const when =
      Date.parse(i.notBefore) > Date.parse(plan.createdAt) ? ` [not before ${i.notBefore.slice(0, 10)}]` : '';
    lines.push(`  ${String(i.seq).padStart(3)}. ${i.sentence}${when} — ${i.status}${i.reason ? ` (${i.reason})` : ''}`);
  }
  for (const n of notes) lines.push(`  note: ${n}`);
  if (plan.items.length > 0) {
    lines.push('', `Review, then: dormant approve ${plan.id} --all   (or item numbers), and: dormant apply ${plan.id}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Scan, then store the scan and a plan in one transaction (nothing half-written). */
export async function createPlan(ctx: CommandContext, store: Store, flags: ScanFlags, by: string) {
  // The plan names every key it will act on by id (apply's re-check confirms it); others keep their slot.
  const result = await runScan(ctx, flags, 'actions');
  for (const w of result.warnings) ctx.log.warn(w);
  const partial = partialFailure(result, flags);
  if (partial) throw partial;
  for (const f of result.failures ?? [])
    ctx.log.warn(`partial scan: ${f.provider} ${f.account} could not be read: ${f.reason}`);
  return storePlan(store, result, ctx.config, by);
}

export function registerRemediation(program: Command, globals: () => GlobalFlags): void {
  addScanOptions(program.command('plan').description('scan, then store a plan of actions for review (changes nothing)'))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--by <NAME>', 'who is making the plan (default: the OS user)')
    .action(async (flags: ScanFlags & { format: string; by?: string }) => {
      const ctx = buildContext(globals());
      await withStore(ctx, async (store) => {
        const { plan, notes } = await createPlan(ctx, store, flags, operatorName(flags.by));
        for (const n of notes) ctx.log.info(n);
        process.stdout.write(
          flags.format === 'json' ? `${JSON.stringify(planJson(plan), null, 2)}\n` : planText(plan, []),
        );
      });
    });

  for (const decision of ['approve', 'deny'] as const) {
    const cmd = program
      .command(`${decision} <PLAN_ID> [ITEM_ID...]`)
      .description(
        decision === 'approve' ? 'approve plan items for apply' : 'deny plan items (optionally snooze the identity)',
      )
      .option('--all', `${decision} every pending item of the plan`)
      .option('--by <NAME>', 'who decides (default: the OS user)')
      .option('--reason <TEXT>', 'why, for the audit trail');
    if (decision === 'deny') cmd.option('--snooze <DAYS>', 'keep these identities out of plans for DAYS days');
    cmd.action(
      async (
        planId: string,
        items: string[],
        flags: { all?: boolean; by?: string; reason?: string; snooze?: string },
      ) => {
        const ctx = buildContext(globals());
        const snoozeDays = flags.snooze !== undefined ? parseIntFlag('--snooze', flags.snooze, 1, 3650) : undefined;
        const noPlan = (noStore: string) => {
          throw new UsageError(`plan ${planId} not found: ${noStore}`);
        };
        await withExistingStore(ctx, noPlan, async (store) => {
          const result = await decide(store, {
            planId,
            items,
            all: Boolean(flags.all),
            decision,
            by: operatorName(flags.by),
            reason: flags.reason ?? null,
            channel: 'cli',
            ...(snoozeDays !== undefined ? { snoozeDays } : {}),
          });
          const verb = decision === 'approve' ? 'approved' : 'denied';
          for (const i of result.changed) process.stdout.write(`${verb}: ${i.seq}. ${i.sentence}\n`);
          for (const u of result.unchanged)
            process.stdout.write(`unchanged: ${u.item.seq}. ${u.item.sentence} (${u.why})\n`);
        });
      },
    );
  }

  program
    .command('apply <PLAN_ID>')
    .description('carry out approved items: re-check live, back up, then act')
    .option('--dry-run', 'show what would be done, change nothing')
    .option('--max-actions <N>', 'refuse the run if more than N actions are due (default remediation.maxActionsPerRun)')
    .option('--yes', 'approve every pending item in your name first (recorded as an approval)')
    .option('--by <NAME>', 'who is applying (default: the OS user)')
    .action(async (planId: string, flags: { dryRun?: boolean; maxActions?: string; yes?: boolean; by?: string }) => {
      const ctx = buildContext(globals());
      const maxActions =
        flags.maxActions !== undefined ? parseIntFlag('--max-actions', flags.maxActions, 0, 100_000) : undefined;
      const noPlan = (noStore: string) => {
        throw new UsageError(`plan ${planId} not found: ${noStore}`);
      };
      await withExistingStore(ctx, noPlan, async (store) => {
        const plan = await getPlan(store.db, planId);
        if (!plan) throw new UsageError(`plan ${planId} not found; 'dormant history' lists the plans`);
        // Open exactly the providers the plan's items belong to.
        const remediation = await openFor(
          ctx,
          plan.items.map((i) => i.provider),
        );
        try {
          const report = await apply(
            store,
            remediation.sessions.map((s) => s.remediation),
            {
              planId,
              config: ctx.config,
              dryRun: Boolean(flags.dryRun),
              ...(maxActions !== undefined ? { maxActions } : {}),
              by: operatorName(flags.by),
              yes: Boolean(flags.yes),
              onEvent: (line) => process.stdout.write(`${line}\n`),
            },
          );
          for (const n of report.notDue) process.stdout.write(`waiting: ${n.item.sentence}: ${n.reason}\n`);
          const s = report.dryRun
            ? `dry run: ${report.wouldDo.length} would be done, ${report.skipped.length} would be skipped`
            : `${report.done.length} done, ${report.skipped.length} skipped, ${report.failed.length} failed, ${report.notDue.length} waiting`;
          process.stdout.write(`${s}\n`);
          if (report.failed.length > 0) process.exitCode = EXIT.cloud;
        } finally {
          remediation.close();
        }
      });
    });

  program
    .command('restore <USER_NAME_OR_BACKUP_ID>')
    .description('rebuild a disabled or deleted user from its backup')
    .option(
      '--with-password',
      'recreate the console password from DORMANT_RESTORE_PASSWORD (reset required at sign-in)',
    )
    .option('--by <NAME>', 'who is restoring (default: the OS user)')
    .action(async (target: string, flags: { withPassword?: boolean; by?: string }) => {
      const ctx = buildContext(globals());
      let temporaryPassword: string | undefined;
      if (flags.withPassword) {
        temporaryPassword = process.env.DORMANT_RESTORE_PASSWORD;
        if (!temporaryPassword) {
          throw new UsageError(
            '--with-password needs the temporary password in DORMANT_RESTORE_PASSWORD (it is never read from flags or logged)',
          );
        }
      }
      const noBackup = (noStore: string) => {
        throw new UsageError(`no backup found for '${target}': ${noStore}`);
      };
      await withExistingStore(ctx, noBackup, async (store) => {
        const found = await findBackup(store, target);
        const remediation = await openFor(ctx, [found.provider]);
        try {
          const { backup, report } = await restore(
            store,
            remediation.sessions.map((s) => s.remediation),
            found.id,
            {
              by: operatorName(flags.by),
              ...(temporaryPassword ? { temporaryPassword } : {}),
            },
          );
          process.stdout.write(
            `Restored ${backup.identityName} from backup ${backup.id} (taken ${backup.createdAt})\n`,
          );
          for (const r of report.restored) process.stdout.write(`  restored: ${r}\n`);
          for (const c of report.cannotRestore) process.stdout.write(`  cannot restore: ${c}\n`);
          for (const w of report.warnings) ctx.log.warn(w);
        } finally {
          remediation.close();
        }
      });
    });

  program
    .command('history')
    .description('what was planned, approved, done, skipped and failed, by whom and when')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (flags: { format: string }) => {
      const ctx = buildContext(globals());
      const empty = (noStore: string) => {
        // Nothing was ever planned here: the empty history, and in a table, why.
        if (flags.format === 'json') process.stdout.write(`${JSON.stringify({ plans: [], events: [] }, null, 2)}\n`);
        else process.stdout.write(`No plans yet: ${noStore}.\n`);
      };
      await withExistingStore(ctx, empty, async (store) => {
        const doc = await history(store);
        if (flags.format === 'json') {
          process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
          return;
        }
        if (doc.plans.length === 0) process.stdout.write('No plans yet. Run: dormant plan\n');
        for (const p of doc.plans) {
          process.stdout.write(`Plan ${p.id} (${p.createdAt}, by ${p.createdBy})\n`);
          for (const i of p.items) {
            const who = i.decidedBy ? `, decided by ${i.decidedBy} at ${i.decidedAt}` : '';
            process.stdout.write(
              `  ${String(i.seq).padStart(3)}. ${i.sentence} — ${i.status}${who}${i.reason ? `: ${i.reason}` : ''}\n`,
            );
          }
        }
        const restores = doc.events.filter((e) => e.kind.startsWith('restore.done'));
        for (const r of restores)
          process.stdout.write(`Restore at ${r.at} by ${r.actor}: ${JSON.stringify(r.detail)}\n`);
      });
    });
}
