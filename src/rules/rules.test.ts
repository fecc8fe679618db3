// Covers the five AWS rules (DESIGN §2) on hand-built identities: window boundaries, edge cases, per-rule config and exemptions.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { evaluate } from '../engine/scan.js';
import type { Credential, Identity, LastUse } from '../model/identity.js';
import { DAY_MS, isoSeconds } from '../model/time.js';
import { inactiveUser } from './inactiveUser.js';
import { RULES } from './index.js';
import type { Rule, RuleHit } from './index.js';
import { unrotatedAccessKey } from './unrotatedAccessKey.js';
import { unusedAccessKey } from './unusedAccessKey.js';
import { unusedPassword } from './unusedPassword.js';
import { unusedUser } from './unusedUser.js';
import { accessKey, awsUser, password as passwordCredential } from '../../test/support/identities.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const WINDOW = 90;
const ACCOUNT = '123456789012';
const PASSWORD_TRACKING = '2014-10-20T00:00:00Z';
const KEY_TRACKING = '2015-04-22T00:00:00Z';

/** Days before NOW (a number), or an exact ISO instant (a string). */
type When = number | string;
/** How a credential was last used: days ago / instant, or one of the no-date verdicts. */
type Use = When | Exclude<LastUse, 'used'>;

function at(when: When): string {
  return typeof when === 'string' ? when : isoSeconds(NOW.getTime() - when * DAY_MS);
}

/** `days` days before NOW, plus `seconds` (so `ago(90, 1)` is one second short of 90 days). */
function ago(days: number, seconds = 0): string {
  return isoSeconds(NOW.getTime() - days * DAY_MS + seconds * 1000);
}

function use(u: Use, trackingSince: string): Pick<Credential, 'lastUse' | 'lastUsedAt' | 'trackingSince'> {
  if (u === 'never' || u === 'unknown') return { lastUse: u, lastUsedAt: null };
  if (u === 'before-tracking') return { lastUse: u, lastUsedAt: null, trackingSince };
  return { lastUse: 'used', lastUsedAt: at(u) };
}

function password(set: When, lastUse: Use, trackingSince = PASSWORD_TRACKING): Credential {
  return passwordCredential({ createdAt: at(set), ...use(lastUse, trackingSince) });
}

function key(id: string, created: When, lastUse: Use, status: 'Active' | 'Inactive' = 'Active'): Credential {
  return accessKey({ id, status, createdAt: at(created), ...use(lastUse, KEY_TRACKING) });
}

function user(
  name: string,
  created: When | null,
  credentials: Credential[] = [],
  extra: Partial<Identity> = {},
): Identity {
  return awsUser(name, created === null ? null : at(created), { account: ACCOUNT, credentials, ...extra });
}

function run(rule: Rule, identity: Identity, days = WINDOW): RuleHit[] {
  return rule.evaluate(identity, { now: NOW, days });
}

/** The parts of a hit a test asserts: the credential, message and activity. */
function summary(hit: RuleHit): {
  credential: string | null;
  message: string;
  lastActivityAt: string | null;
  daysSinceActivity: number | null;
} {
  return {
    credential: hit.credential ? (hit.credential.id ?? hit.credential.handle ?? hit.credential.kind) : null,
    message: hit.message,
    lastActivityAt: hit.lastActivityAt,
    daysSinceActivity: hit.daysSinceActivity,
  };
}

/** Rule ids (with the credential for key findings) that evaluate() gives one identity. */
function verdict(identity: Identity, raw: unknown = {}): string[] {
  const [result] = evaluate([identity], parseConfig(raw), NOW);
  if (!result) throw new Error('evaluate returned nothing');
  return result.hits.map(({ rule, hit }) =>
    hit.credential?.kind === 'access-key'
      ? `${rule.id}[${hit.credential.id ?? hit.credential.handle ?? '?'}]`
      : rule.id,
  );
}

