// The four Google rules (DESIGN §2d) on hand-built identities: Workspace logins and the 1970
// "never", creation grace, suspended users; service account keys (created yesterday, used
// yesterday, disabled, unknown activity) and accounts whose age cannot be established.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { evaluate } from '../engine/evaluate.js';
import type { Credential, Identity, SignIn } from '../model/identity.js';
import { DAY_MS, isoSeconds } from '../model/time.js';
import { RULES } from './index.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const ago = (days: number) => isoSeconds(NOW.getTime() - days * DAY_MS);
const config = parseConfig({ inactiveDays: 90 });

function ruleIds(identity: Identity): string[] {
  const [e] = evaluate([identity], config, NOW);
  return (e?.hits ?? []).map((h) => h.rule.id).sort();
}
function messages(identity: Identity): string[] {
  return (evaluate([identity], config, NOW)[0]?.hits ?? []).map((h) => h.hit.message);
}

function user(name: string, created: number, signIn: SignIn, extra: Partial<Identity> = {}): Identity {
  return {
    provider: 'google',
    account: 'C01abc23d',
    kind: 'user',
    id: String(100000000000000000000 + name.length),
    name: `${name}@example.com`,
    path: '/',
    createdAt: ago(created),
    enabled: true,
    credentials: [],
    signIn,
    lastSignInAt: signIn.at,
    ...extra,
  };
}
const used = (days: number): SignIn => ({ lastUse: 'used', at: ago(days) });
const never: SignIn = { lastUse: 'never', at: null };

function key(
  id: string,
  created: number,
  lastUse: Credential['lastUse'],
  usedDays: number | null,
  enabled = true,
): Credential {
  return {
    kind: 'key',
    id,
    status: enabled ? 'enabled' : 'disabled',
    enabled,
    createdAt: ago(created),
    lastUsedAt: usedDays === null ? null : ago(usedDays),
    lastUse,
  };
}
function serviceAccount(name: string, signIn: SignIn, keys: Credential[], createdAt: string | null): Identity {
  return {
    provider: 'google',
    account: 'proj-a',
    kind: 'service-account',
    id: `1${name.length}2345678901234567890`,
    name: `${name}@proj-a.iam.gserviceaccount.com`,
    path: '/',
    createdAt,
    enabled: true,
    credentials: keys,
    signIn,
  };
}

describe('Workspace rules', () => {
  it('GWS-001: last login before the window', () => {
    expect(ruleIds(user('old', 400, used(120)))).toEqual(['DORMANT-GWS-001']);
    expect(messages(user('old', 400, used(120)))[0]).toBe(
      'User old@example.com last logged in 120 days ago (window 90 days).',
    );
  });
  it('no verdict for a login inside the window', () => {
    expect(ruleIds(user('recent', 400, used(3)))).toEqual([]);
  });
  it('GWS-002: never logged in (the 1970 value) and created before the window; it supersedes GWS-001', () => {
    expect(ruleIds(user('never', 200, never))).toEqual(['DORMANT-GWS-002']);
    expect(messages(user('never', 200, never))[0]).toMatch(/created 200 days ago and has never logged in/);
  });
  it('a user created yesterday who never logged in gets no verdict', () => {
    expect(ruleIds(user('newhire', 1, never))).toEqual([]);
  });
  it('suspended or archived users (enabled false) are not flagged again', () => {
    expect(ruleIds(user('gone', 400, used(300), { enabled: false }))).toEqual([]);
    expect(ruleIds(user('gone2', 400, never, { enabled: false }))).toEqual([]);
  });
  it('unknown login data gives no verdict', () => {
    expect(ruleIds(user('unknown', 400, { lastUse: 'unknown', at: null }))).toEqual([]);
  });
});

