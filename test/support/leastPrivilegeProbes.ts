// The probes of the least-privilege tests (test/aws-least-privilege.test.ts): each runs one
// command as a principal and says what it saw, and the preparations some need first (a
// kitchen-sink user or role, planned; or already retired with the full policy, for a restore).
// Probes named -cli run the built CLI; the others the same registry sessions and engine calls,
// in this process, to keep the loop fast.
import { DeleteInstanceProfileCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { Evidence } from '../../src/model/evidence.js';
import type { ScanResult } from '../../src/model/finding.js';
import type { CliExit } from './cli.js';
import type { InProcess, RoleSink, Sink, World } from './leastPrivilege.js';
import type { MotoServer } from './moto.js';
import type { Principal } from './motoEnforced.js';

export type Probe =
  | 'scan-report'
  | 'scan-api'
  | 'scan-auto'
  | 'scan-cli'
  | 'plan-cli'
  | 'apply'
  | 'apply-cli'
  | 'restore-deleted'
  | 'restore-deleted-cli'
  | 'restore-disabled'
  | 'apply-role'
  | 'restore-role-deleted'
  | 'restore-role-disabled'
  | 'evidence'
  | 'export-cli';

export interface Ctx {
  action: string;
  probe: Probe;
  run: InProcess;
  principal: Principal;
  dormant(principal: Principal, args: string[], env?: Record<string, string>): Promise<CliExit>;
  sink(prefix?: string): Promise<Sink>;
  roleSink(prefix?: string): Promise<RoleSink>;
  admin: IAMClient;
  moto: MotoServer;
  world: World;
  password: string;
}

/** What a probe saw: a failure (its message, or the CLI's exit) or a result with its warnings. */
export interface Observed {
  ok: boolean;
  /** The failure: an error's message, the failed items' reasons, or the CLI's stderr and stdout. */
  message: string;
  warnings: string[];
  cli?: CliExit;
  scan?: ScanResult;
  evidence?: Evidence;
}

export interface Prepared {
  sink?: Sink;
  role?: RoleSink;
  planId?: string;
}

// ---------------------------------------------------------------- preparations

async function planned(ctx: Ctx, only?: (action: string) => boolean): Promise<Prepared> {
  const sink = await ctx.sink();
  const plan = await ctx.run.plan('dormant-admin', [sink.name], only);
  return { sink, planId: plan.id };
}

/** A sink disabled (and, unless `disableOnly`, deleted) by the full remediate policy, for a restore. */
async function retired(ctx: Ctx, disableOnly: boolean): Promise<Prepared> {
  const prepared = await planned(ctx, disableOnly ? (a) => a === 'disable-user' : undefined);
  const report = await ctx.run.apply('dormant-remediator', prepared.planId!);
  if (report.failed.length > 0 || report.done.length === 0) {
    throw new Error(`could not retire ${prepared.sink!.name}: ${report.failed.map((f) => f.reason).join('; ')}`);
  }
  return prepared;
}

async function plannedRole(ctx: Ctx, only?: (action: string) => boolean): Promise<Prepared> {
  const role = await ctx.roleSink();
  const plan = await ctx.run.plan('dormant-admin', [role.name], only);
  return { role, planId: plan.id };
}

/** A role quarantined (and, unless `disableOnly`, deleted) by the full remediate policy. */
async function retiredRole(ctx: Ctx, disableOnly: boolean, dropProfile = false): Promise<Prepared> {
  const prepared = await plannedRole(ctx, disableOnly ? (a) => a === 'disable-user' : undefined);
  const report = await ctx.run.apply('dormant-remediator', prepared.planId!);
  if (report.failed.length > 0 || report.done.length === 0) {
    throw new Error(`could not retire ${prepared.role!.name}: ${report.failed.map((f) => f.reason).join('; ')}`);
  }
  // Someone deleted the (empty) instance profile meanwhile: restore must create it again.
  if (dropProfile)
    await ctx.admin.send(new DeleteInstanceProfileCommand({ InstanceProfileName: prepared.role!.profile }));
  return prepared;
}

export const forApply = (ctx: Ctx) => planned(ctx);
export const forRoleApply = (ctx: Ctx) => plannedRole(ctx);
export const forRoleRestoreDeleted = (ctx: Ctx) => retiredRole(ctx, false);
export const forRoleRestoreNoProfile = (ctx: Ctx) => retiredRole(ctx, false, true);
export const forRoleRestoreDisabled = (ctx: Ctx) => retiredRole(ctx, true);
export const forRestoreDeleted = (ctx: Ctx) => retired(ctx, false);
export const forRestoreDisabled = (ctx: Ctx) => retired(ctx, true);

// ---------------------------------------------------------------- probes

async function caught(fn: () => Promise<Partial<Observed>>): Promise<Observed> {
  try {
    return { ok: true, message: '', warnings: [], ...(await fn()) };
  } catch (err) {
    return { ok: false, message: (err as Error).message, warnings: [] };
  }
}

function fromCli(cli: CliExit): Observed {
  return { ok: cli.code === 0, message: `${cli.stderr}${cli.stdout}`, warnings: [], cli };
}

export async function observe(ctx: Ctx, prepared: Prepared = {}): Promise<Observed> {
  const { run, principal } = ctx;
  const profile = principal.name;
  const scanWith = (source: 'auto' | 'report' | 'api') =>
    caught(async () => {
      const scan = await run.scan(profile, source);
      return { scan, warnings: scan.warnings };
    });
  switch (ctx.probe) {
    case 'scan-report':
      return scanWith('report');
    case 'scan-api':
      return scanWith('api');
    case 'scan-auto':
      return scanWith('auto');
    case 'scan-cli':
      return fromCli(await ctx.dormant(principal, ['scan', '--source', 'report', '--format', 'json']));
    case 'plan-cli':
      return fromCli(await ctx.dormant(principal, ['plan', '--source', 'report', '--format', 'json']));
    case 'apply':
      return caught(async () => {
        const report = await run.apply(profile, prepared.planId!);
        if (report.failed.length > 0) throw new Error(report.failed.map((f) => f.reason).join('; '));
        return {};
      });
    case 'apply-cli':
      return fromCli(await ctx.dormant(principal, ['apply', prepared.planId!]));
    case 'restore-deleted':
      return caught(async () => {
        const { report } = await run.restore(profile, prepared.sink!.name, ctx.password);
        return { warnings: report.warnings };
      });
    case 'restore-deleted-cli':
      return fromCli(
        await ctx.dormant(principal, ['restore', prepared.sink!.name, '--with-password'], {
          DORMANT_RESTORE_PASSWORD: ctx.password,
        }),
      );
    case 'restore-disabled':
      return caught(async () => {
        const { report } = await run.restore(profile, prepared.sink!.name);
        return { warnings: report.warnings };
      });
    case 'apply-role':
      return caught(async () => {
        const report = await run.apply(profile, prepared.planId!);
        if (report.failed.length > 0) throw new Error(report.failed.map((f) => f.reason).join('; '));
        return {};
      });
    case 'restore-role-deleted':
    case 'restore-role-disabled':
      return caught(async () => {
        const { report } = await run.restore(profile, prepared.role!.name);
        return { warnings: report.warnings };
      });
    case 'evidence':
      return caught(async () => ({
        evidence: await run.evidence(profile, {
          name: 'stale-kim',
          arn: 'arn:aws:iam::123456789012:user/stale-kim',
        }),
      }));
    case 'export-cli':
      return fromCli(await ctx.dormant(principal, ['export', 'securityhub', '--source', 'report', '--quiet']));
  }
}
