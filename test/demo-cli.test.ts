// `dormant demo`: one scan of the shipped AWS report and Entra tenant, then plan → approve →
// apply → restore on both in memory, with no network and no cloud credentials.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliExit, runCli } from './support/cli.js';

let cwd: string;
let run: CliExit;

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'dormant-demo-cli-'));
  // Unroutable endpoints: any attempt to reach a cloud would fail the run instead of passing silently.
  run = await runCli(['demo'], {
    cwd,
    env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AZURE_CLIENT_SECRET: 'unused-by-the-demo' },
  });
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('dormant demo', () => {
  it('exits 0 and scans both providers into one document, grouped by provider and account', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/AWS, 46 users\) and examples\/entra\/tenant\.json \(Entra ID, 13 users\)/);
    expect(run.stdout).toMatch(/^59 users · \d+ inactive · 3 exempt · \d+ findings$/m);
    expect(run.stdout).toMatch(/^aws · 123456789012$/m);
    expect(run.stdout).toMatch(/^entra · 7f3b2c1d-5e4a-4b6c-9d8e-1f2a3b4c5d6e$/m);
    expect(run.stdout).toMatch(/DORMANT-ENTRA-003 never-signed-in-user +User erin\.cho@contoso\.com/);
    expect(run.stdout).toMatch(
      /lara\.novak@contoso\.com .*protected, a holder of the directory role Global Administrator/,
    );
  });

  it('plans both providers in their own words, and never plans the protected admin', () => {
    expect(run.stdout).toMatch(
      /Disable user quinn\.foster: deactivate its access keys and remove its console password/,
    );
    expect(run.stdout).toMatch(/Disable Entra user bob\.kelly@contoso\.com: block sign-in and revoke sessions/);
    expect(run.stdout).toMatch(/Notify only about Entra user kevin\.osei@contoso\.com .*synced from on-premises AD/);
    expect(run.stdout).toMatch(/note: lara\.novak@contoso\.com: protected .*never acted on/);
    expect(run.stdout).not.toMatch(/Disable Entra user lara\.novak/);
  });

  it('applies the approved items of both providers and restores one identity of each', () => {
    expect(run.stdout).toMatch(/^done: Delete user quinn\.foster completely after a backup/m);
    expect(run.stdout).toMatch(/^done: Delete Entra user bob\.kelly@contoso\.com/m);
    expect(run.stdout).toMatch(/^5 done, 0 skipped, 0 failed/m);
    expect(run.stdout).toMatch(/^Restored quinn\.foster from backup bk-/m);
    expect(run.stdout).toMatch(/^Restored bob\.kelly@contoso\.com from backup bk-/m);
    expect(run.stdout).toMatch(/restored: user bob\.kelly@contoso\.com restored from deleted items \(same object id\)/);
  });

  it('leaves nothing behind in the working directory', () => {
    expect(readdirSync(cwd)).toEqual([]);
  });
});
