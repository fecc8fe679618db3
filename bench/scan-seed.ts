// A realistic synthetic IAM account for the scan benchmark, from a deterministic PRNG: the
// same seed and `now` give the same users. Used with the moto harness's fast /seed endpoint.
import type { SeedKey, SeedUser } from '../test/support/moto.js';
import { prng } from './bench-util.js';

const DAY_MS = 86_400_000;

export type UserCategory =
  /** A key or the password used in the last 30 days. */
  | 'active'
  /** Last activity 100–400 days ago. */
  | 'inactive'
  /** A console password that was never used, and no key. */
  | 'never-signed-in'
  /** Last activity 31–99 days ago: quiet, mostly inside the 90-day window. */
  | 'quiet'
  /** Neither a password nor a key. */
  | 'no-credentials';

export interface AccountMix {
  users: number;
  byCategory: Record<UserCategory, number>;
  keys: number;
  activeKeys: number;
  inactiveKeys: number;
  /** Keys with no recorded use. */
  unusedKeys: number;
  passwords: number;
  exempt: number;
  tagged: number;
}

export interface SyntheticAccount {
  users: SeedUser[];
  mix: AccountMix;
}

const TEAMS = ['payments', 'platform', 'data', 'web', 'mobile', 'security', 'infra', 'ml'];
const PATHS = ['/', '/', '/', '/humans/', '/service/', '/ci/'];

/**
 * `count` users created over the last 3 years: ~70% active (key or password used in the last
 * 30 days), ~10% inactive 100–400 days, ~5% never signed in, ~10% quiet 31–99 days, ~5% with
 * no credentials; 0–2 keys each, some never used, some Inactive; ~2% tagged
 * `dormant:exempt=true`. Dates are whole seconds, like AWS.
 */
export function syntheticAccount(count: number, options: { seed: number; now: number }): SyntheticAccount {
  const rand = prng(options.seed);
  const now = Math.floor(options.now / 1000) * 1000;
  const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const daysAgo = (d: number) => now - d * DAY_MS;
  const between = (lo: number, hi: number) => lo + rand() * (hi - lo);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  const mix: AccountMix = {
    users: count,
    byCategory: { active: 0, inactive: 0, 'never-signed-in': 0, quiet: 0, 'no-credentials': 0 },
    keys: 0,
    activeKeys: 0,
    inactiveKeys: 0,
    unusedKeys: 0,
    passwords: 0,
    exempt: 0,
    tagged: 0,
  };

  /** A key created after the user and before `usedAt` (when given); rotated recently now and then. */
  const key = (createdMs: number, usedAt: number | null, status: 'Active' | 'Inactive' = 'Active'): SeedKey => {
    const latest = usedAt ?? now - 60_000;
    const rotated = usedAt !== null && rand() < 0.35 && latest - daysAgo(90) > DAY_MS;
    const from = rotated ? Math.max(createdMs, daysAgo(90)) : createdMs;
    const keyCreated = Math.min(between(from, latest), latest);
    return {
      createDate: iso(keyCreated),
      lastUsed: usedAt === null ? null : iso(usedAt),
      status,
      service: pick(['s3', 'ec2', 'sts', 'dynamodb', 'lambda', 'iam']),
      region: pick(['us-east-1', 'eu-west-1', 'us-west-2']),
    };
  };

  const users: SeedUser[] = [];
  for (let i = 0; i < count; i++) {
    const name = `bench-user-${String(i + 1).padStart(5, '0')}`;
    const r = rand();
    const category: UserCategory =
      r < 0.7 ? 'active' : r < 0.8 ? 'inactive' : r < 0.85 ? 'never-signed-in' : r < 0.95 ? 'quiet' : 'no-credentials';
    mix.byCategory[category]++;

    // When the user last did something, and how old it must at least be.
    let lastActivity: number | null = null;
    if (category === 'active') lastActivity = daysAgo(between(0, 30));
    else if (category === 'inactive') lastActivity = daysAgo(between(100, 400));
    else if (category === 'quiet') lastActivity = daysAgo(between(31, 99));
    const oldest = 3 * 365;
    const youngest = lastActivity === null ? 0 : (now - lastActivity) / DAY_MS + 1;
    const created = daysAgo(between(youngest, oldest));

    const user: SeedUser = { name, path: pick(PATHS), createDate: iso(created), keys: [] };
    const keys: SeedKey[] = [];
    if (category === 'active' || category === 'inactive' || category === 'quiet') {
      // Humans use the console (and sometimes a key); workloads use keys.
      const human = rand() < 0.4;
      if (human) {
        user.password = true;
        user.passwordLastUsed = iso(lastActivity!);
        const k = rand();
        if (k < 0.25) keys.push(key(created, rand() < 0.5 ? between(created, lastActivity!) : null));
      } else {
        keys.push(key(created, lastActivity));
        const k = rand();
        if (k < 0.2)
          keys.push(key(created, null)); // a second key nobody uses
        else if (k < 0.35)
          keys.push(key(created, between(created, lastActivity!), 'Inactive')); // rotated out
        else if (k < 0.45) keys.push(key(created, between(created, lastActivity!))); // both in use
      }
    } else if (category === 'never-signed-in') {
      user.password = true;
      user.passwordLastUsed = null;
      if (rand() < 0.2) keys.push(key(created, null));
    }
    user.keys = keys;

    const tags: Record<string, string> = {};
    if (rand() < 0.4) tags['team'] = pick(TEAMS);
    if (rand() < 0.2) tags['owner'] = `${name}@example.com`;
    if (rand() < 0.02) {
      tags['dormant:exempt'] = 'true';
      mix.exempt++;
    }
    if (Object.keys(tags).length > 0) {
      user.tags = tags;
      mix.tagged++;
    }

    if (user.password) mix.passwords++;
    for (const k of keys) {
      mix.keys++;
      if (k.status === 'Inactive') mix.inactiveKeys++;
      else mix.activeKeys++;
      if (!k.lastUsed) mix.unusedKeys++;
    }
    users.push(user);
  }
  return { users, mix };
}
