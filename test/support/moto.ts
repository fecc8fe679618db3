// Test harness: starts moto (the AWS emulator) with moto_launcher.py and wraps
// its control API (seed users fast, backdate timestamps, reset) for tests and
// benchmarks; for tests, `useMoto` runs one moto for a test file, and the IAM probes
// read what a test changed. For Organizations (motoOrg.ts): seeding any account, AssumeRole
// checked against trust policies on request, per-account IAM faults and call counts
// (moto_org_ext.py). See DESIGN.md §6 and §8.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  GetLoginProfileCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  type AccessKeyMetadata,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';

/** An ISO 8601 timestamp, or a Date (sent as its ISO string). No offset means UTC. */
export type Timestamp = string | Date;

export interface SeedKey {
  /** Defaults to now. */
  createDate?: Timestamp;
  /** Omitted or null: never used. */
  lastUsed?: Timestamp | null;
  /** Defaults to "Active". */
  status?: 'Active' | 'Inactive';
  /** Service of the last use (GetAccessKeyLastUsed). Defaults to "iam". */
  service?: string;
  /** Region of the last use (GetAccessKeyLastUsed). Defaults to "us-east-1". */
  region?: string;
}

export interface SeedUser {
  name: string;
  /** Defaults to "/". */
  path?: string;
  /** Defaults to now. */
  createDate?: Timestamp;
  /** Give the user a console password (login profile). */
  password?: boolean;
  /** Needs `password: true`. Omitted or null: never used. */
  passwordLastUsed?: Timestamp | null;
  tags?: Record<string, string>;
  /** At most 2, like IAM. */
  keys?: SeedKey[];
}

/** An IAM role for the control API (moto_launcher.py /seed). */
export interface SeedRole {
  name: string;
  /** Defaults to "/". */
  path?: string;
  /** Defaults to now. */
  createDate?: Timestamp;
  /** RoleLastUsed.LastUsedDate. Omitted or null: no value (never used, or not in the last 400 days). */
  lastUsed?: Timestamp | null;
  /** RoleLastUsed.Region; needs lastUsed. Defaults to "us-east-1". */
  lastUsedRegion?: string;
  /** The trust policy document. Default: the account's root may assume the role. */
  trustPolicy?: Record<string, unknown>;
  tags?: Record<string, string>;
  description?: string;
  /** 3600 (the default) to 43200. */
  maxSessionDuration?: number;
  /** Replace a role of the same name if there is one (e.g. the role CreateAccount made). */
  replace?: boolean;
  /** Inline policies put on the role (PutRolePolicy): policy name -> policy document. */
  inlinePolicies?: Record<string, Record<string, unknown>>;
}

export interface SeedBody {
  /** The account whose IAM to seed (12 digits). Defaults to MOTO_ACCOUNT_ID. */
  account?: string;
  users?: SeedUser[];
  roles?: SeedRole[];
}

export interface SeededUser {
  name: string;
  arn: string;
  /** Access key ids, in the order given. */
  keys: string[];
}

export interface SeededRole {
  name: string;
  arn: string;
  /** The role's unique id (AROA…). */
  id: string;
}

export interface SeedResult {
  users: SeededUser[];
  roles: SeededRole[];
}

export interface BackdateKey {
  id: string;
  createDate?: Timestamp;
  /** null clears it (never used). */
  lastUsed?: Timestamp | null;
  service?: string;
  region?: string;
}

export interface BackdateUser {
  name: string;
  createDate?: Timestamp;
  /** null clears it (never used). */
  passwordLastUsed?: Timestamp | null;
  keys?: BackdateKey[];
}

export interface BackdateRole {
  name: string;
  createDate?: Timestamp;
  /** RoleLastUsed.LastUsedDate; null clears it. */
  lastUsed?: Timestamp | null;
  /** Needs lastUsed. Defaults to "us-east-1". */
  lastUsedRegion?: string;
}

