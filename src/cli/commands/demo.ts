/** `dormant demo`: the whole scan on the credential report shipped in examples/, no account needed. */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { renderTable } from '../../report/table.js';
import { buildContext, type GlobalFlags } from '../context.js';
import { runScan } from './scan.js';

/** The shipped example data sits beside dist/ and src/ (both are two levels below the root). */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/', import.meta.url));
/** The demo report is evaluated as of this instant, so its verdicts never drift with the calendar. */
export const DEMO_AS_OF = '2026-11-22T12:00:00Z';

export function registerDemo(program: Command, globals: () => GlobalFlags): void {
  program
    .command('demo')
    .description('run a scan on shipped example data (no cloud account needed)')
    .action(async () => {
      const ctx = buildContext({ ...globals(), config: `${EXAMPLES_DIR}dormant.yml` });
      const result = await runScan(ctx, { fromReport: `${EXAMPLES_DIR}credential-report.csv`, asOf: DEMO_AS_OF });
      const color = ctx.stdoutIsTTY && !process.env.NO_COLOR;
      process.stdout.write(
        `dormant demo: scanning examples/credential-report.csv (${result.summary.identities} users) as of ${DEMO_AS_OF}\n\n`,
      );
      process.stdout.write(renderTable(result, { color }));
      process.stdout.write(
        [
          '',
          'Next:',
          '  dormant scan --from-report FILE.csv         # your own exported credential report, no AWS access',
          '  dormant scan --profile PROFILE               # a live account, read-only',
          '  dormant scan --format json --output out.json # the machine-readable document',
          '  dormant permissions --mode scan              # the IAM policy a scan needs',
          '',
        ].join('\n'),
      );
    });
}
