// DORMANT-AWS-006 unused-role (DESIGN §2b), table-driven: roles as the AWS provider builds them
// from RoleLastUsed (roleIdentity), scanned through the engine so that exemptions (the provider's
// service-linked and service-only marks, the tag, the config glob) take part as in a real scan.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { scan } from '../engine/scan.js';
import type { Inventory } from '../model/identity.js';
import { DAY_MS } from '../model/time.js';
import type { ScanProvider } from '../providers/provider.js';
import { type RoleFacts, roleIdentity } from '../providers/aws/aws-role-identity.js';
import { unusedRole } from './unusedRole.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ACCOUNT = '123456789012';
const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);

const ACCOUNT_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
};
const LAMBDA_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const MIXED_TRUST = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: ['ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' },
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
      Action: 'sts:AssumeRoleWithWebIdentity',
    },
  ],
};

interface RoleSpec {
  created: number;
  /** Days ago of RoleLastUsed; null: no value. */
  used: number | null;
  path?: string;
  trust?: object;
  tags?: Record<string, string>;
  quarantined?: boolean;
  instanceProfiles?: string[];
}

function role(name: string, spec: RoleSpec) {
  const path = spec.path ?? '/';
  const facts: RoleFacts = {
    arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
    name,
    path,
    createDate: ago(spec.created),
    // AWS returns the trust policy URL-encoded.
    trustPolicy: encodeURIComponent(JSON.stringify(spec.trust ?? ACCOUNT_TRUST)),
    tags: Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    lastUsed: spec.used === null ? {} : { LastUsedDate: ago(spec.used), Region: 'eu-west-1' },
    quarantined: spec.quarantined ?? false,
    instanceProfiles: spec.instanceProfiles ?? [],
  };
  return roleIdentity(facts, NOW);
}

function provider(identities: ReturnType<typeof role>[]): ScanProvider {
  const inventory: Inventory = {
    provider: 'aws',
    source: 'api',
    accounts: [ACCOUNT],
    dataAsOf: NOW.toISOString(),
    caller: { arn: `arn:aws:iam::${ACCOUNT}:user/dormant`, account: ACCOUNT },
    identities,
    warnings: [],
  };
  return { name: 'aws', collect: () => Promise.resolve(inventory), enrich: () => Promise.resolve([]) };
}

interface Case {
  what: string;
  spec: RoleSpec;
  config?: object;
  state: 'active' | 'inactive' | 'exempt';
  message?: RegExp;
  exempt?: RegExp;
  lastUse: 'used' | 'never' | 'before-tracking';
}