export interface BackdateBody {
  /** The account whose IAM to change (12 digits). Defaults to MOTO_ACCOUNT_ID. */
  account?: string;
  users?: BackdateUser[];
  roles?: BackdateRole[];
}

/** Per-account IAM faults (moto_org_ext.py /faults). */
export type FaultsBody =
  /** throttle: the next N IAM requests of the account answer Throttling (0 clears); deny: every one answers AccessDenied until false. */
  | { account: string; throttle?: number; deny?: boolean }
  /** Drops every fault of every account. */
  | { clear: true };

/** IAM requests made with keys of one account since the last reset (faulted ones included). */
export interface MotoCalls {
  iam: number;
  byAction: Record<string, number>;
}

export interface MotoServer {
  /** AWS endpoint URL, e.g. http://127.0.0.1:40123 */
  endpoint: string;
  /** Control API URL. */
  control: string;
  seed(body: SeedBody): Promise<SeedResult>;
  backdate(body: BackdateBody): Promise<void>;
  /** Clears every moto backend (all IAM users, keys, reports…), trust checks, faults and counts. */
  reset(): Promise<void>;
  /** true: AssumeRole checked against the role's trust policy, as AWS does; false (the default): anything goes. */
  trust(enforce: boolean): Promise<void>;
  faults(body: FaultsBody): Promise<void>;
  calls(account: string): Promise<MotoCalls>;
  /** Zeroes every account's call counts. */
  resetCalls(): Promise<void>;
  /** Stops the server; safe to call more than once. */
  stop(): Promise<void>;
}

/** moto's account for any unknown credentials, including the ones below. */
export const MOTO_ACCOUNT_ID = '123456789012';

export interface AwsTestEnv {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
  AWS_ENDPOINT_URL: string;
}

/** Environment variables that point an AWS SDK (or the CLI under test) at moto. */
export function awsTestEnv(endpoint: string): AwsTestEnv {
  return {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
  };
}

