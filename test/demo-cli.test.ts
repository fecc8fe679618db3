// `dormant demo`: one scan of the shipped AWS report, Entra tenant and Google tenant, then plan →
// approve → apply → restore on all three in memory, with no network and no cloud credentials.
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
  it('exits 0 and scans the three providers into one document, grouped by provider and account', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /AWS, 46 users\), examples\/entra\/tenant\.json \(Entra ID, 13 users\) and examples\/google\/tenant\.json \(Google, 15 users and service accounts\)/,
    );
    expect(run.stdout).toMatch(/^74 users · \d+ inactive · 4 exempt · \d+ findings$/m);
    expect(run.stdout).toMatch(/^google · C03az79cb$/m);
    expect(run.stdout).toMatch(/^google · acme-prod$/m);
    expect(run.stdout).toMatch(/DORMANT-GWS-002 never-signed-in-user +User cara\.nguyen@example\.com/);
    expect(run.stdout).toMatch(
      /DORMANT-GCP-001 unused-service-account-key +Key 9f8e7d6c5b4a39281706f5e4d3c2b1a098765432/,
    );
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
    expect(run.stdout).toMatch(/Suspend Workspace user ben\.ortiz@example\.com \(inactive \d+ days\)/);
    expect(run.stdout).toMatch(
      /Delete key 9f8e7d6c5b4a\w+ of service account ci-deployer@acme-prod\.iam\.gserviceaccount\.com, 3 days after it is disabled .*; a deleted key cannot come back/,
    );
    expect(run.stdout).toMatch(/note: gail\.reyes@example\.com: protected \(a Workspace delegated admin\)/);
  });

  it('applies the approved items of both providers and restores one identity of each', () => {
    expect(run.stdout).toMatch(/^done: Delete user quinn\.foster completely after a backup/m);
    expect(run.stdout).toMatch(/^done: Delete Entra user bob\.kelly@contoso\.com/m);
    expect(run.stdout).toMatch(/^done: Delete Workspace user ben\.ortiz@example\.com/m);
    expect(run.stdout).toMatch(/^done: Delete key 9f8e7d6c5b4a\w+ of service account ci-deployer/m);
    expect(run.stdout).toMatch(/^8 done, 0 skipped, 0 failed, 1 waiting/m);
    expect(run.stdout).toMatch(/^\$ dormant apply pl-\w+ +# 3 days later$/m);
    expect(run.stdout).toMatch(/^1 done, 0 skipped, 0 failed$/m);
    expect(run.stdout).toMatch(/restored: user ben\.ortiz@example\.com undeleted into \/Engineering/);
    expect(run.stdout).toMatch(/restored: alias ben@example\.com/);
    expect(run.stdout).toMatch(
      /cannot restore: key 9f8e7d6c5b4a\w+ of ci-deployer@acme-prod\.iam\.gserviceaccount\.com was deleted/,
    );
    expect(run.stdout).toMatch(/^Restored quinn\.foster from backup bk-/m);
    expect(run.stdout).toMatch(/^Restored bob\.kelly@contoso\.com from backup bk-/m);
    expect(run.stdout).toMatch(/restored: user bob\.kelly@contoso\.com restored from deleted items \(same object id\)/);
  });

  it('leaves nothing behind in the working directory', () => {
    expect(readdirSync(cwd)).toEqual([]);
  });
});