describe('Cloud rules', () => {
  const oldAccount = ago(400);
  it('GCP-001: a key created before the window and never used', () => {
    const sa = serviceAccount('ci', used(2), [key('k1', 200, 'never', null)], oldAccount);
    expect(ruleIds(sa)).toEqual(['DORMANT-GCP-001']);
    expect(messages(sa)[0]).toBe(
      'Key k1 of service account ci@proj-a.iam.gserviceaccount.com was created 200 days ago and never used (window 90 days).',
    );
  });
  it('a key created yesterday and never used gets no verdict', () => {
    expect(ruleIds(serviceAccount('ci', used(2), [key('k1', 1, 'never', null)], oldAccount))).toEqual([]);
  });
  it('a key used yesterday on an old account gets no verdict, and neither does the account', () => {
    expect(ruleIds(serviceAccount('ci', used(1), [key('k1', 300, 'used', 1)], oldAccount))).toEqual([]);
  });
  it('a disabled key gets no verdict', () => {
    expect(ruleIds(serviceAccount('ci', used(2), [key('k1', 300, 'never', null, false)], oldAccount))).toEqual([]);
  });
  it('a key with unknown activity (Policy Analyzer denied) gets no verdict', () => {
    expect(
      ruleIds(serviceAccount('ci', { lastUse: 'unknown', at: null }, [key('k1', 300, 'unknown', null)], oldAccount)),
    ).toEqual([]);
  });
  it('GCP-002: an account last authenticated before the window', () => {
    const sa = serviceAccount('batch', used(150), [], null);
    expect(ruleIds(sa)).toEqual(['DORMANT-GCP-002']);
    expect(messages(sa)[0]).toMatch(/last authenticated 150 days ago/);
  });
  it('GCP-002: never authenticated and dated by an old key', () => {
    const sa = serviceAccount('batch', never, [key('k1', 200, 'never', null)], ago(200));
    expect(ruleIds(sa)).toEqual(['DORMANT-GCP-001', 'DORMANT-GCP-002']);
  });
  it('GCP-002 counts its keys: a key used 2 days ago keeps an account with an old authentication active', () => {
    expect(ruleIds(serviceAccount('busy', used(200), [key('k1', 300, 'used', 2)], ago(300)))).toEqual([]);
  });
  it('GCP-002 counts a key created yesterday as activity (someone is setting the account up)', () => {
    const sa = serviceAccount(
      'setup',
      used(200),
      [key('k1', 300, 'never', null), key('k2', 1, 'never', null)],
      ago(300),
    );
    expect(ruleIds(sa)).toEqual(['DORMANT-GCP-001']);
  });
  it('GCP-002 gives no verdict when the last use of any key is unknown', () => {
    expect(ruleIds(serviceAccount('half', used(200), [key('k1', 300, 'unknown', null)], ago(300)))).toEqual([]);
  });
  it('a key whose creation time is unknown (uploaded) and never used gets no verdict, nor dates the account', () => {
    const uploaded = { ...key('k1', 300, 'never', null), createdAt: null };
    expect(ruleIds(serviceAccount('upl', never, [uploaded], null))).toEqual([]);
  });
  it('the Cloud rules make the delete wait at least 3 days (Policy Analyzer lags up to two)', () => {
    expect(RULES.filter((r) => r.id.startsWith('DORMANT-GCP')).map((r) => r.minDeleteAfterDays)).toEqual([3, 3]);
  });
  it('an account with no keys and no activity data has no age: no verdict', () => {
    expect(ruleIds(serviceAccount('mystery', never, [], null))).toEqual([]);
  });
  it('a disabled account is not flagged again', () => {
    expect(ruleIds({ ...serviceAccount('off', used(300), [], null), enabled: false })).toEqual([]);
  });
  it('rules of another provider never read Google identities', () => {
    const google = RULES.filter((r) => r.provider === 'google').map((r) => r.id);
    expect(google).toEqual(['DORMANT-GWS-001', 'DORMANT-GWS-002', 'DORMANT-GCP-001', 'DORMANT-GCP-002']);
    expect(RULES.find((r) => r.id === 'DORMANT-GCP-001')?.thenAction).toBe('delete-key');
  });
});
