// Issue 13: a command that only reads never creates the store. In a directory with no store,
// history says there are no plans yet and apply/approve/deny/restore say the plan or backup is
// not found (exit 2), each naming the path and what creates it; no file or directory appears.
// With a store, nothing changes. Runs the built CLI (`npm run build` first) for the commands,
// and the Store directly for the open option.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NoStoreError, Store } from '../src/store/store.js';
import { type CliExit, describeRun, runCli } from './support/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function emptyDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dormant-readonly-'));
  dirs.push(d);
  return d;
}

const REPORT = new URL('../examples/credential-report.csv', import.meta.url).pathname;
const NO_STORE = "no store at .dormant/state.db yet; 'dormant plan' creates it (or pass --db if it is elsewhere)";

/** Runs `dormant ARGS` in `cwd` with that directory as HOME: only the default store applies. */
function dormant(cwd: string, args: string[]): Promise<CliExit> {
  return runCli(args, { cwd, baseEnv: { PATH: process.env.PATH ?? '', HOME: cwd } });
}

function expectOneLine(r: CliExit, code: number, line: string): void {
  expect(r.code, describeRun(r)).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')).toEqual([line, '']);
}

describe('read-only commands without a store', () => {
  it('history (table): no plans yet, where the store would be, what creates it; nothing created', async () => {
    const cwd = emptyDir();
    const r = await dormant(cwd, ['history']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toBe(`No plans yet: ${NO_STORE}.\n`);
    expect(r.stderr).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('history --format json: the empty history document; nothing created', async () => {
    const cwd = emptyDir();
    const r = await dormant(cwd, ['history', '--format', 'json']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ plans: [], events: [] });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('apply, approve and deny of a plan: not found (exit 2), naming the missing store; nothing created', async () => {
    const cwd = emptyDir();
    expectOneLine(await dormant(cwd, ['apply', 'pl-nope']), 2, `dormant: plan pl-nope not found: ${NO_STORE}`);
    expectOneLine(
      await dormant(cwd, ['apply', 'pl-nope', '--dry-run']),
      2,
      `dormant: plan pl-nope not found: ${NO_STORE}`,
    );
    expectOneLine(await dormant(cwd, ['approve', 'pl-nope', '1']), 2, `dormant: plan pl-nope not found: ${NO_STORE}`);
    expectOneLine(
      await dormant(cwd, ['deny', 'pl-nope', '--all', '--snooze', '30']),
      2,
      `dormant: plan pl-nope not found: ${NO_STORE}`,
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('restore: no backup (exit 2), naming the missing store; nothing created', async () => {
    const cwd = emptyDir();
    expectOneLine(await dormant(cwd, ['restore', 'alice']), 2, `dormant: no backup found for 'alice': ${NO_STORE}`);
    expectOneLine(await dormant(cwd, ['restore', 'bk-123']), 2, `dormant: no backup found for 'bk-123': ${NO_STORE}`);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--db naming a file in a directory that does not exist: neither is created', async () => {
    const cwd = emptyDir();
    const r = await dormant(cwd, ['apply', 'pl-nope', '--db', 'state/team.db']);
    expectOneLine(
      r,
      2,
      "dormant: plan pl-nope not found: no store at state/team.db yet; 'dormant plan' creates it (or pass --db if it is elsewhere)",
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('once plan has made the store, the commands read it as before', async () => {
    const cwd = emptyDir();
    const made = await dormant(cwd, [
      'plan',
      '--from-report',
      REPORT,
      '--as-of',
      '2026-11-22T12:00:00Z',
      '--format',
      'json',
      '--by',
      'tester',
    ]);
    expect(made.code, describeRun(made)).toBe(0);
    const plan = JSON.parse(made.stdout) as { id: string };
    expect(existsSync(join(cwd, '.dormant', 'state.db'))).toBe(true);

    const h = await dormant(cwd, ['history']);
    expect(h.code, describeRun(h)).toBe(0);
    expect(h.stdout).toContain(`Plan ${plan.id}`);
    // An unknown plan in an existing store keeps its message.
    expectOneLine(
      await dormant(cwd, ['apply', 'pl-nope']),
      2,
      "dormant: plan pl-nope not found; 'dormant history' lists the plans",
    );
    expectOneLine(
      await dormant(cwd, ['approve', 'pl-nope', '1']),
      2,
      "dormant: plan pl-nope not found; 'dormant history' lists the plans",
    );
    const approved = await dormant(cwd, ['approve', plan.id, '1', '--by', 'alice']);
    expect(approved.code, describeRun(approved)).toBe(0);
    expect(approved.stdout).toMatch(/^approved: 1\. /);
  });
});

describe('Store.open with create: false', () => {
  it('throws NoStoreError for a SQLite file that does not exist, and creates neither it nor its directory', async () => {
    const dir = emptyDir();
    const path = join(dir, 'sub', 'state.db');
    const err = await Store.open(path, { create: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoStoreError);
    expect((err as NoStoreError).exitCode).toBe(2);
    expect((err as NoStoreError).message).toBe(
      `no store at ${path} yet; 'dormant plan' creates it (or pass --db if it is elsewhere)`,
    );
    expect(await Store.openExisting(`sqlite:${path}`)).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('opens (and migrates) a store that exists', async () => {
    const dir = emptyDir();
    const path = join(dir, 'state.db');
    await (await Store.open(path)).close();
    const store = await Store.openExisting(path);
    expect(store).not.toBeNull();
    await store!.ping();
    await store!.close();
  });

  it('still refuses a file that is not a database (exit 3), leaving it untouched', async () => {
    const dir = emptyDir();
    const path = join(dir, 'state.db');
    writeFileSync(path, 'this is not sqlite, just some text that is long enough to be a header or more\n'.repeat(20));
    const err = await Store.openExisting(path).catch((e: unknown) => e);
    expect((err as { exitCode?: number }).exitCode).toBe(3);
    expect(readdirSync(dir)).toEqual(['state.db']);
  });

  it(':memory: opens as usual', async () => {
    const store = await Store.open(':memory:', { create: false });
    await store.ping();
    await store.close();
  });
});
