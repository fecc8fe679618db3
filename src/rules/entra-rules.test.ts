// The three Entra ID rules (DESIGN §2c) on hand-built identities: window boundaries for each
// signal (sign-in, creation, invitation), unknown data, tracking, disabled users and supersession.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { evaluate } from '../engine/evaluate.js';
import type { Identity, SignIn } from '../model/identity.js';
import { DAY_MS, isoSeconds } from '../model/time.js';
import { entraInactiveGuest } from './entraInactiveGuest.js';
import { entraInactiveUser } from './entraInactiveUser.js';
import { entraNeverSignedInUser } from './entraNeverSignedInUser.js';
import { INACTIVE_ACCOUNTS } from './compliance.js';
import { RULES } from './index.js';
import type { Rule } from './rule.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const WINDOW = 90;
const TENANT = '8f6c1f4e-2a5b-4c1d-9e3f-0a1b2c3d4e5f';
const TRACKING = '2020-04-01T00:00:00Z';

/** Days before NOW (a number), or an exact ISO instant (a string). */
type When = number | string;
const at = (w: When) => (typeof w === 'string' ? w : isoSeconds(NOW.getTime() - w * DAY_MS));
/** `days` days before NOW plus `seconds`: `ago(90, 1)` is one second short of 90 days. */
const ago = (days: number, seconds = 0) => isoSeconds(NOW.getTime() - days * DAY_MS + seconds * 1000);

type Sign = When | 'never' | 'unknown' | 'before-tracking';
function signIn(s: Sign): SignIn {
  if (s === 'never' || s === 'unknown') return { lastUse: s, at: null };
  if (s === 'before-tracking') return { lastUse: s, at: null, trackingSince: TRACKING };
  return { lastUse: 'used', at: at(s) };
}

function entra(
  kind: 'user' | 'guest',
  name: string,
  created: When | null,
  s: Sign,
  extra: Partial<Identity> = {},
): Identity {
  const sign = signIn(s);
  return {
    provider: 'entra',
    account: TENANT,
    kind,
    id: `00000000-0000-4000-8000-${name.length.toString().padStart(12, '0')}`,
    name,
    path: '/',
    createdAt: created === null ? null : at(created),
    enabled: true,
    credentials: [],
    lastSignInAt: sign.at,
    signIn: sign,
    ...extra,
  };
}
const member = (name: string, created: When | null, s: Sign, extra: Partial<Identity> = {}) =>
  entra('user', `${name}@contoso.com`, created, s, extra);
const guest = (name: string, created: When | null, s: Sign, extra: Partial<Identity> = {}) =>
  entra('guest', `${name}_fabrikam.com#EXT#@contoso.onmicrosoft.com`, created, s, extra);

const run = (rule: Rule, identity: Identity) =>
  rule.evaluate(identity, { now: NOW, days: WINDOW }).map((h) => ({
    message: h.message,
    lastActivityAt: h.lastActivityAt,
    daysSinceActivity: h.daysSinceActivity,
  }));

/** The rule ids evaluate() gives one identity, after supersession. */
function verdict(identity: Identity): string[] {
  const [result] = evaluate([identity], parseConfig({}), NOW);
  return result ? result.hits.map(({ rule }) => rule.id) : [];
}

describe('the Entra rule table', () => {
  it('has the documented ids, names, kinds and actions, and neutral compliance references', () => {
    const entraRules = RULES.filter((r) => r.provider === 'entra');
    expect(entraRules.map((r) => [r.id, r.name, r.identityKinds, r.scope, r.defaultAction, r.verdict])).toEqual([
      ['DORMANT-ENTRA-001', 'inactive-user', ['user'], 'identity', 'disable-user', 'inactive'],
      ['DORMANT-ENTRA-002', 'inactive-guest', ['guest'], 'identity', 'disable-user', 'inactive'],
      ['DORMANT-ENTRA-003', 'never-signed-in-user', ['user'], 'identity', 'disable-user', 'never-used'],
    ]);
    expect(entraNeverSignedInUser.supersedes).toEqual(['DORMANT-ENTRA-001']);
    for (const r of entraRules) {
      expect(r.compliance).toEqual(INACTIVE_ACCOUNTS);
      expect(r.compliance.some((c) => c.includes('AWS'))).toBe(false);
    }
    expect(INACTIVE_ACCOUNTS).toContain('NIST 800-53 AC-2(3)');
  });
});

/** N-1 days and one second short of N are inside the window; exactly N and N+1 are outside. */
const boundaries: { label: string; when: When; days: number | null }[] = [
  { label: 'N-1 days', when: 89, days: null },
  { label: 'N days less one second', when: ago(90, 1), days: null },
  { label: 'exactly N days', when: 90, days: 90 },
  { label: 'N+1 days', when: 91, days: 91 },
];

