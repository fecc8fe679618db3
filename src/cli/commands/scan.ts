/** `dormant scan`: read-only; prints findings in the chosen format and sets the exit code. */
import { Option, type Command } from 'commander';
import { UsageError, EXIT, type CloudError } from '../../errors.js';
import { SEVERITY_ORDER, type ScanResult, type Severity } from '../../model/finding.js';
import { partialScanError, type ResolveKeys, scan } from '../../engine/scan.js';
import { scanOrganization } from '../../engine/org-scan.js';
import { mergeScans } from '../../engine/scan-merge.js';
import { orgProgress } from '../org-progress.js';
import type { AccountRunner } from '../../engine/org-scan.js';
import { Store, newId, parseStoreUrl } from '../../store/store.js';
import { queueRunner } from '../../workflow/org-queue/coordinator.js';
import { FORMATS, type Format, renderChunks } from '../../report/render.js';
import { type CommandContext, buildContext, endProgress, parseIntFlag, type GlobalFlags } from '../context.js';
import { openForScan } from '../sessions.js';
import { writeOutput } from '../writeOutput.js';

export interface ScanFlags {
  days?: string;
  source?: string;
  fromReport?: string;
  format?: string;
  output?: string;
  failOn?: string;
  asOf?: string;
  allowPartial?: boolean;
  /** Resolve every key named by report slot to its id (one ListAccessKeys per such user). */
  keyIds?: boolean;
  /** --org only: share the accounts with `dormant worker` processes through the PostgreSQL queue. */
  workers?: boolean;
  /** --workers: resume this run (its stored outcomes are kept; only missing accounts are queued). */
  runId?: string;
}

export function addScanOptions(cmd: Command): Command {
  return cmd
    .option('--days <N>', 'inactivity window in days (default: inactiveDays from the config, 90)')
    .addOption(new Option('--source <source>', 'where the inventory comes from').choices(['auto', 'report', 'api']))
    .option('--from-report <FILE>', 'read an exported credential report instead of AWS (no network)')
    .option('--as-of <ISO-TIME>', 'evaluate as if it were this time (audits of an old report); default now')
    .option('--allow-partial', 'accept a scan in which some accounts or projects could not be read (a warning each)')
    .option('--key-ids', 'name access keys by id, not by report slot (one extra IAM call per user with a key finding)')
    .option('--workers', "with --org: share the accounts with 'dormant worker' processes (PostgreSQL store)")
    .option('--run-id <ID>', 'with --workers: resume this run; its finished accounts are not scanned again');
}

/**
 * A scan that could not read some accounts is partial: with --allow-partial each failure is a
 * warning; without it the caller exits 3 (scan prints the document first, plan stores nothing).
 */
export function partialFailure(result: ScanResult, flags: ScanFlags): CloudError | null {
  return partialScanError(result, Boolean(flags.allowPartial), 'pass --allow-partial');
}

export function parseAsOf(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new UsageError(`--as-of must be an ISO 8601 time such as 2026-11-22T12:00:00Z, got '${value}'`);
  }
  return new Date(ms);
}

/**
 * `--workers`: the queue runner on the PostgreSQL store, or null to scan in this process (no
 * --workers, or SQLite: then a note says workers need PostgreSQL).
 */
async function queueFor(
  ctx: CommandContext,
  flags: ScanFlags,
  provider: string,
  now: Date,
  resolveKeys: ResolveKeys,
): Promise<{ runner: AccountRunner; close(): Promise<void> } | null> {
  if (!flags.workers) {
    if (flags.runId !== undefined) throw new UsageError('--run-id resumes a run shared with workers; add --workers');
    return null;
  }
  const url = ctx.config.store.url;
  if (parseStoreUrl(url).engine !== 'postgres') {
    ctx.log.warn(
      '--workers needs the PostgreSQL store (store.url or --db postgres://…); scanning the accounts in this process',
    );
    return null;
  }
  if (flags.runId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(flags.runId)) {
    throw new UsageError(
      `--run-id must be a run id printed by an earlier run (letters, digits, - and _), got '${flags.runId}'`,
    );
  }
  const store = await Store.open(url);
  const runId = flags.runId ?? newId('run');
  const runner = queueRunner({
    store,
    url,
    runId,
    settings: {
      provider,
      inactiveDays: ctx.config.inactiveDays,
      asOf: now.toISOString(),
      source: flags.source ?? null,
      resolveKeys,
    },
    timing: ctx.config.aws.organization,
    log: ctx.log,
  });
  return { runner, close: () => store.close() };
}

