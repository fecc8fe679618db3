/**
 * `dormant demo`: the whole flow on shipped example data, no cloud account needed. First one
 * scan of examples/credential-report.csv (an AWS account), examples/entra/tenant.json (an
 * Entra tenant) and examples/google/tenant.json (a Google Workspace customer and two Cloud
 * projects), then the same identities in simulated in-memory clouds: plan → approve/deny →
 * apply → restore, on a throwaway SQLite store. Nothing leaves the machine. With --ui, the
 * dashboard then serves that store on 127.0.0.1 (like `dormant ui`) until Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { apply } from '../../engine/apply.js';
import { decide } from '../../engine/decide.js';
import { storePlan } from '../../engine/storePlan.js';
import { restore } from '../../engine/restore.js';
import { scan } from '../../engine/scan.js';
import { UsageError } from '../../errors.js';
import { parseCredentialReport } from '../../providers/aws/aws-credential-report.js';
import { openDemoEntra } from '../../providers/entra/entra-memory.js';
import { openDemoGoogle } from '../../providers/google/memory/google-tenant-file.js';
import { FileProvider } from '../../providers/file/file-provider.js';
import { MemoryAccount } from '../../providers/memory/memory-provider.js';
import { renderTable } from '../../report/table.js';
import { Store } from '../../store/store.js';
import { buildContext, parseIntFlag, type GlobalFlags } from '../context.js';
import { operatorName } from '../operator.js';
import { planText } from './remediate.js';
import { runLocalDashboard } from './ui.js';
import { readFileSync } from 'node:fs';

/** The shipped example data sits beside dist/ and src/ (both are two levels below the root). */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/', import.meta.url));
/** The demo report is evaluated as of this instant, so its verdicts never drift with the calendar. */
export const DEMO_AS_OF = '2026-11-22T12:00:00Z';