describe('DORMANT-ENTRA-001 inactive-user', () => {
  it.each(boundaries)('last sign-in $label ago', ({ when, days }) => {
    expect(run(entraInactiveUser, member('leo', 400, when))).toEqual(
      days === null
        ? []
        : [
            {
              message: `User leo@contoso.com last signed in ${days} days ago (window 90 days).`,
              lastActivityAt: at(when),
              daysSinceActivity: days,
            },
          ],
    );
  });

  it.each(boundaries)('created $label ago, signed in before the window', ({ when, days }) => {
    // A sign-in recorded before creation cannot happen; creation is the later activity here.
    const hits = run(entraInactiveUser, member('ana', when, 120));
    expect(hits.map((h) => h.daysSinceActivity)).toEqual(days === null ? [] : [days]);
  });

  it('a user created before sign-in tracking with no record is before-tracking, and inactive', () => {
    expect(run(entraInactiveUser, member('old', '2019-06-01T00:00:00Z', 'before-tracking'))).toEqual([
      {
        message:
          'User old@contoso.com has not signed in since Entra began recording sign-ins (2020-04-01); created 2731 days ago (window 90 days).',
        lastActivityAt: '2019-06-01T00:00:00Z',
        daysSinceActivity: 2731,
      },
    ]);
    expect(verdict(member('old', '2019-06-01T00:00:00Z', 'before-tracking'))).toEqual(['DORMANT-ENTRA-001']);
  });

  it('gives no verdict when the sign-in data is unknown (no licence or permission)', () => {
    expect(run(entraInactiveUser, member('x', 400, 'unknown'))).toEqual([]);
    expect(verdict(member('x', 400, 'unknown'))).toEqual([]);
    const noRecord = member('y', 400, 'never');
    delete noRecord.signIn;
    expect(run(entraInactiveUser, noRecord)).toEqual([]);
  });

  it('dates a user whose creation time is unknown by its sign-in, and gives no verdict without one', () => {
    expect(run(entraInactiveUser, member('z', null, 200)).map((h) => h.daysSinceActivity)).toEqual([200]);
    expect(run(entraInactiveUser, member('z', null, 'never'))).toEqual([]);
    expect(run(entraNeverSignedInUser, member('z', null, 'never'))).toEqual([]);
  });

  it('gives an already-disabled user no verdict', () => {
    expect(verdict(member('gone', 400, 200, { enabled: false }))).toEqual([]);
    expect(verdict(member('gone', 400, 'never', { enabled: false }))).toEqual([]);
  });

  it('does not read guests', () => {
    expect(entraInactiveUser.identityKinds).not.toContain('guest');
    expect(verdict(guest('g', 400, 200))).toEqual(['DORMANT-ENTRA-002']);
  });
});

describe('DORMANT-ENTRA-003 never-signed-in-user', () => {
  it.each(boundaries)('created $label ago and never signed in', ({ when, days }) => {
    const u = member('new', when, 'never');
    expect(run(entraNeverSignedInUser, u)).toEqual(
      days === null
        ? []
        : [
            {
              message: `User new@contoso.com was created ${days} days ago and has never signed in (window 90 days).`,
              lastActivityAt: at(when),
              daysSinceActivity: days,
            },
          ],
    );
    // It supersedes inactive-user, which hits the same user too.
    expect(verdict(u)).toEqual(days === null ? [] : ['DORMANT-ENTRA-003']);
  });

  it('is never given to a user created before tracking began, nor to one that signed in', () => {
    expect(run(entraNeverSignedInUser, member('old', '2019-06-01T00:00:00Z', 'before-tracking'))).toEqual([]);
    expect(run(entraNeverSignedInUser, member('used', 400, 200))).toEqual([]);
  });
});

describe('DORMANT-ENTRA-002 inactive-guest', () => {
  it.each(boundaries)('last sign-in $label ago', ({ when, days }) => {
    const g = guest('gia', 400, when, { invitation: { state: 'accepted', changedAt: at(390) } });
    expect(run(entraInactiveGuest, g)).toEqual(
      days === null
        ? []
        : [
            {
              message: `Guest gia_fabrikam.com#EXT#@contoso.onmicrosoft.com last signed in ${days} days ago (window 90 days).`,
              lastActivityAt: at(when),
              daysSinceActivity: days,
            },
          ],
    );
  });

  it.each(boundaries)('invitation still pending, sent $label ago', ({ when, days }) => {
    const g = guest('pat', when, 'never', { invitation: { state: 'pending', changedAt: at(when) } });
    expect(run(entraInactiveGuest, g)).toEqual(
      days === null
        ? []
        : [
            {
              message: `Guest pat_fabrikam.com#EXT#@contoso.onmicrosoft.com was invited ${days} days ago and has not redeemed the invitation (window 90 days).`,
              lastActivityAt: at(when),
              daysSinceActivity: days,
            },
          ],
    );
  });

  it.each(boundaries)('invitation redeemed $label ago is activity', ({ when, days }) => {
    const g = guest('red', 400, 'never', { invitation: { state: 'accepted', changedAt: at(when) } });
    expect(run(entraInactiveGuest, g).map((h) => h.daysSinceActivity)).toEqual(days === null ? [] : [days]);
  });

  it('gives no verdict on unknown sign-in data, even with an old pending invitation', () => {
    expect(
      run(entraInactiveGuest, guest('u', 400, 'unknown', { invitation: { state: 'pending', changedAt: at(400) } })),
    ).toEqual([]);
  });

  it('gives an already-disabled guest no verdict', () => {
    expect(run(entraInactiveGuest, guest('d', 400, 200, { enabled: false }))).toEqual([]);
  });

  it('flags a guest with no invitation record that never signed in', () => {
    expect(run(entraInactiveGuest, guest('n', 200, 'never')).map((h) => h.message)).toEqual([
      'Guest n_fabrikam.com#EXT#@contoso.onmicrosoft.com has had no activity for 200 days and has never signed in (window 90 days).',
    ]);
  });
});

describe('rule overrides', () => {
  it('rules.never-signed-in-user.days and rules.inactive-guest.enabled apply to the Entra rules', () => {
    // 003's own window is not reached, so it does not supersede 001, whose window (90) is.
    const [a] = evaluate(
      [member('x', 100, 'never')],
      parseConfig({ rules: { 'never-signed-in-user': { days: 120 } } }),
      NOW,
    );
    expect(a?.hits.map((h) => h.rule.id)).toEqual(['DORMANT-ENTRA-001']);
    const [b] = evaluate([guest('g', 400, 200)], parseConfig({ rules: { 'inactive-guest': { enabled: false } } }), NOW);
    expect(b?.hits).toEqual([]);
  });
});