const CASES: Case[] = [
  { what: 'recent: used 10 days ago', spec: { created: 900, used: 10 }, state: 'active', lastUse: 'used' },
  {
    what: 'stale: last used 120 days ago',
    spec: { created: 900, used: 120 },
    state: 'inactive',
    message: /^Role r was last used 120 days ago \(window 90 days\)\.$/,
    lastUse: 'used',
  },
  {
    what: 'used exactly 90 days ago is outside the window',
    spec: { created: 900, used: 90 },
    state: 'inactive',
    message: /last used 90 days ago/,
    lastUse: 'used',
  },
  { what: 'used 89 days ago is inside it', spec: { created: 900, used: 89 }, state: 'active', lastUse: 'used' },
  {
    what: 'never used and young: created 30 days ago',
    spec: { created: 30, used: null },
    state: 'active',
    lastUse: 'never',
  },
  {
    what: 'never used, older than the window but inside the 400 days',
    spec: { created: 200, used: null },
    state: 'inactive',
    message: /^Role r was created 200 days ago and has never been used \(window 90 days\)\.$/,
    lastUse: 'never',
  },
  {
    what: 'no value and older than 400 days: before-tracking, still flagged',
    spec: { created: 900, used: null },
    state: 'inactive',
    message: /^Role r was created 900 days ago and has not been used in the 400 days RoleLastUsed covers/,
    lastUse: 'before-tracking',
  },
  {
    what: 'before-tracking with a window longer than the 400 days: no verdict',
    spec: { created: 900, used: null },
    config: { rules: { 'unused-role': { days: 500 } } },
    state: 'active',
    lastUse: 'before-tracking',
  },
  {
    what: 'service-linked: listed, never flagged',
    spec: { created: 900, used: null, path: '/aws-service-role/elasticbeanstalk.amazonaws.com/' },
    state: 'exempt',
    exempt: /^service-linked role/,
    lastUse: 'before-tracking',
  },
  {
    what: 'only a service may assume it: listed, never flagged',
    spec: { created: 900, used: 300, trust: LAMBDA_TRUST },
    state: 'exempt',
    exempt: /^only AWS services can assume it \(trust policy: lambda\.amazonaws\.com\)$/,
    lastUse: 'used',
  },
  {
    what: 'a service and a federated principal: flagged',
    spec: { created: 900, used: 300, trust: MIXED_TRUST },
    state: 'inactive',
    message: /last used 300 days ago/,
    lastUse: 'used',
  },
  {
    what: 'IAM Identity Center role: listed, never flagged',
    spec: { created: 900, used: 300, path: '/aws-reserved/sso.amazonaws.com/' },
    state: 'exempt',
    exempt: /IAM Identity Center/,
    lastUse: 'used',
  },
  {
    what: 'tagged dormant:exempt=true',
    spec: { created: 900, used: 300, tags: { 'dormant:exempt': 'True' } },
    state: 'exempt',
    exempt: /^tag dormant:exempt=true$/,
    lastUse: 'used',
  },
  {
    what: 'matched by an exempt.users glob on the ARN',
    spec: { created: 900, used: 300, path: '/ci/' },
    config: { exempt: { users: ['*:role/ci/*'] } },
    state: 'exempt',
    exempt: /^config exempt.users matches '\*:role\/ci\/\*'$/,
    lastUse: 'used',
  },
  {
    what: 'in an instance profile: flagged like any other',
    spec: { created: 900, used: 300, instanceProfiles: ['web'] },
    state: 'inactive',
    message: /last used 300 days ago/,
    lastUse: 'used',
  },
  {
    what: 'already quarantined by dormant: not flagged again',
    spec: { created: 900, used: 300, quarantined: true },
    state: 'active',
    lastUse: 'used',
  },
  {
    what: 'turned off',
    spec: { created: 900, used: 300 },
    config: { rules: { 'DORMANT-AWS-006': { enabled: false } } },
    state: 'active',
    lastUse: 'used',
  },
];

describe('DORMANT-AWS-006 unused-role', () => {
  it.each(CASES)('$what', async (c) => {
    const identity = role('r', c.spec);
    expect(identity.signIn?.lastUse).toBe(c.lastUse);
    const result = await scan(provider([identity]), {
      config: parseConfig({ inactiveDays: 90, ...c.config }),
      now: NOW,
    });
    const [scanned] = result.identities;
    expect(scanned?.kind).toBe('role');
    expect(scanned?.state).toBe(c.state);
    if (c.state === 'inactive') {
      expect(result.findings).toHaveLength(1);
      const f = result.findings[0]!;
      expect(f).toMatchObject({ ruleId: 'DORMANT-AWS-006', rule: 'unused-role', recommendedAction: 'disable-user' });
      expect(f.message).toMatch(c.message!);
      expect(f.identityId).toBe(identity.id);
    } else {
      expect(result.findings).toEqual([]);
    }
    if (c.exempt) expect(scanned?.exemptReason).toMatch(c.exempt);
    else expect(scanned?.exemptReason).toBeNull();
  });

  it('reads roles only, and is staged like the user rules', () => {
    expect(unusedRole).toMatchObject({ provider: 'aws', identityKinds: ['role'], scope: 'identity', usesWindow: true });
    expect(unusedRole.compliance).not.toContain('CIS AWS 1.12 (v3.0)');
    expect(unusedRole.compliance).toContain('NIST 800-53 AC-2(3)');
  });

  it('dates the finding by the last use, or by creation when there is none', async () => {
    const result = await scan(
      provider([role('used', { created: 900, used: 120 }), role('unused', { created: 200, used: null })]),
      { config: parseConfig({}), now: NOW },
    );
    const byName = new Map(result.findings.map((f) => [f.identityName, f]));
    expect(byName.get('used')).toMatchObject({ daysSinceActivity: 120, lastActivityAt: '2026-07-25T12:00:00Z' });
    expect(byName.get('unused')).toMatchObject({ daysSinceActivity: 200, lastActivityAt: '2026-05-06T12:00:00Z' });
  });

  it('gives no verdict on a role whose creation time is unknown and that has no last use', async () => {
    const identity = { ...role('r', { created: 900, used: null }), createdAt: null };
    expect(unusedRole.evaluate(identity, { now: NOW, days: 90 })).toEqual([]);
  });
});
