// IAM roles as identities, without AWS: the trust policy's principals (service-only or not), the
// 400-day RoleLastUsed horizon, dormant's quarantine document, the caller's own role, ARNs, and
// the plan sentences in a role's words.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/config.js';
import { DAY_MS } from '../../model/time.js';
import { markProtected } from './aws-caller.js';
import { awsDescriber } from './aws-describer.js';
import {
  QUARANTINE_DOCUMENT,
  isQuarantineDocument,
  isServiceOnly,
  parseRoleArn,
  roleIdentity,
  roleSignIn,
  trustPrincipals,
} from './aws-role-identity.js';

const ACCOUNT = '123456789012';
const NOW = new Date('2026-11-22T12:00:00Z');
const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (principal: unknown) => ({ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' });

describe('trust policy principals', () => {
  it('reads every principal of the Allow statements, URL-encoded or not', () => {
    const doc = policy(
      allow({ Service: ['ec2.amazonaws.com', 'ssm.amazonaws.com'] }),
      allow({ AWS: `arn:aws:iam::${ACCOUNT}:root` }),
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
    );
    const expected = [
      { type: 'Service', value: 'ec2.amazonaws.com' },
      { type: 'Service', value: 'ssm.amazonaws.com' },
      { type: 'AWS', value: `arn:aws:iam::${ACCOUNT}:root` },
    ];
    expect(trustPrincipals(doc)).toEqual(expected);
    expect(trustPrincipals(encodeURIComponent(doc))).toEqual(expected);
    expect(isServiceOnly(trustPrincipals(doc))).toBe(false);
  });

  it('is service-only when every Allow names only services (a single statement object too)', () => {
    const doc = JSON.stringify({ Version: '2012-10-17', Statement: allow({ Service: 'lambda.amazonaws.com' }) });
    expect(isServiceOnly(trustPrincipals(doc))).toBe(true);
  });

  it('treats "*", NotPrincipal, federated and unreadable policies as not service-only', () => {
    expect(trustPrincipals(policy(allow('*')))).toEqual([{ type: '*', value: '*' }]);
    const notPrincipal = policy({ Effect: 'Allow', NotPrincipal: { Service: 'x.amazonaws.com' }, Action: '*' });
    expect(isServiceOnly(trustPrincipals(notPrincipal))).toBe(false);
    const oidc = policy(allow({ Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/example.com` }));
    expect(isServiceOnly(trustPrincipals(oidc))).toBe(false);
    expect(trustPrincipals('{not json')).toBeNull();
    expect(trustPrincipals(policy(allow(['x'])))).toBeNull();
    expect(isServiceOnly(null)).toBe(false);
    // No Allow at all: nobody can assume it, which is not "only services".
    expect(isServiceOnly(trustPrincipals(policy()))).toBe(false);
  });
});

describe('RoleLastUsed', () => {
  it('is used, never (younger than 400 days) or before-tracking (older, with no value)', () => {
    const created = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();
    expect(roleSignIn(new Date('2026-10-01T08:09:10.123Z'), created(900), NOW)).toEqual({
      lastUse: 'used',
      at: '2026-10-01T08:09:10Z',
    });
    expect(roleSignIn(undefined, created(399), NOW)).toEqual({ lastUse: 'never', at: null });
    expect(roleSignIn(undefined, created(401), NOW)).toEqual({
      lastUse: 'before-tracking',
      at: null,
      trackingSince: '2025-10-18T12:00:00Z',
    });
    expect(roleSignIn(undefined, null, NOW).lastUse).toBe('before-tracking');
  });
});

describe('the quarantine', () => {
  it("recognises dormant's deny-all, and no lookalike", () => {
    expect(isQuarantineDocument(QUARANTINE_DOCUMENT)).toBe(true);
    expect(isQuarantineDocument(encodeURIComponent(QUARANTINE_DOCUMENT))).toBe(true);
    expect(isQuarantineDocument(policy({ Effect: 'Deny', Action: 's3:*', Resource: '*' }))).toBe(false);
    expect(
      isQuarantineDocument(
        policy({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ),
    ).toBe(false);
    expect(isQuarantineDocument(policy({ Effect: 'Allow', Action: '*', Resource: '*' }))).toBe(false);
    expect(isQuarantineDocument(undefined)).toBe(false);
  });
});

describe('role identities', () => {
  const facts = (name: string, path = '/') => ({
    arn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
    name,
    path,
    createDate: new Date('2024-01-01T00:00:00Z'),
    trustPolicy: policy(allow({ AWS: `arn:aws:iam::${ACCOUNT}:root` })),
    tags: [{ Key: 'team', Value: 'data' }],
    lastUsed: { LastUsedDate: new Date('2026-01-02T03:04:05Z'), Region: 'eu-west-1' },
    quarantined: false,
  });

  it('carry the neutral fields and the AWS ones beside them', () => {
    const r = roleIdentity({ ...facts('deploy', '/ci/'), instanceProfiles: ['web'] }, NOW);
    expect(r).toMatchObject({
      provider: 'aws',
      account: ACCOUNT,
      kind: 'role',
      id: `arn:aws:iam::${ACCOUNT}:role/ci/deploy`,
      name: 'deploy',
      path: '/ci/',
      createdAt: '2024-01-01T00:00:00Z',
      enabled: true,
      credentials: [],
      signIn: { lastUse: 'used', at: '2026-01-02T03:04:05Z' },
      lastSignInAt: '2026-01-02T03:04:05Z',
      tags: { team: 'data' },
      serviceLinked: false,
      instanceProfiles: ['web'],
      lastUsedRegion: 'eu-west-1',
      quarantined: false,
      exemptReason: null,
    });
    expect(roleIdentity({ ...facts('deploy'), quarantined: true }, NOW).enabled).toBe(false);
  });

  it('parse role ARNs with paths', () => {
    expect(parseRoleArn(`arn:aws:iam::${ACCOUNT}:role/a/b/name`)).toEqual({
      account: ACCOUNT,
      path: '/a/b/',
      name: 'name',
    });
    expect(parseRoleArn(`arn:aws:iam::${ACCOUNT}:user/name`)).toBeNull();
  });

  it('mark the role dormant runs as (an assumed-role session), and not a user named like the session', () => {
    const caller = { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/dormant-scanner/alice`, account: ACCOUNT };
    const mine = roleIdentity(facts('dormant-scanner'), NOW);
    markProtected(mine, caller);
    expect(mine).toMatchObject({ isCaller: true, protectedReason: 'the identity dormant runs as' });
    const sessionNamed = roleIdentity(facts('alice'), NOW);
    markProtected(sessionNamed, caller);
    expect(sessionNamed.protectedReason).toBeUndefined();
  });
});

describe('plan sentences for roles', () => {
  const words = awsDescriber(parseConfig({}));
  const ask = (action: 'disable-user' | 'delete-user', deleteAfterDays: number | null) =>
    words.describe({
      action,
      identity: { name: 'old-deployer', kind: 'role' },
      credential: null,
      reason: 'unused 143 days',
      deleteAfterDays,
    });

  it('say role, quarantine and what the delete removes', () => {
    expect(ask('disable-user', 30)).toBe(
      'Quarantine IAM role old-deployer: attach the deny-all inline policy dormant-quarantine (unused 143 days)',
    );
    expect(ask('delete-user', 30)).toBe(
      "Delete IAM role old-deployer completely after a backup, 30 days after it is quarantined: remove it from its instance profiles (the profiles stay), delete its inline policies and detach its managed policies (unused 143 days); cannot be fully undone: a restored role gets a new id, and other roles' trust and resource policies that named it must be saved again",
    );
    expect(ask('delete-user', 0)).toMatch(/^Delete IAM role old-deployer completely after a backup: remove/);
    // Restore recreates the role with a new unique id: what named the old one is lost.
    expect(words.irreversible('delete-user', 'role')).toBe(true);
    expect(words.irreversible('disable-user', 'role')).toBe(false);
    expect(words.irreversible('delete-user', 'user')).toBe(false);
  });
});
