// The scan's cost per account (issue 9, DESIGN §7), as the built CLI reports it with --verbose
// against moto: a report-source scan costs GenerateCredentialReport, GetCredentialReport, the
// roles' and the users' GetAccountAuthorizationDetails pages, whatever its findings; keys are
// named by report slot unless --key-ids (one ListAccessKeys per user with a key finding);
// `plan` resolves only the keys it will act on.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScanResult } from '../src/model/finding.js';
import { describeRun, runCli } from './support/cli.js';
import { activeSeedUser } from './support/identities.js';
import { type SeedUser, useMoto } from './support/moto.js';
import { freshDir, writeConfig } from './scan-helpers.js';

const { moto } = useMoto();
const DAY = 86_400_000;
const ago = (d: number) => new Date(Date.now() - d * DAY).toISOString();
let dir: string;
let keyIds: Record<string, string>;

/** Signs in daily, but its key was never used and is older than the window: a key finding only. */
const unusedKey = (name: string, tags?: Record<string, string>): SeedUser => ({
  name,
  createDate: ago(400),
  password: true,
  passwordLastUsed: ago(1),
  keys: [{ createDate: ago(200), lastUsed: null }],
  ...(tags ? { tags } : {}),
});

function callsOf(stderr: string): Record<string, number> {
  const m = /(\d+) IAM calls \(([^)]*)\)/.exec(stderr);
  if (!m) throw new Error(`no call count in: ${stderr}`);
  return Object.fromEntries(
    m[2]!
      .split(', ')
      .filter(Boolean)
      .map((s) => {
        const [op, n] = s.split(' ');
        return [op!, Number(n)];
      }),
  );
}

const total = (calls: Record<string, number>) =>
  Object.entries(calls)
    .filter(([op]) => op.startsWith('iam:'))
    .reduce((n, [, c]) => n + c, 0);

beforeAll(async () => {
  const users = [
    ...Array.from({ length: 20 }, (_, i) => unusedKey(`key-${i}`)),
    unusedKey('exempt-key', { 'dormant:exempt': 'true' }),
    ...Array.from({ length: 10 }, (_, i) => activeSeedUser(`ok-${i}`)),
  ];
  const seeded = await moto.seed({ users });
  keyIds = Object.fromEntries(seeded.users.map((u) => [u.name, u.keys[0]!]));
  dir = freshDir('dormant-cost-');
  writeConfig(dir, 'rules: { unrotated-access-key: { enabled: false } }\n', 'dormant.yml');
}, 60_000);

async function dormant(args: string[]) {
  const r = await runCli(['--verbose', '--config', 'dormant.yml', '--db', `${dir}/s.db`, ...args], {
    endpoint: moto.endpoint,
    cwd: dir,
  });
  expect(r.code, describeRun(r)).toBe(0);
  return r;
}

describe('scan cost per account', () => {
  it('names keys by slot and costs the same few calls whatever the number of findings', async () => {
    const r = await dormant(['scan', '--format', 'json', '--source', 'report']);
    const doc = JSON.parse(r.stdout) as ScanResult;
    const keyFindings = doc.findings.filter((f) => f.ruleId === 'DORMANT-AWS-002');
    expect(keyFindings).toHaveLength(20);
    for (const f of keyFindings) {
      expect(f.credentialId).toBe('access_key_1');
      expect(f.credentialSlot).toBe('access_key_1');
    }
    // Tags came from GAAD: the tagged user is exempt, without a ListUserTags call.
    expect(doc.identities.find((i) => i.name === 'exempt-key')?.state).toBe('exempt');
    const calls = callsOf(r.stderr);
    expect(calls['iam:ListAccessKeys']).toBeUndefined();
    expect(calls['iam:ListUserTags']).toBeUndefined();
    expect(calls['iam:GetAccountAuthorizationDetails']).toBe(2); // roles, then users (31 users: one page)
    expect(total(calls)).toBeLessThanOrEqual(4 + Math.ceil(31 / 1000));
  });

  it('--key-ids adds one ListAccessKeys per user with a key finding and names the key ids', async () => {
    const r = await dormant(['scan', '--format', 'json', '--source', 'report', '--key-ids']);
    const doc = JSON.parse(r.stdout) as ScanResult;
    for (const f of doc.findings.filter((x) => x.ruleId === 'DORMANT-AWS-002')) {
      expect(f.credentialId).toBe(keyIds[f.identityName]);
      expect(f.credentialSlot).toBe('access_key_1');
    }
    const calls = callsOf(r.stderr);
    // The 20 only: tags are read first, so the tag-exempt user (no finding) costs no ListAccessKeys.
    expect(calls['iam:ListAccessKeys']).toBe(20);
  });

  it('plan resolves the ids of the keys it will act on, one call per such user', async () => {
    const r = await dormant(['plan', '--format', 'json', '--source', 'report']);
    const plan = JSON.parse(r.stdout) as {
      items: { identityName: string; credentialId: string | null; action: string }[];
    };
    const deactivations = plan.items.filter((i) => i.action === 'deactivate-key');
    expect(deactivations).toHaveLength(20);
    for (const i of deactivations) expect(i.credentialId).toBe(keyIds[i.identityName]);
    const calls = callsOf(r.stderr);
    expect(calls['iam:ListAccessKeys']).toBe(20);
    expect(calls['iam:ListUserTags']).toBeUndefined();
  });
});