describe('the rule table', () => {
  it('has the documented ids, names, severities and default actions, in id order', () => {
    expect(RULES.map((r) => [r.id, r.name, r.severity, r.defaultAction])).toEqual([
      ['DORMANT-AWS-001', 'inactive-user', 'medium', 'disable-user'],
      ['DORMANT-AWS-002', 'unused-access-key', 'medium', 'deactivate-key'],
      ['DORMANT-AWS-003', 'unused-user', 'medium', 'delete-user'],
      ['DORMANT-AWS-004', 'unused-password', 'medium', 'remove-password'],
      ['DORMANT-AWS-005', 'unrotated-access-key', 'low', 'notify'],
      ['DORMANT-AWS-006', 'unused-role', 'medium', 'disable-user'],
      ['DORMANT-ENTRA-001', 'inactive-user', 'medium', 'disable-user'],
      ['DORMANT-ENTRA-002', 'inactive-guest', 'medium', 'disable-user'],
      ['DORMANT-ENTRA-003', 'never-signed-in-user', 'medium', 'disable-user'],
      ['DORMANT-GWS-001', 'inactive-user', 'medium', 'disable-user'],
      ['DORMANT-GWS-002', 'never-signed-in-user', 'medium', 'disable-user'],
      ['DORMANT-GCP-001', 'unused-service-account-key', 'medium', 'deactivate-key'],
      ['DORMANT-GCP-002', 'inactive-service-account', 'medium', 'disable-user'],
    ]);
    expect(unrotatedAccessKey.usesWindow).toBe(false);
    expect(unrotatedAccessKey.defaultDays).toBe(90);
  });
});

/**
 * Each rule at the window boundary: N-1 days is inside the window (no finding), exactly N days
 * is outside it (a finding), and so is N+1. One second short of N days is still inside.
 */
