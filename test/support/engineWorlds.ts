// The worlds the engine's provider-neutral tests run in (src/engine/apply-providers.test.ts):
// each provider's own code over an in-memory cloud, seeded with the same cast (three stale
// identities, eight active ones, one the provider protects) and the same hooks (sign in, fail
// once, re-enable), so that one test body states each engine guarantee for every provider.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as admin from '@googleapis/admin';
import * as auth from 'google-auth-library';
import * as iam from '@googleapis/iam';
import { type Config, parseConfig } from '../../src/config/config.js';
import type { Identity } from '../../src/model/identity.js';
import type { MemoryTenant } from '../../src/providers/entra/entra-memory.js';
import { openDemoEntra } from '../../src/providers/entra/entra-memory.js';
import { SCOPES } from '../../src/providers/google/google-auth.js';
import { createGoogleSession } from '../../src/providers/google/google-entry.js';
import { GoogleTenant } from '../../src/providers/google/memory/google-tenant.js';
import { MemoryAccount } from '../../src/providers/memory/memory-provider.js';
import type { RemediationProvider, ScanProvider, StepRunner } from '../../src/providers/provider.js';
import { testServiceAccountKey } from './google.js';

export const NOW = new Date('2026-11-22T12:00:00Z');
export const LATER = new Date('2026-11-22T14:00:00Z');
export const STALE = ['ada', 'ben', 'cy'];

export interface World {
  scanner: ScanProvider;
  remediation: RemediationProvider;
  config: Config;
  /** The name the plan uses for a stale identity. */
  nameOf(stale: string): string;
  /** Mutating calls the simulated cloud has seen. */
  writes(): number;
  /** The identity signs in after the plan was made. */
  signIn(stale: string, at: Date): void;
  /** Whether the identity still exists (not deleted). */
  exists(stale: string): boolean;
  /** Plan an action on the identity its provider protects (forged: the planner never plans it). */
  protectedName: string;
  /** Make the next perform() of this identity (of this action, if given) fail once after its first step. */
  failOnce(stale: string, action?: string): void;
  /** Someone turns the identity back on at its provider (outside dormant). */
  reEnable(stale: string): void;
}

export const base = (extra: object = {}) =>
  parseConfig({ remediation: { deleteAfterDays: 0, maxActionsPercent: 100, maxActionsPerRun: 50 }, ...extra });

/** Wraps a provider so perform() can fail once, after its first journaled step, like a 500 mid-item. */
function flaky(inner: RemediationProvider): {
  provider: RemediationProvider;
  failOnce(name: string, action?: string): void;
} {
  const failing = new Set<string>();
  const provider: RemediationProvider = {
    provider: inner.provider,
    reread: (t) => inner.reread(t),
    isDisabled: (l) => inner.isDisabled(l),
    backup: (t) => inner.backup(t),
    readBackup: (e) => inner.readBackup(e),
    restore: (b, o, s) => inner.restore(b, o, s),
    evidence: (t) => inner.evidence(t),
    async perform(action, target, steps: StepRunner) {
      if (failing.delete(target.identity.name) || failing.delete(`${target.identity.name}|${action}`)) {
        await steps.step('first-step-of-a-failing-call', async () => undefined);
        throw new Error('the cloud failed with HTTP 500 after 5 attempts; retry later');
      }
      return inner.perform(action, target, steps);
    },
  };
  return { provider, failOnce: (name, action) => failing.add(action ? `${name}|${action}` : name) };
}

export function awsWorld(): World {
  const stale = (name: string): Identity => ({
    provider: 'aws',
    account: '123456789012',
    kind: 'user',
    id: `arn:aws:iam::123456789012:user/${name}`,
    name,
    path: '/',
    createdAt: '2025-01-01T00:00:00Z',
    credentials: [
      {
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        createdAt: '2025-01-01T00:00:00Z',
        lastUse: 'used',
        lastUsedAt: '2025-02-01T00:00:00Z',
      },
    ],
    lastSignInAt: '2025-02-01T00:00:00Z',
  });
  const active = (name: string): Identity => {
    const i = stale(name);
    i.credentials[0]!.lastUsedAt = '2026-11-21T00:00:00Z';
    return { ...i, lastSignInAt: '2026-11-21T00:00:00Z' };
  };
  const account = MemoryAccount.fromIdentities('123456789012', [
    ...STALE.map(stale),
    ...Array.from({ length: 8 }, (_, i) => active(`active-${i}`)),
    stale('dormant-runner'),
  ]);
  const f = flaky(account);
  return {
    scanner: account,
    remediation: f.provider,
    config: base(),
    nameOf: (s) => s,
    writes: () => account.calls.length,
    signIn(s, at) {
      const u = account.users.get(s)!.identity;
      u.lastSignInAt = at.toISOString();
      u.credentials[0]!.lastUsedAt = at.toISOString();
    },
    exists: (s) => account.users.has(s),
    protectedName: 'dormant-runner',
    failOnce: (s, action) => f.failOnce(s, action),
    reEnable(s) {
      account.users.get(s)!.identity.credentials.push({
        kind: 'password',
        id: null,
        status: 'enabled',
        enabled: true,
        // Its old password put back (a new one would also count as activity after the plan).
        createdAt: '2025-01-01T00:00:00Z',
        lastUse: 'used',
        lastUsedAt: '2025-02-01T00:00:00Z',
      });
    },
  };
}

