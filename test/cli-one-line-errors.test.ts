// Issue 13: commander's errors are one line like every other error (README "Exit codes"),
// its "(Did you mean …?)" for a mistyped command or option folded into that line.
// Runs the built CLI (`npm run build` first).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliExit, describeRun, runCli } from './support/cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'dormant-one-line-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** Exit 2, nothing on stdout, exactly `line` on stderr. */
function expectUsageLine(r: CliExit, line: string): void {
  expect(r.code, describeRun(r)).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')).toEqual([line, '']);
}

describe('one-line usage errors', () => {
  it('a mistyped command: the suggestion on the same line', async () => {
    expectUsageLine(
      await runCli(['scann'], { cwd }),
      "dormant: unknown command 'scann'; did you mean scan? (run dormant --help for usage)",
    );
  });

  it('a mistyped option of a command: the suggestion on the same line', async () => {
    expectUsageLine(
      await runCli(['scan', '--dayz', '30'], { cwd }),
      "dormant: unknown option '--dayz'; did you mean --days? (run dormant --help for usage)",
    );
  });

  it('a mistyped global option: the suggestion on the same line', async () => {
    expectUsageLine(
      await runCli(['--verbos', 'history'], { cwd }),
      "dormant: unknown option '--verbos'; did you mean --verbose? (run dormant --help for usage)",
    );
  });

  it('an unknown command nothing resembles: one line, no suggestion', async () => {
    expectUsageLine(
      await runCli(['xyzzy'], { cwd }),
      "dormant: unknown command 'xyzzy' (run dormant --help for usage)",
    );
  });

  it('a bad choice is still one line', async () => {
    const r = await runCli(['history', '--format', 'yaml'], { cwd });
    expect(r.code, describeRun(r)).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^dormant: option '--format <format>' argument 'yaml' is invalid\..*table, json/);
  });
});