const LAUNCHER = fileURLToPath(new URL('./moto_launcher.py', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_TAIL = 16_384;

interface ReadyLine {
  endpoint: string;
  control: string;
}

function isReadyLine(value: unknown): value is ReadyLine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['endpoint'] === 'string' && typeof v['control'] === 'string';
}

async function post(control: string, route: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${control}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`moto control ${route}: HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (!res.ok) {
    const error =
      typeof parsed === 'object' && parsed !== null && 'error' in parsed
        ? String((parsed as { error: unknown }).error)
        : text;
    throw new Error(`moto control ${route}: HTTP ${res.status}: ${error}`);
  }
  return parsed;
}

export interface StartMotoOptions {
  /** A launcher that wraps moto_launcher.py (same READY line and control API). Default: moto_launcher.py. */
  launcher?: string;
}

/** Starts a fresh moto on free ports. Call `stop()` when done (e.g. in afterAll). */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const child = spawn('python3', [options.launcher ?? LAUNCHER], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  // Never let a write to a dead child's stdin crash the test run.
  child.stdin.on('error', () => {});

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string): void => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`moto launcher ${why}${stderr ? `\n--- stderr ---\n${stderr}` : ''}`));
    };
    const onData = (chunk: string): void => {
      stdout += chunk;
      let nl: number;
      while ((nl = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, nl).trim();
        stdout = stdout.slice(nl + 1);
        if (!line.startsWith('READY ')) continue;
        let payload: unknown;
        try {
          payload = JSON.parse(line.slice('READY '.length));
        } catch {
          fail(`printed a bad READY line: ${line}`);
          return;
        }
        if (!isReadyLine(payload)) {
          fail(`printed a bad READY line: ${line}`);
          return;
        }
        cleanup();
        resolve(payload);
        return;
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      // Let stderr drain before reporting.
      setImmediate(() => fail(`exited before READY (code ${code}, signal ${signal})`));
    };
    const onError = (err: Error): void => fail(`could not start python3: ${err.message}`);
    const timer = setTimeout(() => fail(`not READY after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  // Keep draining stdout so the child can never block on a full pipe.
  child.stdout.resume();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return {
    endpoint: ready.endpoint,
    control: ready.control,
    async seed(body: SeedBody): Promise<SeedResult> {
      return (await post(ready.control, '/seed', body)) as SeedResult;
    },
    async backdate(body: BackdateBody): Promise<void> {
      await post(ready.control, '/backdate', body);
    },
    async reset(): Promise<void> {
      await post(ready.control, '/reset', {});
    },
    async trust(enforce: boolean): Promise<void> {
      await post(ready.control, '/trust', { enforce });
    },
    async faults(body: FaultsBody): Promise<void> {
      await post(ready.control, '/faults', body);
    },
    async calls(account: string): Promise<MotoCalls> {
      return (await post(ready.control, '/calls', { account })) as MotoCalls;
    },
    async resetCalls(): Promise<void> {
      await post(ready.control, '/calls', { reset: true });
    },
    stop,
  };
}

// ------------------------------------------------------------------ for test files

/** An IAM client on moto (or a proxy in front of it), with the credentials of awsTestEnv. */
export function iamClient(endpoint: string): IAMClient {
  const env = awsTestEnv(endpoint);
  return new IAMClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

export interface MotoForFile {
  /** The file's moto (usable once its beforeAll ran). */
  moto: MotoServer;
  /** An IAM client on it (`send` and `destroy`). */
  iam: IAMClient;
}

/**
 * One moto for the calling test file: started in beforeAll, with an IAM client on it, and
 * stopped in afterAll; with `resetEach`, cleared before every test. Returns stand-ins that
 * reach the server and client once they exist, so a file can name them at its top level.
 */
export function useMoto(options: { resetEach?: boolean } = {}): MotoForFile {
  let server: MotoServer | undefined;
  let client: IAMClient | undefined;
  const started = (): MotoServer => {
    if (!server) throw new Error('moto is not started yet (useMoto starts it in beforeAll)');
    return server;
  };
  beforeAll(async () => {
    server = await startMoto();
    client = iamClient(server.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });
  if (options.resetEach) beforeEach(() => started().reset());
  const moto: MotoServer = {
    get endpoint() {
      return started().endpoint;
    },
    get control() {
      return started().control;
    },
    seed: (body) => started().seed(body),
    backdate: (body) => started().backdate(body),
    reset: () => started().reset(),
    trust: (enforce) => started().trust(enforce),
    faults: (body) => started().faults(body),
    calls: (account) => started().calls(account),
    resetCalls: () => started().resetCalls(),
    stop: () => started().stop(),
  };
  const iam = {
    send: ((command: Parameters<IAMClient['send']>[0]) => {
      if (!client) throw new Error('moto is not started yet (useMoto starts it in beforeAll)');
      return client.send(command);
    }) as IAMClient['send'],
    destroy: () => client?.destroy(),
  } as IAMClient;
  return { moto, iam };
}

/** Calls `fn`; false when IAM answers NoSuchEntity (any other error fails the test). */
async function unlessNoSuchEntity(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    expect((err as Error).name).toMatch(/^NoSuchEntity/);
    return false;
  }
}

export function iamUserExists(iam: IAMClient, userName: string): Promise<boolean> {
  return unlessNoSuchEntity(() => iam.send(new GetUserCommand({ UserName: userName })));
}

export function iamHasLoginProfile(iam: IAMClient, userName: string): Promise<boolean> {
  return unlessNoSuchEntity(() => iam.send(new GetLoginProfileCommand({ UserName: userName })));
}

/** The user's access keys, as ListAccessKeys gives them. */
export async function iamAccessKeys(iam: IAMClient, userName: string): Promise<AccessKeyMetadata[]> {
  return (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
}
