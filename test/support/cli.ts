// The CLI runner of every CLI test: the built CLI (`node dist/cli/main.js`, so run
// `npm run build` first) as a child process, always asynchronous (the proxies and fakes of a
// test live in the test process and must keep serving while the CLI runs), with an
// environment that cannot point it anywhere but where the test says.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { awsTestEnv } from './moto.js';

// The SDK's advisory about its future Node.js support is noise in test output (the CLI
// silences it the same way).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The parent's environment without anything that could point the CLI elsewhere. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^(AWS_|DORMANT_|SLACK_|JIRA_|GOOGLE_|CLOUDSDK_)/.test(k) || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  return env;
}

export interface CliOptions {
  cwd?: string;
  /** An AWS endpoint (moto or a proxy): the variables of awsTestEnv. Omitted: no AWS variables. */
  endpoint?: string;
  /** Variables set last (they win). */
  env?: Record<string, string>;
  /** What the environment starts from: cleanEnv() unless given. */
  baseEnv?: Record<string, string>;
  /** Killed (SIGKILL) after this long; runCli then rejects. */
  timeoutMs?: number;
}

export interface CliExit {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  pid: number;
  /** Resolves once the process has exited and everything it wrote was read. */
  exited: Promise<CliExit>;
  /** Set when `exited` resolves. */
  exit: CliExit | null;
  /** True once the timeout killed it. */
  timedOut: boolean;
  stdout(): string;
  stderr(): string;
  /** Resolves once `n` lines are on stdout, or at exit. */
  lines(n: number): Promise<void>;
  /** Sends `signal` (SIGKILL by default) unless the process has exited. */
  kill(signal?: NodeJS.Signals): void;
}

function cliEnv(options: CliOptions): Record<string, string> {
  return {
    ...(options.baseEnv ?? cleanEnv()),
    ...(options.endpoint ? awsTestEnv(options.endpoint) : {}),
    NO_COLOR: '1',
    ...options.env,
  };
}

/** Starts `dormant ARGS`. */
export function startCli(args: string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: cliEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let closed = false;
  let waiting: { n: number; resolve: () => void }[] = [];
  const check = () => {
    const count = stdout.split('\n').length - 1;
    waiting = waiting.filter((w) => {
      if (closed || count >= w.n) w.resolve();
      return !(closed || count >= w.n);
    });
  };
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          running.timedOut = true;
          running.kill();
        }, options.timeoutMs);
  const running: RunningCli = {
    pid: child.pid ?? -1,
    exit: null,
    timedOut: false,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: new Promise<CliExit>((resolve, reject) => {
      child.once('error', reject);
      // 'close', not 'exit': everything the process wrote has been read by then.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        closed = true;
        check();
        running.exit = { code, signal, stdout, stderr };
        resolve(running.exit);
      });
    }),
    lines(n: number) {
      return new Promise<void>((resolve) => {
        waiting.push({ n, resolve });
        check();
      });
    },
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  return running;
}

/** Runs `dormant ARGS` to its end; rejects if it did not finish in `timeoutMs` (45 s by default). */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliExit> {
  const timeoutMs = options.timeoutMs ?? 45_000;
  const running = startCli(args, { ...options, timeoutMs });
  const exit = await running.exited;
  if (running.timedOut) {
    throw new Error(`dormant ${args.join(' ')} did not finish in ${timeoutMs} ms\n${exit.stderr}`);
  }
  return exit;
}

/** A run for a failure message: its exit code and everything it wrote. */
export function describeRun(r: CliExit): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Throws (with everything the run wrote) unless it exited 0. */
export function expectOk(exit: CliExit, what: string): void {
  if (exit.code !== 0) {
    throw new Error(`${what} exited ${exit.code} (${exit.signal ?? 'no signal'})\n${exit.stderr}\n${exit.stdout}`);
  }
}

// ------------------------------------------------------------------ workspaces

/** A working directory with a dormant.yml, and the store under test (what `--db` gets). */
export interface Workspace {
  cwd: string;
  db: string;
}

/**
 * Runs `dormant ARGS --db WS.db` in a workspace, with only PATH from the parent and the
 * workspace as HOME (no AWS profile or config of the machine), 60 s at most.
 */
export function runInWorkspace(
  ws: Workspace,
  args: string[],
  options: Omit<CliOptions, 'cwd' | 'baseEnv'> = {},
): Promise<CliExit> {
  return runCli([...args, '--db', ws.db], {
    timeoutMs: 60_000,
    ...options,
    cwd: ws.cwd,
    baseEnv: { PATH: process.env.PATH ?? '', HOME: ws.cwd },
  });
}