describe('window boundaries (N = 90)', () => {
  const boundaries: { label: string; when: When; days: number | null }[] = [
    { label: 'N-1 days', when: 89, days: null },
    { label: 'N days less one second', when: ago(90, 1), days: null },
    { label: 'exactly N days', when: 90, days: 90 },
    { label: 'N+1 days', when: 91, days: 91 },
  ];

  describe('DORMANT-AWS-001 inactive-user: last activity (a sign-in)', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(inactiveUser, user('leo.park', 400, [password(400, when)]));
      expect(hits.map(summary)).toEqual(
        days === null
          ? []
          : [
              {
                credential: null,
                message: `User leo.park has had no activity for ${days} days (window 90 days).`,
                lastActivityAt: at(when),
                daysSinceActivity: days,
              },
            ],
      );
    });
  });

  describe('DORMANT-AWS-001 inactive-user: last activity (user and Inactive key creation)', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(inactiveUser, user('svc-old', when, [key('AKIAOLD', when, 'never', 'Inactive')]));
      expect(hits.map((h) => [h.message, h.daysSinceActivity])).toEqual(
        days === null ? [] : [[`User svc-old has had no activity for ${days} days (window 90 days).`, days]],
      );
    });
  });

  describe('DORMANT-AWS-002 unused-access-key: key last used', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(unusedAccessKey, user('svc-etl', 400, [key('AKIAETL', 400, when)]));
      expect(hits.map(summary)).toEqual(
        days === null
          ? []
          : [
              {
                credential: 'AKIAETL',
                message: `Access key AKIAETL of svc-etl was last used ${days} days ago (window 90 days).`,
                lastActivityAt: at(when),
                daysSinceActivity: days,
              },
            ],
      );
    });
  });

  describe('DORMANT-AWS-002 unused-access-key: key never used, created', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(unusedAccessKey, user('svc-etl', 400, [key('AKIAETL', when, 'never')]));
      expect(hits.map(summary)).toEqual(
        days === null
          ? []
          : [
              {
                credential: 'AKIAETL',
                message: `Access key AKIAETL of svc-etl was created ${days} days ago and never used (window 90 days).`,
                lastActivityAt: at(when),
                daysSinceActivity: days,
              },
            ],
      );
    });
  });

  describe('DORMANT-AWS-003 unused-user: user with no credentials, created', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(unusedUser, user('quinn.foster', when));
      expect(hits.map(summary)).toEqual(
        days === null
          ? []
          : [
              {
                credential: null,
                message: `User quinn.foster was created ${days} days ago, has never signed in and has no access keys (window 90 days).`,
                lastActivityAt: at(when),
                daysSinceActivity: days,
              },
            ],
      );
    });
  });

  describe('DORMANT-AWS-003 unused-user: never-used password, user and password created', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(unusedUser, user('tyler.brooks', when, [password(when, 'never')]));
      expect(hits.map((h) => [h.message, h.lastActivityAt, h.daysSinceActivity])).toEqual(
        days === null
          ? []
          : [
              [
                `User tyler.brooks was created ${days} days ago, has a console password that was never used and has no access keys (window 90 days).`,
                at(when),
                days,
              ],
            ],
      );
    });
  });

  describe('DORMANT-AWS-004 unused-password: password last used', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(unusedPassword, user('li.wei', 400, [password(400, when)]));
      expect(hits.map(summary)).toEqual(
        days === null
          ? []
          : [
              {
                credential: 'password',
                message: `Console password of li.wei was last used ${days} days ago (window 90 days).`,
                lastActivityAt: at(when),
                daysSinceActivity: days,
              },
            ],
      );
    });
  });

  describe('DORMANT-AWS-004 unused-password: password never used, set', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(unusedPassword, user('li.wei', 400, [password(when, 'never')]));
      expect(hits.map((h) => [h.message, h.daysSinceActivity])).toEqual(
        days === null
          ? []
          : [[`Console password of li.wei was set ${days} days ago and never used (window 90 days).`, days]],
      );
    });
  });

  describe('DORMANT-AWS-005 unrotated-access-key: key created (used yesterday)', () => {
    it.each(boundaries)('$label', ({ when, days }) => {
      const hits = run(unrotatedAccessKey, user('sofia.garcia', 400, [key('AKIASOFIA', when, 1)]), 90);
      expect(hits.map(summary)).toEqual(
        days === null
          ? []
          : [
              {
                credential: 'AKIASOFIA',
                message: `Access key AKIASOFIA of sofia.garcia was created ${days} days ago and not rotated (rotation period 90 days).`,
                lastActivityAt: at(1),
                daysSinceActivity: 1,
              },
            ],
      );
    });
  });
});

