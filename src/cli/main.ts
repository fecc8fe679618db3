#!/usr/bin/env node
/**
 * The `dormant` command line. Commands only parse flags and call the engine; every error
 * becomes one line on stderr and the documented exit code (README "Exit codes").
 */
import { Command, CommanderError } from 'commander';
import { DormantError, EXIT } from '../errors.js';
import type { GlobalFlags } from './context.js';

// dormant supports Node >= 20.19 and pins an SDK line that does (README "Design notes");
// the SDK's advisory about its future releases is noise on every run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Unexpected failures (bugs) exit with 70 (EX_SOFTWARE), distinct from every documented code. */
export const EXIT_INTERNAL = 70;

type Registrar = (program: Command, globals: () => GlobalFlags) => void;

/**
 * Commands are loaded on demand: a scan should not pay for Slack, Jira, PostgreSQL and the
 * HTTP server in memory and start-up time. Help and unknown commands load them all.
 */
const MODULES: Record<string, () => Promise<Registrar>> = {
  scan: async () => (await import('./commands/scan.js')).registerScan,
  remediate: async () => (await import('./commands/remediate.js')).registerRemediation,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  permissions: async () => (await import('./commands/permissions.js')).registerPermissions,
  export: async () => (await import('./commands/export.js')).registerExport,
  ui: async () => (await import('./commands/ui.js')).registerUi,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
};

const COMMAND_MODULE: Record<string, string> = {
  scan: 'scan',
  plan: 'remediate',
  approve: 'remediate',
  deny: 'remediate',
  apply: 'remediate',
  restore: 'remediate',
  history: 'remediate',
  serve: 'serve',
  demo: 'demo',
  permissions: 'permissions',
  export: 'export',
  ui: 'ui',
  worker: 'worker',
};

const GLOBAL_VALUE_FLAGS = new Set(['--config', '--profile', '--region', '--endpoint-url', '--db', '--provider']);

/** The command word in argv, skipping global flags and their values. */
export function commandWord(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_VALUE_FLAGS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return arg;
  }
  return undefined;
}

/** Commander's error message as one line: `unknown command 'scann'; did you mean scan?`. */
function oneLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\s*\(Did you mean (.*?)\?\)/g, '; did you mean $1?')
    .replace(/\s*\n\s*/g, ' ');
}

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command('dormant')
    .description('Find cloud identities nobody uses any more and retire them safely.')
    .version('0.1.0')
    .option('--config <FILE>', 'config file (default: ./dormant.yml if present)')
    .option('--profile <PROFILE>', 'AWS profile (default: the SDK credential chain)')
    .option('--region <REGION>', 'AWS region for API calls (default us-east-1)')
    .option('--endpoint-url <URL>', 'custom AWS endpoint (also AWS_ENDPOINT_URL)')
    .option('--db <PATH|URL>', 'state store: a SQLite path or postgres:// URL')
    .option(
      '--provider <LIST>',
      'providers to scan, comma-separated: aws,entra (default: aws plus those enabled in the config)',
    )
    .option(
      '--org',
      'every account of the AWS Organization, through aws.organization.roleName (as aws.organization.enabled)',
    )
    .option('--quiet', 'only errors on stderr')
    .option('--verbose', 'debug lines and stack traces on stderr')
    .configureOutput({
      // One line, like every other error (README "Exit codes"): commander puts its
      // "(Did you mean …?)" for a mistyped command or option on a line of its own.
      outputError: (message, write) => write(`dormant: ${oneLine(message)} (run dormant --help for usage)\n`),
    })
    .exitOverride();
  const globals = (): GlobalFlags => program.opts<GlobalFlags>();
  const word = commandWord(argv);
  const only = word !== undefined ? COMMAND_MODULE[word] : undefined;
  const names = only ? [only] : Object.keys(MODULES);
  for (const name of names) (await MODULES[name]!())(program, globals);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof DormantError) {
      process.stderr.write(`dormant: ${err.message}\n`);
      if (verbose && err.cause instanceof Error) process.stderr.write(`${err.cause.stack ?? String(err.cause)}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    process.stderr.write(
      `dormant: internal error: ${e?.message ?? String(err)} (rerun with --verbose and report it)\n`,
    );
    if (verbose) process.stderr.write(`${e?.stack ?? ''}\n`);
    return EXIT_INTERNAL;
  }
}

const code = await main(process.argv);
process.exitCode = code;
