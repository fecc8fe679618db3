/**
 * `dormant export securityhub`: scans (the scan flags), sends the findings to AWS Security Hub as
 * ASFF with BatchImportFindings under the account's custom integration (or --product-arn), and
 * archives the findings it sent before that no longer hold. One summary line on stdout; findings
 * Security Hub still refused after the retries are named in one error line (exit 3).
 */
import type { Command } from 'commander';
import { CloudError, UsageError } from '../../errors.js';
import type { ScanResult } from '../../model/finding.js';
import { type CommandContext, buildContext, type GlobalFlags } from '../context.js';
import { addScanOptions, partialFailure, runScan, type ScanFlags } from './scan.js';

interface ExportFlags extends ScanFlags {
  productArn?: string;
}

const PRODUCT_ARN = /^arn:(aws[a-z-]*):securityhub:([a-z0-9-]+):(\d{12}):product\/[^/\s]+\/[^/\s]+$/;

interface ProductArn {
  arn: string;
  partition: string;
  region: string;
}

function parseProductArn(value: string, ctx: CommandContext): ProductArn {
  const m = PRODUCT_ARN.exec(value);
  if (!m) {
    throw new UsageError(
      `--product-arn must be a Security Hub product ARN such as arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default, got '${value}'`,
    );
  }
  const region = m[2]!;
  if (ctx.flags.region !== undefined && ctx.flags.region !== region) {
    throw new UsageError(
      `--product-arn is in ${region} but --region says ${ctx.flags.region}; drop one or make them agree`,
    );
  }
  return { arn: value, partition: m[1]!, region };
}

/** The accounts this scan read whole, per provider: only their old findings can be archived. */
function scopeOf(result: ScanResult): { provider: string; account: string }[] {
  const failed = new Set((result.failures ?? []).map((f) => `${f.provider}\n${f.account}`));
  return result.providers.flatMap((p) =>
    p.accounts.filter((a) => !failed.has(`${p.provider}\n${a}`)).map((account) => ({ provider: p.provider, account })),
  );
}

/** "why" of a refused finding, on one line and short. */
function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

async function exportSecurityHub(ctx: CommandContext, flags: ExportFlags): Promise<void> {
  const product = flags.productArn !== undefined ? parseProductArn(flags.productArn, ctx) : null;
  // Security Hub resources are named by key id, so that a finding keeps its resource across runs.
  const result = await runScan(ctx, flags, 'all');
  for (const w of result.warnings) ctx.log.warn(w);
  const partial = partialFailure(result, flags);
  // A partial scan is never sent as a whole one: nothing is exported unless --allow-partial.
  if (partial) throw partial;
  for (const f of result.failures ?? [])
    ctx.log.warn(
      `partial scan: ${f.provider} ${f.account} could not be read (its findings in Security Hub are left as they are): ${f.reason}`,
    );

  const [{ createAwsClients }, { readCaller }, hub, { toAsffFindings, defaultProductArn }] = await Promise.all([
    import('../../providers/aws/aws-client.js'),
    import('../../providers/aws/aws-caller.js'),
    import('../../providers/aws/aws-securityhub.js'),
    import('../../report/asff.js'),
  ]);
  const settings = {
    profile: ctx.config.aws.profile,
    region: product?.region ?? ctx.config.aws.region,
    endpointUrl: ctx.config.aws.endpointUrl,
    maxAttempts: ctx.config.aws.maxAttempts,
    retryMode: ctx.config.aws.retryMode,
    concurrency: ctx.config.aws.concurrency,
  };
  const aws = createAwsClients(settings);
  const client = hub.createSecurityHubClient(settings, settings.region);
  try {
    // Security Hub takes a custom integration's findings only for the account that sends them.
    const caller = await readCaller(aws);
    const partition = product?.partition ?? /^arn:([^:]+):/.exec(caller.arn)?.[1] ?? 'aws';
    const productArn = product?.arn ?? defaultProductArn(partition, settings.region, caller.account);
    const findings = toAsffFindings(result, {
      config: ctx.config,
      region: settings.region,
      partition,
      hubAccount: caller.account,
      productArn,
    });
    const report = await hub.exportFindings(client, findings, {
      productArn,
      region: settings.region,
      settings,
      scope: scopeOf(result),
      unjudged: new Set(
        result.identities
          .filter((i) => i.signIn?.lastUse === 'unknown' || i.credentials.some((c) => c.lastUse === 'unknown'))
          .map((i) => `${i.provider}\n${i.id}`),
      ),
      now: new Date(),
    });
    process.stdout.write(
      `imported ${report.imported}, archived ${report.archived}, failed ${report.failed.length} (Security Hub ${productArn})\n`,
    );
    if (report.failed.length > 0) {
      // One line, however many: the ids grouped by the reason Security Hub gave.
      const byReason = new Map<string, string[]>();
      for (const f of report.failed) {
        const reason = `${f.code}${f.message ? `: ${oneLine(f.message)}` : ''}`;
        byReason.set(reason, [...(byReason.get(reason) ?? []), f.id]);
      }
      const groups = [...byReason].map(([reason, ids]) => `${ids.join(', ')} (${reason})`);
      throw new CloudError(
        `Security Hub refused ${report.failed.length} finding(s) after retries: ${groups.join('; ')}; the others were imported`,
        'PartialImport',
      );
    }
  } finally {
    client.destroy();
    aws.destroy();
  }
}

export function registerExport(program: Command, globals: () => GlobalFlags): void {
  const exportCommand = program
    .command('export')
    .description('send the findings to a tool the security team already runs (securityhub)');
  addScanOptions(
    exportCommand
      .command('securityhub')
      .description(
        'scan, import the findings into AWS Security Hub (ASFF) and archive the ones that no longer hold (--region picks the hub)',
      ),
  )
    .option(
      '--product-arn <ARN>',
      "the Security Hub product to import as (default: the account's custom integration, product/ACCOUNT/default)",
    )
    .action(async (flags: ExportFlags) => {
      await exportSecurityHub(buildContext(globals()), flags);
    });
}