describe('edge cases through evaluate() with the default config', () => {
  const cases: { name: string; identity: Identity; expected: string[] }[] = [
    {
      name: 'an old user with a fresh, unused key: the key creation is activity, and the key is in its grace period',
      identity: user('nina.kowalski', 2000, [key('AKIANEW', 3, 'never')]),
      expected: [],
    },
    {
      name: 'a fresh key on an old user with an old unused password: only the password',
      identity: user('nina.kowalski', 2000, [password(2000, 500), key('AKIANEW', 3, 'never')]),
      expected: ['DORMANT-AWS-004'],
    },
    {
      name: 'a never-used key older than the window on a user who signs in',
      identity: user('peter.walsh', 800, [password(800, 2), key('AKIAPETER', 120, 'never')]),
      expected: ['DORMANT-AWS-002[AKIAPETER]', 'DORMANT-AWS-005[AKIAPETER]'],
    },
    {
      name: 'a never-used key older than the window, and nothing else',
      identity: user('svc-reporting-old', 150, [key('AKIAREP', 150, 'never')]),
      expected: ['DORMANT-AWS-001', 'DORMANT-AWS-002[AKIAREP]', 'DORMANT-AWS-005[AKIAREP]'],
    },
    {
      name: 'an Inactive key long unused on an active user: never 002 or 005',
      identity: user('hana.sato', 900, [password(900, 2), key('AKIAHANA', 600, 500, 'Inactive')]),
      expected: [],
    },
    {
      name: 'an Inactive key on an idle user: the user is inactive, the key is not flagged, and it is not unused-user',
      identity: user('greg.jenkins', 800, [key('AKIAGREG', 700, 500, 'Inactive')]),
      expected: ['DORMANT-AWS-001'],
    },
    {
      name: 'a password user who never signed in and has no keys: 003 (not 001), plus the password itself',
      identity: user('tyler.brooks', 150, [password(150, 'never')]),
      expected: ['DORMANT-AWS-003', 'DORMANT-AWS-004'],
    },
    {
      name: 'a user with no credentials older than the window',
      identity: user('quinn.foster', 200),
      expected: ['DORMANT-AWS-003'],
    },
    {
      name: 'a user with no credentials younger than the window',
      identity: user('zoe.kim', 30),
      expected: [],
    },
    {
      name: 'a user whose creation time is unknown',
      identity: user('ghost', null),
      expected: [],
    },
    {
      name: 'unknown password last use: no finding at all',
      identity: user('dana.white', 400, [password(400, 'unknown')]),
      expected: [],
    },
    {
      name: 'unknown key last use on a young key: no finding at all',
      identity: user('svc-partner', 400, [key('AKIAPART', 60, 'unknown')]),
      expected: [],
    },
    {
      name: 'unknown key last use on an old key: only rotation, which does not depend on use',
      identity: user('svc-partner', 400, [key('AKIAPART', 300, 'unknown')]),
      expected: ['DORMANT-AWS-005[AKIAPART]'],
    },
    {
      name: 'a password not used since tracking began (2014): inactive, and not unused-user (it may have been used before)',
      identity: user('martin.hughes', '2013-02-11T16:20:00Z', [password('2013-06-03T09:00:00Z', 'before-tracking')]),
      expected: ['DORMANT-AWS-001', 'DORMANT-AWS-004'],
    },
    {
      name: 'a key not used since tracking began',
      identity: user('legacy.ops', '2013-02-11T16:20:00Z', [
        password(300, 5),
        key('AKIALEG', '2014-01-20T11:00:00Z', 'before-tracking'),
      ]),
      expected: ['DORMANT-AWS-002[AKIALEG]', 'DORMANT-AWS-005[AKIALEG]'],
    },
    {
      name: 'before-tracking where tracking began inside the window: the use may be inside it, so no finding',
      identity: user('early', 400, [password(400, 'before-tracking', ago(10))]),
      expected: [],
    },
    {
      name: 'a removed password whose last sign-in is inside the window',
      identity: user('pat.lee', 200, [], { lastSignInAt: ago(10) }),
      expected: [],
    },
    {
      name: 'an unrotated key that is in use: rotation only',
      identity: user('sofia.garcia', 1500, [password(1500, 4), key('AKIASOFIA', 400, 1)]),
      expected: ['DORMANT-AWS-005[AKIASOFIA]'],
    },
    {
      name: 'two keys, one in use and one stale: only the stale one',
      identity: user('svc-jenkins', 900, [key('AKIANEWER', 80, 1), key('AKIAOLDER', 300, 120)]),
      expected: ['DORMANT-AWS-002[AKIAOLDER]', 'DORMANT-AWS-005[AKIAOLDER]'],
    },
    {
      name: 'everything stale',
      identity: user('brian.kelly', 1500, [password(600, 180), key('AKIABRIAN', 400, 170)]),
      expected: ['DORMANT-AWS-001', 'DORMANT-AWS-002[AKIABRIAN]', 'DORMANT-AWS-004', 'DORMANT-AWS-005[AKIABRIAN]'],
    },
  ];

  it.each(cases)('$name', ({ identity, expected }) => {
    expect(verdict(identity)).toEqual(expected);
  });

  it('writes the before-tracking message with the date tracking began', () => {
    const hits = run(
      unusedPassword,
      user('martin.hughes', '2013-02-11T16:20:00Z', [password('2013-06-03T09:00:00Z', 'before-tracking')]),
    );
    expect(hits.map(summary)).toEqual([
      {
        credential: 'password',
        message: `Console password of martin.hughes has not been used since AWS began tracking (2014-10-20); set 4920 days ago (window 90 days).`,
        lastActivityAt: '2013-06-03T09:00:00Z',
        daysSinceActivity: 4920,
      },
    ]);
  });

  it('reports an inactive user from the latest of all activity, not the first credential', () => {
    const identity = user('brian.kelly', 1500, [password(600, 180), key('AKIABRIAN', 400, 170)]);
    expect(run(inactiveUser, identity).map(summary)).toEqual([
      {
        credential: null,
        message: 'User brian.kelly has had no activity for 170 days (window 90 days).',
        lastActivityAt: at(170),
        daysSinceActivity: 170,
      },
    ]);
  });
});

