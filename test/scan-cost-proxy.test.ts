// DESIGN §7 "Scanning an account costs a few calls, whatever its size", counted at the wire
// (scan-cost.test.ts counts the CLI's own --verbose tally): on moto, through the fault proxy,
// which records every request by action, a report-source scan costs the same calls whatever
// its findings; `--key-ids` adds one ListAccessKeys per user with a key
// finding; `plan` adds one per user whose key it acts on; a principal denied
// GetAccountAuthorizationDetails reads tags with ListUserTags, with one warning.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from './support/faultProxy.js';
import { MOTO_ACCOUNT_ID, useMoto, type SeedUser } from './support/moto.js';
import { agoFrom, freshDir, parseReport, runCli, wholeSecondNow, type JsonReport } from './scan-helpers.js';

const { moto } = useMoto();

interface CostFinding {
  ruleId: string;
  identityName: string;
  credentialId: string | null;
  credentialSlot?: string;
  credentialCreatedAt?: string | null;
  recommendedAction: string;
}

/** 12 users whose keys are acted on, 8 stale users (identity-level), 5 exempt by tag, 5 clean. */
function users(base: number): SeedUser[] {
  const d = (days: number) => agoFrom(base, days);
  const pad = (i: number) => String(i).padStart(2, '0');
  const keyed = Array.from({ length: 12 }, (_, i) => ({
    name: `keyed-${pad(i)}`,
    createDate: d(400),
    password: true,
    passwordLastUsed: d(2),
    // Two unused old keys on every third user: both slots.
    keys: i % 3 === 0 ? [{ createDate: d(150) }, { createDate: d(140) }] : [{ createDate: d(150) }],
  }));
  const stale = Array.from({ length: 8 }, (_, i) => ({
    name: `stale-${pad(i)}`,
    createDate: d(500),
    password: true,
    passwordLastUsed: d(300),
    keys: [{ createDate: d(400), lastUsed: d(300) }],
  }));
  const tagged = Array.from({ length: 5 }, (_, i) => ({
    name: `tagged-${pad(i)}`,
    createDate: d(500),
    tags: { 'dormant:exempt': 'true', team: 'ops' },
    keys: [{ createDate: d(200) }],
  }));
  const clean = Array.from({ length: 5 }, (_, i) => ({
    name: `clean-${pad(i)}`,
    createDate: d(400),
    password: true,
    passwordLastUsed: d(1),
  }));
  return [...keyed, ...stale, ...tagged, ...clean];
}

const USERS = 30;
const iamCalls = (p: FaultProxy) => p.requests.filter((r) => r.action !== 'GetCallerIdentity');
const byAction = (p: FaultProxy) => {
  const out: Record<string, number> = {};
  for (const r of iamCalls(p)) out[r.action] = (out[r.action] ?? 0) + 1;
  return out;
};
const keyFindings = (r: JsonReport) =>
  (r.findings as CostFinding[]).filter((f) => f.credentialId !== null && f.ruleId !== 'DORMANT-AWS-001');
const usersWithKeyFindings = (r: JsonReport) => new Set(keyFindings(r).map((f) => f.identityName)).size;

