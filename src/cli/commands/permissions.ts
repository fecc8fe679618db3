/** `dormant permissions`: the least-privilege IAM policy a mode needs, as JSON. */
import { Option, type Command } from 'commander';

/** Every IAM call a scan can make (report source, API source and enrichment). */
export const SCAN_ACTIONS = [
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'iam:ListUsers',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'iam:GetLoginProfile',
  'iam:ListUserTags',
] as const;

/** sts:GetCallerIdentity needs no permission; it tells dormant which user it runs as. */
export function policyFor(mode: 'scan'): object {
  void mode;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DormantScanReadOnly',
        Effect: 'Allow',
        Action: [...SCAN_ACTIONS],
        Resource: '*',
      },
    ],
  };
}

export function registerPermissions(program: Command): void {
  program
    .command('permissions')
    .description('print the least-privilege IAM policy dormant needs')
    .addOption(new Option('--mode <mode>', 'what the policy must allow').choices(['scan']).default('scan'))
    .action((flags: { mode: 'scan' }) => {
      process.stdout.write(`${JSON.stringify(policyFor(flags.mode), null, 2)}\n`);
    });
}