/** Run a scan with the shared scan flags; used by scan, plan and demo. */
export async function runScan(
  ctx: CommandContext,
  flags: ScanFlags,
  resolveKeys: ResolveKeys = flags.keyIds ? 'all' : 'none',
): Promise<ScanResult> {
  if (flags.days !== undefined) ctx.config.inactiveDays = parseIntFlag('--days', flags.days, 1, 3650);
  if (ctx.flags.org && flags.fromReport !== undefined) {
    throw new UsageError('--from-report reads one exported credential report; it cannot be combined with --org');
  }
  const now = parseAsOf(flags.asOf);
  const open = await openForScan(ctx, flags);
  try {
    if ((flags.workers || flags.runId !== undefined) && open.organizations.length === 0) {
      throw new UsageError(
        '--workers and --run-id share the accounts of an --org run; add --org (or set aws.organization.enabled)',
      );
    }
    const documents: ScanResult[] = [];
    if (open.sessions.length > 0) {
      documents.push(
        await scan(
          open.sessions.map((s) => s.scanner),
          { config: ctx.config, now, resolveKeys },
        ),
      );
    }
    for (const org of open.organizations) {
      const progress = orgProgress({
        tty: Boolean(process.stderr.isTTY),
        quiet: Boolean(ctx.flags.quiet),
        log: ctx.log,
      });
      const queue = await queueFor(ctx, flags, org.provider, now, resolveKeys);
      let result: ScanResult;
      try {
        result = await scanOrganization(org, {
          config: ctx.config,
          now,
          resolveKeys,
          ...(progress ? { progress } : {}),
          ...(queue ? { runner: queue.runner } : {}),
        });
      } finally {
        await queue?.close();
      }
      for (const s of result.skipped ?? []) ctx.log.info(`skipped ${s.provider} ${s.account}: ${s.reason}`);
      documents.push(result);
    }
    for (const calls of open.calls()) ctx.log.debug(calls);
    return documents.length === 1
      ? documents[0]!
      : mergeScans({ documents, inactiveDays: ctx.config.inactiveDays, now });
  } finally {
    endProgress(ctx);
    open.close();
  }
}

export function defaultFormat(ctx: CommandContext, output: string | undefined): Format {
  if (output && output !== '-') {
    if (output.endsWith('.json')) return 'json';
    if (output.endsWith('.csv')) return 'csv';
    if (output.endsWith('.md')) return 'markdown';
    return 'table';
  }
  return ctx.stdoutIsTTY ? 'table' : 'json';
}

export function exitCodeFor(result: ScanResult, failOn: string | undefined): number {
  if (failOn === undefined) return EXIT.ok;
  const threshold = SEVERITY_ORDER[failOn as Severity];
  return result.findings.some((f) => SEVERITY_ORDER[f.severity] >= threshold) ? EXIT.findings : EXIT.ok;
}

export function registerScan(program: Command, globals: () => GlobalFlags): void {
  addScanOptions(program.command('scan').description('find inactive identities and unused credentials (read-only)'))
    .addOption(
      new Option('--format <format>', 'output format (default: table on a terminal, else json)').choices(FORMATS),
    )
    .option('--output <FILE>', 'write the report to FILE (atomically) instead of stdout')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity').choices([
        'low',
        'medium',
        'high',
      ]),
    )
    .action(async (flags: ScanFlags) => {
      const ctx = buildContext(globals());
      const result = await runScan(ctx, flags);
      for (const w of result.warnings) ctx.log.warn(w);
      if (flags.allowPartial)
        for (const f of result.failures ?? [])
          ctx.log.warn(`partial scan: ${f.provider} ${f.account} could not be read: ${f.reason}`);
      const format = (flags.format as Format | undefined) ?? defaultFormat(ctx, flags.output);
      const color = format === 'table' && ctx.stdoutIsTTY && !flags.output && !process.env.NO_COLOR;
      writeOutput(
        renderChunks(result, format, { color, config: ctx.config, region: ctx.config.aws.region }),
        flags.output,
      );
      const partial = partialFailure(result, flags);
      if (partial) throw partial;
      process.exitCode = exitCodeFor(result, flags.failOn);
    });
}
