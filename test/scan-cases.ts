// The account the scan integration tests seed into moto: every rule of DESIGN §2 and its edge
// cases, with dates relative to one whole-second "base" instant, and the exact verdicts
// each user must get with SCAN_CONFIG (90-day window, default rules).
import type { SeedResult, SeedUser } from './support/moto.js';
import { agoFrom } from './scan-helpers.js';

/** Exemptions by config glob: by name, and by ARN (a path). */
export const SCAN_CONFIG = `exempt:
  users: ["breakglass-*", "arn:aws:iam::*:user/vendors/*"]
`;

export interface ScanCase {
  user: SeedUser;
  state: 'active' | 'inactive' | 'exempt';
  /** Exact findings: `RULE` or `RULE K1` / `RULE K2` (the user's first / second seeded key). */
  findings: string[];
  exemptReason?: string;
  /** Verdicts from an offline report file, when they differ (no tags offline). */
  offline?: { state: 'active' | 'inactive' | 'exempt'; findings: string[] };
}

const TAG_REASON = 'tag dormant:exempt=true';

export function scanCases(base: number): ScanCase[] {
  const d = (days: number): string => agoFrom(base, days);
  return [
    // A key created yesterday on an old user: the key is activity, nothing is unused.
    {
      user: { name: 'fresh-key-old-user', createDate: d(400), keys: [{ createDate: d(1) }] },
      state: 'active',
      findings: [],
    },
    // A key created 60 days ago and never used: still inside the creation grace.
    {
      user: { name: 'young-unused-key', createDate: d(400), keys: [{ createDate: d(60) }] },
      state: 'active',
      findings: [],
    },
    // A never-used Active key older than the window on an otherwise active user.
    {
      user: {
        name: 'never-used-key',
        createDate: d(400),
        password: true,
        passwordLastUsed: d(3),
        keys: [{ createDate: d(120) }],
      },
      state: 'active',
      findings: ['DORMANT-AWS-002 K1', 'DORMANT-AWS-005 K1'],
    },
    // An Inactive key is never DORMANT-AWS-002 (nor 005).
    {
      user: {
        name: 'inactive-key',
        createDate: d(400),
        password: true,
        passwordLastUsed: d(3),
        keys: [{ createDate: d(200), status: 'Inactive' }],
      },
      state: 'active',
      findings: [],
    },
    // Only an old Inactive key, last used 200 days ago: the user is inactive, the key is not 002.
    {
      user: {
        name: 'old-inactive-key-only',
        createDate: d(300),
        keys: [{ createDate: d(300), lastUsed: d(200), status: 'Inactive' }],
      },
      state: 'inactive',
      findings: ['DORMANT-AWS-001'],
    },
    // A password user who never signed in, no keys: unused-user (and the unused password).
    {
      user: { name: 'password-never-signed-in', createDate: d(200), password: true },
      state: 'inactive',
      findings: ['DORMANT-AWS-003', 'DORMANT-AWS-004'],
    },
    // No credentials at all, older than the window.
    { user: { name: 'no-credentials', createDate: d(200) }, state: 'inactive', findings: ['DORMANT-AWS-003'] },
    // Young users are never unused.
    { user: { name: 'young-user', createDate: d(10) }, state: 'active', findings: [] },
    { user: { name: 'young-password', createDate: d(10), password: true }, state: 'active', findings: [] },
    // Inactive for 100 days (last sign-in).
    {
      user: { name: 'inactive-100', createDate: d(400), password: true, passwordLastUsed: d(100) },
      state: 'inactive',
      findings: ['DORMANT-AWS-001', 'DORMANT-AWS-004'],
    },
    // Password last used 120 days ago on a user whose key is in use.
    {
      user: {
        name: 'password-120',
        createDate: d(400),
        password: true,
        passwordLastUsed: d(120),
        keys: [{ createDate: d(30), lastUsed: d(1) }],
      },
      state: 'active',
      findings: ['DORMANT-AWS-004'],
    },
    // An old key in use: only the rotation finding.
    {
      user: { name: 'old-used-key', createDate: d(400), keys: [{ createDate: d(200), lastUsed: d(2) }] },
      state: 'active',
      findings: ['DORMANT-AWS-005 K1'],
    },
    {
      user: { name: 'svc_deploy-2', createDate: d(400), keys: [{ createDate: d(400), lastUsed: d(30) }] },
      state: 'active',
      findings: ['DORMANT-AWS-005 K1'],
    },
    // Two keys: the old one unused, the new one in use.
    {
      user: {
        name: 'two-keys',
        createDate: d(400),
        keys: [
          { createDate: d(300), lastUsed: d(150) },
          { createDate: d(20), lastUsed: d(1) },
        ],
      },
      state: 'active',
      findings: ['DORMANT-AWS-002 K1', 'DORMANT-AWS-005 K1'],
    },
    // Two keys created in the same second: the report's slots must be told apart by last use.
    {
      user: {
        name: 'twin-keys',
        createDate: d(400),
        keys: [
          { createDate: d(200), lastUsed: d(150) },
          { createDate: d(200), lastUsed: d(5) },
        ],
      },
      state: 'active',
      findings: ['DORMANT-AWS-002 K1', 'DORMANT-AWS-005 K1', 'DORMANT-AWS-005 K2'],
    },
    // Both keys unused for 100+ days.
    {
      user: {
        name: 'both-keys-unused',
        createDate: d(400),
        keys: [{ createDate: d(200) }, { createDate: d(150), lastUsed: d(100) }],
      },
      state: 'inactive',
      findings: [
        'DORMANT-AWS-001',
        'DORMANT-AWS-002 K1',
        'DORMANT-AWS-002 K2',
        'DORMANT-AWS-005 K1',
        'DORMANT-AWS-005 K2',
      ],
    },
    // Everything old.
    {
      user: {
        name: 'pwd-and-key-old',
        createDate: d(400),
        password: true,
        passwordLastUsed: d(200),
        keys: [{ createDate: d(300), lastUsed: d(180) }],
      },
      state: 'inactive',
      findings: ['DORMANT-AWS-001', 'DORMANT-AWS-002 K1', 'DORMANT-AWS-004', 'DORMANT-AWS-005 K1'],
    },
    // Window boundaries on the last sign-in: 89 days is inside, 90 and 91 are outside.
    {
      user: { name: 'edge-89', createDate: d(400), password: true, passwordLastUsed: d(89) },
      state: 'active',
      findings: [],
    },
    {
      user: { name: 'edge-90', createDate: d(400), password: true, passwordLastUsed: d(90) },
      state: 'inactive',
      findings: ['DORMANT-AWS-001', 'DORMANT-AWS-004'],
    },
    {
      user: { name: 'edge-91', createDate: d(400), password: true, passwordLastUsed: d(91) },
      state: 'inactive',
      findings: ['DORMANT-AWS-001', 'DORMANT-AWS-004'],
    },
    // Window boundaries on a key's last use (the user signed in 3 days ago).
    {
      user: {
        name: 'key-edge-89',
        createDate: d(400),
        password: true,
        passwordLastUsed: d(3),
        keys: [{ createDate: d(100), lastUsed: d(89) }],
      },
      state: 'active',
      findings: ['DORMANT-AWS-005 K1'],
    },
    {
      user: {
        name: 'key-edge-90',
        createDate: d(400),
        password: true,
        passwordLastUsed: d(3),
        keys: [{ createDate: d(100), lastUsed: d(90) }],
      },
      state: 'active',
      findings: ['DORMANT-AWS-002 K1', 'DORMANT-AWS-005 K1'],
    },
    {
      user: {
        name: 'key-edge-91',
        createDate: d(400),
        password: true,
        passwordLastUsed: d(3),
        keys: [{ createDate: d(100), lastUsed: d(91) }],
      },
      state: 'active',
      findings: ['DORMANT-AWS-002 K1', 'DORMANT-AWS-005 K1'],
    },
    // 45 days: inside the default window, outside a 30-day one.
    {
      user: { name: 'recent-45', createDate: d(400), password: true, passwordLastUsed: d(45) },
      state: 'active',
      findings: [],
    },
    // Exempt by tag (any case of "true"); a tag with another value exempts nothing.
    {
      user: {
        name: 'tag-exempt',
        createDate: d(300),
        password: true,
        passwordLastUsed: d(200),
        tags: { 'dormant:exempt': 'true' },
      },
      state: 'exempt',
      findings: [],
      exemptReason: TAG_REASON,
      offline: { state: 'inactive', findings: ['DORMANT-AWS-001', 'DORMANT-AWS-004'] },
    },
    {
      user: {
        name: 'tag-exempt-upper',
        createDate: d(300),
        tags: { 'dormant:exempt': 'TRUE', owner: 'sam@example.com' },
      },
      state: 'exempt',
      findings: [],
      exemptReason: TAG_REASON,
      offline: { state: 'inactive', findings: ['DORMANT-AWS-003'] },
    },
    {
      user: { name: 'tag-not-true', createDate: d(300), tags: { 'dormant:exempt': 'false' } },
      state: 'inactive',
      findings: ['DORMANT-AWS-003'],
    },
    // Exempt by config glob: on the name, and on the ARN (path /vendors/).
    {
      user: { name: 'breakglass-admin', createDate: d(300), password: true, passwordLastUsed: d(250) },
      state: 'exempt',
      findings: [],
      exemptReason: "config exempt.users matches 'breakglass-*'",
    },
    {
      user: {
        name: 'vendor-bot',
        path: '/vendors/',
        createDate: d(300),
        keys: [{ createDate: d(300), lastUsed: d(200) }],
      },
      state: 'exempt',
      findings: [],
      exemptReason: "config exempt.users matches 'arn:aws:iam::*:user/vendors/*'",
    },
    // Every character IAM allows besides letters and digits (but the comma: see scan-moto),
    // under a path.
    {
      user: {
        name: 'ops+ci=bot.x@z_w-1',
        path: '/contractors/',
        createDate: d(200),
        keys: [{ createDate: d(150), lastUsed: d(120) }],
      },
      state: 'inactive',
      findings: ['DORMANT-AWS-001', 'DORMANT-AWS-002 K1', 'DORMANT-AWS-005 K1'],
    },
    {
      user: {
        name: 'dana.contractor',
        path: '/contractors/',
        createDate: d(50),
        password: true,
        passwordLastUsed: d(10),
      },
      state: 'active',
      findings: [],
    },
  ];
}

/** Replace K1/K2 with the seeded key ids (or with report slots, for offline files). */
export function expectedFindings(findings: string[], keys: string[], naming: 'id' | 'slot' = 'id'): string[] {
  return findings
    .map((f) =>
      f.replace(/ K([12])$/, (_, n: string) => {
        const i = Number(n) - 1;
        if (naming === 'slot') return ` access_key_${n}`;
        const id = keys[i];
        if (id === undefined) throw new Error(`no key ${n} in ${keys.join(',')}`);
        return ` ${id}`;
      }),
    )
    .sort();
}

export function keysByName(seeded: SeedResult): Map<string, string[]> {
  return new Map(seeded.users.map((u) => [u.name, u.keys]));
}
