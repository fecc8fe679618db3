/**
 * `dormant permissions`: what each provider needs for each mode, as JSON: an IAM policy for
 * AWS, Graph application permissions for Entra. One provider prints its document as-is (for
 * AWS, a policy to paste); several print `{provider: document}`.
 */
import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { selectProviders } from '../../providers/registry.js';
import type { GlobalFlags } from '../context.js';

type PermissionMode = 'scan' | 'remediate' | 'export';

export function registerPermissions(program: Command, globals: () => GlobalFlags): void {
  program
    .command('permissions')
    .description('print the least-privilege permissions dormant needs (--provider aws,entra)')
    .addOption(
      new Option('--mode <mode>', 'what the permissions must allow (export: scan plus Security Hub import)')
        .choices(['scan', 'remediate', 'export'])
        .default('scan'),
    )
    .action((flags: { mode: PermissionMode }) => {
      const g = globals();
      const { config } = loadConfig(g.config);
      // --org: the management account's policy and the member role's (policy and trust).
      if (g.org) config.aws.organization.enabled = true;
      // Without --provider, the AWS policy alone, as it always was: it is pasted into IAM.
      const entries = selectProviders(config, g.provider ?? 'aws');
      const docs = entries.map((e) => [e.name, e.permissions(flags.mode, config).document] as const);
      const out = docs.length === 1 ? docs[0]![1] : Object.fromEntries(docs);
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}