export function registerDemo(program: Command, globals: () => GlobalFlags): void {
  program
    .command('demo')
    .description('run the whole flow on shipped example data (no cloud account needed)')
    .option('--ui', "then serve the demo's store in the dashboard on 127.0.0.1, like dormant ui")
    .option('--port <PORT>', 'with --ui: port on 127.0.0.1 (default: any free port)')
    .action(async (flags: { ui?: boolean; port?: string }) => {
      const out = (s = '') => process.stdout.write(`${s}\n`);
      if (flags.port !== undefined && !flags.ui) throw new UsageError('--port goes with --ui');
      const port = flags.port === undefined ? 0 : parseIntFlag('--port', flags.port, 0, 65535);
      const ctx = buildContext({ ...globals(), config: `${EXAMPLES_DIR}dormant.yml` });
      const reportPath = `${EXAMPLES_DIR}credential-report.csv`;
      const tenantPath = `${EXAMPLES_DIR}entra/tenant.json`;
      const googlePath = `${EXAMPLES_DIR}google/tenant.json`;
      const now = new Date(DEMO_AS_OF);
      // The demo tenant is read with the demo's config (exemptions, window) and its own tenant id.
      const entraScan = await openDemoEntra(tenantPath, { config: ctx.config });
      const googleScan = openDemoGoogle(googlePath, { config: ctx.config });
      const result = await scan([new FileProvider(reportPath), entraScan.scanner, googleScan.scanner], {
        config: googleScan.config,
        now,
      });
      const color = ctx.stdoutIsTTY && !process.env.NO_COLOR;
      const count = (p: string) => result.identities.filter((i) => i.provider === p).length;
      out(
        `dormant demo — 1. scan: examples/credential-report.csv (AWS, ${count('aws')} users), examples/entra/tenant.json (Entra ID, ${count('entra')} users) and examples/google/tenant.json (Google, ${count('google')} users and service accounts) as of ${DEMO_AS_OF}`,
      );
      out();
      process.stdout.write(renderTable(result, { color }));

      out();
      out(
        'dormant demo — 2. retire safely, in a simulated AWS account, Entra tenant and Google tenant (in memory: no cloud is called)',
      );
      const config = googleScan.config;
      config.remediation.deleteAfterDays = 0; // so the demo shows the delete and the restore at once
      // The demo's Google project has 5 service accounts: one action there is 20% of that account.
      config.remediation.maxActionsPercent = Math.max(config.remediation.maxActionsPercent, 25);
      const parsed = parseCredentialReport(readFileSync(reportPath, 'utf8'), reportPath);
      const account = MemoryAccount.fromIdentities(parsed.accounts[0] ?? '123456789012', parsed.identities);
      account.settings = { disableUser: config.remediation.disableUser };
      const tenant = await openDemoEntra(tenantPath, { config });
      const google = openDemoGoogle(googlePath, { config });
      const dir = mkdtempSync(join(tmpdir(), 'dormant-demo-'));
      const store = await Store.open(join(dir, 'state.db'));
      try {
        const live = await scan([account, tenant.scanner, google.scanner], { config, now });
        const { plan, notes } = await storePlan(store, live, config, 'demo', now);
        out(`$ dormant plan`);
        process.stdout.write(planText(plan, notes));

        const pick = (name: string) => plan.items.filter((i) => i.identityName === name).map((i) => String(i.seq));
        const approveSeqs = [
          ...pick('quinn.foster'),
          ...pick('peter.walsh').slice(0, 1),
          ...pick('bob.kelly@contoso.com'),
          ...pick('ben.ortiz@example.com'),
          ...pick('ci-deployer@acme-prod.iam.gserviceaccount.com'),
        ];
        const denySeqs = pick('sofia.garcia');
        out();
        out(`$ dormant approve ${plan.id} ${approveSeqs.join(' ')} --by alice --reason "left the company"`);
        const approved = await decide(store, {
          planId: plan.id,
          items: approveSeqs,
          all: false,
          decision: 'approve',
          by: 'alice',
          reason: 'left the company',
          channel: 'cli',
          now,
        });
        for (const i of approved.changed) out(`approved: ${i.seq}. ${i.sentence}`);
        if (denySeqs.length > 0) {
          out(`$ dormant deny ${plan.id} ${denySeqs.join(' ')} --by alice --snooze 30 --reason "rotation scheduled"`);
          const denied = await decide(store, {
            planId: plan.id,
            items: denySeqs,
            all: false,
            decision: 'deny',
            by: 'alice',
            reason: 'rotation scheduled',
            channel: 'cli',
            snoozeDays: 30,
            now,
          });
          for (const i of denied.changed) out(`denied: ${i.seq}. ${i.sentence} (snoozed 30 days)`);
        }

        out();
        out(`$ dormant apply ${plan.id}`);
        const report = await apply(store, [account, tenant.remediation, google.remediation], {
          planId: plan.id,
          config,
          by: 'alice',
          now: () => now,
          onEvent: (l) => out(l),
        });
        out(
          `${report.done.length} done, ${report.skipped.length} skipped, ${report.failed.length} failed, ${report.notDue.length} waiting (each change was re-checked, backed up and journaled first)`,
        );
        for (const w of report.notDue) out(`waiting: ${w.item.sentence}: ${w.reason}`);

        // A Google key's delete waits 3 days after its disable (Policy Analyzer reports uses up to 2 days late).
        const later = new Date(now.getTime() + 3 * 24 * 3600 * 1000);
        out();
        out(`$ dormant apply ${plan.id}        # 3 days later`);
        const second = await apply(store, [account, tenant.remediation, google.remediation], {
          planId: plan.id,
          config,
          by: 'alice',
          now: () => later,
          onEvent: (l) => out(l),
        });
        report.done.push(...second.done);
        out(`${second.done.length} done, ${second.skipped.length} skipped, ${second.failed.length} failed`);

        // One restore per provider: an IAM user rebuilt from its backup, an Entra user brought back
        // from deletedItems, a Workspace user undeleted.
        const deleted = [
          ...['aws', 'entra', 'google'].flatMap((p) =>
            report.done.filter((i) => i.action === 'delete-user' && i.provider === p).slice(0, 1),
          ),
          // And a service account whose key was deleted: restore says plainly that a key cannot come back.
          ...report.done.filter((i) => i.action === 'delete-key').slice(0, 1),
        ];
        for (const d of deleted) {
          out();
          out(`$ dormant restore ${d.identityName}`);
          const { backup, report: r } = await restore(
            store,
            [account, tenant.remediation, google.remediation],
            d.identityName,
            {
              by: 'alice',
            },
          );
          out(`Restored ${backup.identityName} from backup ${backup.id}`);
          for (const s of r.restored) out(`  restored: ${s}`);
          for (const s of r.cannotRestore) out(`  cannot restore: ${s}`);
        }

        if (flags.ui) {
          out();
          out('dormant demo — 3. the dashboard, on this demo store (Ctrl-C stops it and removes the store)');
          const clouds = [account, tenant.remediation, google.remediation];
          await runLocalDashboard({
            store,
            now: () => later,
            restore: async (backupId, by) => (await restore(store, clouds, backupId, { by })).report,
            port,
            name: operatorName(),
            log: { info: (l) => ctx.log.info(l), warn: (l) => ctx.log.warn(l), error: (l) => ctx.log.error(l) },
            out,
          });
          return;
        }
      } finally {
        await store.close();
        tenant.close();
        entraScan.close();
        google.close();
        googleScan.close();
        rmSync(dir, { recursive: true, force: true });
      }
      out();
      out('Next:');
      out('  dormant scan --from-report FILE.csv          # your own exported credential report, no AWS access');
      out('  dormant scan --profile PROFILE                # a live account, read-only');
      out('  dormant plan --profile PROFILE                # store a plan for review; then approve, apply');
      out('  dormant scan --provider entra                 # an Entra ID tenant (entra: in dormant.yml), read-only');
      out('  dormant permissions --mode scan               # the IAM policy a scan needs (--mode remediate for apply)');
      out('  dormant permissions --provider entra          # the Graph application permissions');
      out(
        '  dormant scan --provider google                # Google Workspace and Cloud (google: in dormant.yml), read-only',
      );
    });
}