describe('per-rule settings from the config', () => {
  const activeWithKey = (keyLastUsed: number): Identity =>
    user('victor.alvarez', 900, [password(900, 1), key('AKIAVIC', 200, keyLastUsed)]);

  it('uses the global window when there is no override', () => {
    expect(verdict(activeWithKey(45))).toEqual(['DORMANT-AWS-005[AKIAVIC]']);
  });

  it.each([
    { lastUsed: 29, expected: ['DORMANT-AWS-005[AKIAVIC]'] },
    { lastUsed: 30, expected: ['DORMANT-AWS-002[AKIAVIC]', 'DORMANT-AWS-005[AKIAVIC]'] },
    { lastUsed: 45, expected: ['DORMANT-AWS-002[AKIAVIC]', 'DORMANT-AWS-005[AKIAVIC]'] },
  ])('unused-access-key days: 30 flags a key last used $lastUsed days ago accordingly', ({ lastUsed, expected }) => {
    expect(verdict(activeWithKey(lastUsed), { rules: { 'unused-access-key': { days: 30 } } })).toEqual(expected);
  });

  it('unused-access-key days: 30 names its own window in the message and leaves the others at 90', () => {
    const identity = user('victor.alvarez', 900, [password(900, 60), key('AKIAVIC', 60, 45)]);
    const [result] = evaluate([identity], parseConfig({ rules: { 'unused-access-key': { days: 30 } } }), NOW);
    expect(result?.hits.map(({ rule, hit }) => [rule.id, hit.message])).toEqual([
      ['DORMANT-AWS-002', 'Access key AKIAVIC of victor.alvarez was last used 45 days ago (window 30 days).'],
    ]);
  });

  it.each([
    { created: 29, expected: [] },
    { created: 30, expected: ['DORMANT-AWS-005[AKIAVIC]'] },
    { created: 31, expected: ['DORMANT-AWS-005[AKIAVIC]'] },
  ])('unrotated-access-key days: 30 flags a key created $created days ago accordingly', ({ created, expected }) => {
    const identity = user('victor.alvarez', 900, [password(900, 1), key('AKIAVIC', created, 1)]);
    expect(verdict(identity, { rules: { 'unrotated-access-key': { days: 30 } } })).toEqual(expected);
  });

  it('unrotated-access-key keeps its own 90 days when inactiveDays changes', () => {
    const identity = user('victor.alvarez', 900, [password(900, 45), key('AKIAVIC', 60, 45)]);
    expect(verdict(identity, { inactiveDays: 30 })).toEqual([
      'DORMANT-AWS-001',
      'DORMANT-AWS-002[AKIAVIC]',
      'DORMANT-AWS-004',
    ]);
  });

  it('a rule with enabled: false gives no finding', () => {
    const identity = user('sofia.garcia', 1500, [password(1500, 4), key('AKIASOFIA', 400, 1)]);
    expect(verdict(identity)).toEqual(['DORMANT-AWS-005[AKIASOFIA]']);
    expect(verdict(identity, { rules: { 'unrotated-access-key': { enabled: false } } })).toEqual([]);
  });

  it('disabling inactive-user leaves unused-user in place', () => {
    expect(verdict(user('quinn.foster', 200), { rules: { 'inactive-user': { enabled: false } } })).toEqual([
      'DORMANT-AWS-003',
    ]);
  });

  // unused-user only takes precedence over inactive-user when it reports the user itself.
  it('disabling unused-user falls back to inactive-user for a user with no activity', () => {
    expect(verdict(user('quinn.foster', 200), { rules: { 'unused-user': { enabled: false } } })).toEqual([
      'DORMANT-AWS-001',
    ]);
  });

  it('a longer unused-user window falls back to inactive-user while the user is inside it', () => {
    expect(verdict(user('quinn.foster', 200), { rules: { 'unused-user': { days: 365 } } })).toEqual([
      'DORMANT-AWS-001',
    ]);
  });
});

