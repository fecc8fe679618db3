// --provider on the command line: choices, and flags that only make sense for AWS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'dormant-provider-flags-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const REPORT = new URL('../examples/credential-report.csv', import.meta.url).pathname;

describe('--provider', () => {
  it('--from-report with a provider list that leaves AWS out: exit 2, one line naming the fix', async () => {
    const r = await runCli(['scan', '--provider', 'entra', '--from-report', REPORT], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'dormant: --from-report chooses the AWS source, but --provider entra leaves AWS out; add aws to --provider or drop --from-report',
    ]);
  });

  it('an unknown provider: exit 2, one line listing the choices', async () => {
    const r = await runCli(['scan', '--provider', 'aws,gcp', '--from-report', REPORT], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "dormant: unknown provider 'gcp' in --provider; choose from aws, entra, google (comma-separated)",
    ]);
  });

  it('--from-report alone scans the file as AWS even when the config enables Entra', async () => {
    // An Entra section that would fail at once if it were opened (no such authority).
    const config = join(cwd, 'entra-on.yml');
    writeFileSync(
      config,
      'entra: { enabled: true, tenantId: t-1, clientId: c-1, authorityHost: "https://127.0.0.1:9", graphUrl: "https://127.0.0.1:9" }\n',
    );
    const r = await runCli(
      ['--config', config, 'scan', '--from-report', REPORT, '--format', 'json', '--as-of', '2026-11-22T12:00:00Z'],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { providers: { provider: string; source: string }[]; source: string };
    expect(doc.providers).toEqual([{ provider: 'aws', source: 'file', accounts: ['123456789012'], dataAsOf: null }]);
    expect(doc.source).toBe('file');
  });

  it('permissions for several providers prints one document per provider', async () => {
    const r = await runCli(['permissions', '--provider', 'aws,entra', '--mode', 'scan'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      aws: { Version: string };
      entra: { provider: string; applicationPermissions: string[] };
    };
    expect(doc.aws.Version).toBe('2012-10-17');
    expect(doc.entra.applicationPermissions).toContain('User.Read.All');
    expect(doc.entra.applicationPermissions).not.toContain('User.ReadWrite.All');
  });
});