export async function entraWorld(dir: string): Promise<World> {
  const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const user = (n: number, name: string, lastSignIn: string) => ({
    id: id(n),
    userPrincipalName: `${name}@contoso.com`,
    displayName: name,
    mail: `${name}@contoso.com`,
    createdDateTime: '2024-01-01T00:00:00Z',
    signInActivity: {
      lastSignInDateTime: lastSignIn,
      lastNonInteractiveSignInDateTime: lastSignIn,
      lastSuccessfulSignInDateTime: lastSignIn,
    },
  });
  const users = [
    ...STALE.map((s, i) => user(i + 1, s, '2025-02-01T00:00:00Z')),
    ...Array.from({ length: 8 }, (_, i) => user(20 + i, `active-${i}`, '2026-11-21T00:00:00Z')),
    user(99, 'root-admin', '2025-02-01T00:00:00Z'),
  ];
  const file = join(dir, 'tenant.json');
  writeFileSync(
    file,
    JSON.stringify({
      tenantId: '11111111-2222-4333-8444-555555555555',
      asOf: NOW.toISOString(),
      users,
      groups: [{ id: 'g-1', displayName: 'Finance', members: [id(1), id(2)] }],
      directoryRoles: [
        {
          id: 'r-1',
          displayName: 'Global Administrator',
          roleTemplateId: '62e90394-69f5-4237-9190-012177145e10',
          members: [id(99)],
        },
      ],
    }),
  );
  let clock = NOW;
  const session = await openDemoEntra(file, { config: base(), clock: () => clock });
  const tenant: MemoryTenant = session.tenant;
  const f = flaky(session.remediation);
  const upn = (s: string) => `${s}@contoso.com`;
  const byName = (s: string) => [...tenant.users.values()].find((u) => u.userPrincipalName === upn(s));
  return {
    scanner: session.scanner,
    remediation: f.provider,
    config: session.config,
    nameOf: upn,
    writes: () => tenant.writes.length,
    signIn(s, at) {
      clock = LATER;
      const u = byName(s)!;
      u.signInActivity = { ...u.signInActivity!, lastSignInDateTime: at.toISOString() };
    },
    exists: (s) => byName(s) !== undefined,
    protectedName: upn('root-admin'),
    failOnce: (s, action) => f.failOnce(upn(s), action),
    reEnable(s) {
      byName(s)!.accountEnabled = true;
    },
  };
}

/** Google Workspace: the provider's own code, through Google's client libraries, over the in-memory APIs. */
export function googleWorld(): World {
  let clock = NOW;
  const tenant = new GoogleTenant({ clock: () => clock, customerId: 'C0engine1' });
  const email = (s: string) => `${s}@example.com`;
  const user = (name: string, lastLogin: string, extra: { isAdmin?: boolean } = {}) =>
    tenant.workspace.addUser({
      primaryEmail: email(name),
      creationTime: '2024-01-01T00:00:00Z',
      lastLoginTime: lastLogin,
      ...extra,
    });
  for (const s of STALE) user(s, '2025-02-01T00:00:00Z');
  for (let i = 0; i < 8; i++) user(`active-${i}`, '2026-11-21T00:00:00Z');
  user('root-admin', '2025-02-01T00:00:00Z', { isAdmin: true });
  user('operator', '2026-11-21T00:00:00Z', { isAdmin: true });
  const { key, publicKeyPem } = testServiceAccountKey();
  tenant.memory.registerServiceAccount(key.client_email, publicKeyPem, key.client_id!);
  tenant.memory.delegate(key.client_id!, [...SCOPES.workspaceRead, ...SCOPES.workspaceWrite, ...SCOPES.reports]);
  const config = base({ google: { enabled: true, subject: email('operator'), cloud: { enabled: false } } });
  const session = createGoogleSession({
    sdks: { auth, admin, iam },
    google: config.google,
    fetch: tenant.memory.fetch,
    key,
    clock: () => clock,
  });
  const f = flaky(session.remediation);
  return {
    scanner: session.scanner,
    remediation: f.provider,
    config,
    nameOf: email,
    writes: () => tenant.memory.calls.filter((c) => c.method !== 'GET').length,
    signIn(s, at) {
      clock = LATER;
      tenant.workspace.addLogin(email(s), { at });
    },
    exists: (s) => tenant.workspace.lookup(email(s)) !== undefined,
    protectedName: email('root-admin'),
    failOnce: (s, action) => f.failOnce(email(s), action),
    reEnable(s) {
      tenant.workspace.lookup(email(s))!.suspended = false;
    },
  };
}