describe('exemptions by exempt.users (evaluate)', () => {
  const idle = (name: string, path = '/'): Identity => user(name, 900, [password(900, 300)], { path });

  it.each([
    { pattern: 'breakglass-*', identity: idle('breakglass-admin'), on: 'name' },
    { pattern: '/contractors/*', identity: idle('ext-ana.souza', '/contractors/'), on: 'path' },
    { pattern: '/contractors/', identity: idle('ext-ana.souza', '/contractors/'), on: 'exact path' },
    { pattern: 'arn:aws:iam::123456789012:user/ops/*', identity: idle('night-shift', '/ops/'), on: 'ARN' },
    { pattern: '*:user/ops/night-shift', identity: idle('night-shift', '/ops/'), on: 'ARN suffix' },
    { pattern: 'svc-?', identity: idle('svc-a'), on: 'name, ? for one character' },
    { pattern: 'mei.lin+ops=eu@example.com', identity: idle('mei.lin+ops=eu@example.com'), on: 'name with + = @ .' },
  ])("'$pattern' exempts by $on", ({ pattern, identity }) => {
    const config = parseConfig({ exempt: { users: ['someone-else', pattern] } });
    const [result] = evaluate([identity], config, NOW);
    expect(result?.hits).toEqual([]);
    expect(result?.exemptReason).toBe(`config exempt.users matches '${pattern}'`);
  });

  it.each([
    { pattern: 'breakglass', identity: idle('breakglass-admin') },
    { pattern: 'admin', identity: idle('breakglass-admin') },
    { pattern: 'svc-?', identity: idle('svc-ab') },
    { pattern: 'mei.lin', identity: idle('meiXlin') },
    { pattern: 'a+b', identity: idle('aab') },
    { pattern: 'breakglass-*', identity: idle('ops-breakglass-admin') },
    { pattern: '/contractors/*', identity: idle('ext-tom', '/vendors/contractors/') },
  ])("'$pattern' does not exempt $identity.name at $identity.path", ({ pattern, identity }) => {
    const [result] = evaluate([identity], parseConfig({ exempt: { users: [pattern] } }), NOW);
    expect(result?.exemptReason).toBeNull();
    expect(result?.hits.map((h) => h.rule.id)).toEqual(['DORMANT-AWS-001', 'DORMANT-AWS-004']);
  });

  it('exempts only the matching identities of an inventory', () => {
    const config = parseConfig({ exempt: { users: ['breakglass-*'] } });
    const results = evaluate([idle('breakglass-admin'), idle('breakglass-readonly'), idle('li.wei')], config, NOW);
    expect(results.map((r) => [r.identity.name, r.exemptReason, r.hits.map((h) => h.rule.id)])).toEqual([
      ['breakglass-admin', "config exempt.users matches 'breakglass-*'", []],
      ['breakglass-readonly', "config exempt.users matches 'breakglass-*'", []],
      ['li.wei', null, ['DORMANT-AWS-001', 'DORMANT-AWS-004']],
    ]);
  });
});