describe('scan cost per account', () => {
  let proxy: FaultProxy;
  let deny = false;
  let apiDoc: JsonReport;

  beforeAll(async () => {
    await moto.reset();
    await moto.seed({ users: users(wholeSecondNow()) });
    proxy = await startFaultProxy(moto.endpoint, {
      onRequest: (r) =>
        deny && r.action === 'GetAccountAuthorizationDetails' && r.params.get('Filter.member.1') === 'User'
          ? {
              status: 403,
              code: 'AccessDenied',
              message: `User: arn:aws:iam::${MOTO_ACCOUNT_ID}:user/auditor is not authorized to perform: iam:GetAccountAuthorizationDetails`,
            }
          : undefined,
    });
    apiDoc = parseReport(await runCli(['scan', '--format', 'json', '--source', 'api'], { endpoint: moto.endpoint }));
  });

  afterAll(async () => {
    await proxy?.stop();
  });

  async function scanThroughProxy(extra: string[]): Promise<JsonReport> {
    proxy.requests.length = 0;
    return parseReport(
      await runCli(['scan', '--format', 'json', '--source', 'report', ...extra], { endpoint: proxy.url }),
    );
  }

  it('a report-source scan costs <= 4 + ceil(users/1000) IAM calls whatever its findings; keys named by slot', async () => {
    const doc = await scanThroughProxy([]);
    const calls = byAction(proxy);
    console.log(`report scan, ${USERS} users, ${doc.findings.length} findings: ${JSON.stringify(calls)}`);
    expect(doc.findings.length).toBeGreaterThanOrEqual(40);
    expect(iamCalls(proxy).length).toBeLessThanOrEqual(4 + Math.ceil(USERS / 1000));
    expect(calls.ListAccessKeys ?? 0).toBe(0);
    expect(calls.ListUserTags ?? 0).toBe(0);
    expect(proxy.requests.filter((r) => r.params.get('Filter.member.1') === 'User')).toHaveLength(1);
    // Tags came from GAAD: the tag exemption holds, and the tags are on the identities.
    for (let i = 0; i < 5; i++) {
      const t = doc.identities.find((x) => x.name === `tagged-0${i}`)!;
      expect(t.state).toBe('exempt');
      expect(t.tags).toEqual({ 'dormant:exempt': 'true', team: 'ops' });
    }
    // Keys by slot, with the slot and the key's creation time.
    const keys = keyFindings(doc);
    expect(keys.length).toBeGreaterThan(0);
    for (const f of keys) {
      expect(f.credentialId).toMatch(/^access_key_[12]$/);
      expect(f.credentialSlot).toBe(f.credentialId);
      const cred = doc.identities
        .find((i) => i.name === f.identityName)!
        .credentials.find((c) => (c as { handle?: string }).handle === f.credentialSlot)!;
      expect(f.credentialCreatedAt).toBe(cred.createdAt);
    }
    // Same verdicts as the API source, by (rule, user, slot).
    const slotOf = (r: JsonReport, name: string, id: string) => {
      const ident = r.identities.find((i) => i.name === name)!;
      const keysInOrder = ident.credentials.filter((c) => c.kind === 'access-key');
      return `access_key_${keysInOrder.findIndex((c) => c.id === id) + 1}`;
    };
    const apiBySlot = (apiDoc.findings as CostFinding[])
      .map(
        (f) =>
          `${f.ruleId}|${f.identityName}|${f.credentialId?.startsWith('AKIA') ? slotOf(apiDoc, f.identityName, f.credentialId) : (f.credentialId ?? '')}`,
      )
      .sort();
    expect(
      (doc.findings as CostFinding[]).map((f) => `${f.ruleId}|${f.identityName}|${f.credentialId ?? ''}`).sort(),
    ).toEqual(apiBySlot);
  });

  it('--key-ids adds one ListAccessKeys per user with a key finding, and names keys by id', async () => {
    const doc = await scanThroughProxy(['--key-ids']);
    const calls = byAction(proxy);
    console.log(`report scan --key-ids: ${JSON.stringify(calls)}`);
    const withKeys = usersWithKeyFindings(doc);
    expect(withKeys).toBe(12 + 8);
    expect(calls.ListAccessKeys).toBe(withKeys);
    expect(iamCalls(proxy).length).toBeLessThanOrEqual(4 + Math.ceil(USERS / 1000) + withKeys);
    for (const f of keyFindings(doc)) {
      expect(f.credentialId).toMatch(/^AKIA/);
      expect(f.credentialSlot).toMatch(/^access_key_[12]$/);
    }
    const triples = (r: JsonReport) =>
      r.findings.map((f) => `${f.ruleId}|${f.identityName}|${f.credentialId ?? ''}`).sort();
    expect(triples(doc)).toEqual(triples(apiDoc));
  });

  it('plan resolves only the keys it acts on (one ListAccessKeys per such user) and names them by id', async () => {
    const dir = freshDir('dormant-cost-plan-');
    proxy.requests.length = 0;
    const run = await runCli(['plan', '--format', 'json', '--source', 'report', '--db', join(dir, 'dormant.db')], {
      endpoint: proxy.url,
      cwd: dir,
    });
    expect(run.status, run.stderr).toBe(0);
    const calls = byAction(proxy);
    console.log(`plan (report source): ${JSON.stringify(calls)}`);
    // The 12 keyed users get key actions; stale users are disabled as a whole, tagged ones exempt.
    expect(calls.ListAccessKeys).toBe(12);
    const plan = JSON.parse(run.stdout) as {
      items: { identityName: string; credentialId: string | null; action: string; sentence: string }[];
    };
    const keyItems = plan.items.filter((i) => i.action === 'deactivate-key' || i.action === 'delete-key');
    expect(new Set(keyItems.map((i) => i.identityName)).size).toBe(12);
    for (const item of keyItems) {
      expect(item.credentialId).toMatch(/^AKIA/);
      expect(item.sentence).toContain(item.credentialId!);
    }
    // Every key finding of the keyed users became an item: the slots of the API's keys.
    const apiKeys = keyFindings(apiDoc).filter((f) => f.identityName.startsWith('keyed-'));
    expect(new Set(keyItems.map((i) => i.credentialId))).toEqual(new Set(apiKeys.map((f) => f.credentialId)));
    expect(plan.items.filter((i) => i.identityName.startsWith('stale-')).map((i) => i.action)).toContain(
      'disable-user',
    );
  });

  it('GetAccountAuthorizationDetails denied: ListUserTags per flagged user, one warning', async () => {
    deny = true;
    try {
      const doc = await scanThroughProxy([]);
      const calls = byAction(proxy);
      console.log(`report scan, GAAD for users denied: ${JSON.stringify(calls)}`);
      const flagged = new Set(doc.findings.map((f) => f.identityName));
      for (const i of doc.identities) if (i.exemptReason?.startsWith('tag')) flagged.add(i.name);
      expect(calls.ListUserTags).toBe(flagged.size);
      expect(calls.ListAccessKeys ?? 0).toBe(0);
      expect(doc.identities.filter((i) => i.state === 'exempt').map((i) => i.name)).toEqual(
        Array.from({ length: 5 }, (_, i) => `tagged-0${i}`),
      );
      expect(doc.warnings?.filter((w) => /GetAccountAuthorizationDetails/.test(w))).toEqual([
        `AWS denied iam:GetAccountAuthorizationDetails (AccessDenied): read the tags of ${flagged.size} user(s) with iam:ListUserTags instead (one call each); grant it ('dormant permissions')`,
      ]);
    } finally {
      deny = false;
    }
  });
});
