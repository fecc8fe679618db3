// The built CLI against the Graph fake (test/support/graphFake.ts, started through
// test/entra-harness.ts): the `entra:` section of a dormant.yml that points the CLI at the fake's
// tenant and app, the environment the CLI needs on top of cli.ts's clean one (the app's client
// secret, in an environment variable cleanEnv() would strip), and stale or active members seeded
// the way the Entra tests describe them. The CLI trusts the fake's throwaway CA through
// NODE_EXTRA_CA_CERTS, which vitest.config.ts sets before any worker (and so any CLI child) starts.
import type { User } from '@microsoft/microsoft-graph-types';
import { stringify } from 'yaml';
import { DAY, startEntra, type EntraHarness } from '../entra-harness.js';
import type { FakeTenant, FakeUserSeed } from './graphFake.js';

export { startEntra, type EntraHarness };

/** The `entra:` section of a dormant.yml for the harness's tenant and app (`extra` wins). */
export function entraSection(h: EntraHarness, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    enabled: true,
    tenantId: h.tenant.tenantId,
    clientId: h.app.clientId,
    clientSecret: { env: h.secretEnv },
    authorityHost: h.fake.url,
    graphUrl: h.fake.url,
    maxAttempts: 3,
    ...extra,
  };
}

/** A whole dormant.yml: the top-level keys given, and the `entra:` section. */
export function entraConfigYaml(
  h: EntraHarness,
  top: Record<string, unknown> = {},
  entra: Record<string, unknown> = {},
): string {
  return stringify({ ...top, entra: entraSection(h, entra) });
}

/** What a CLI run against the fake needs in its environment: the app's client secret. */
export function entraEnv(h: EntraHarness): Record<string, string> {
  const secret = process.env[h.secretEnv];
  if (secret === undefined) throw new Error(`${h.secretEnv} is not set: the harness was stopped`);
  return { [h.secretEnv]: secret };
}

export interface MemberSeed extends FakeUserSeed {
  /** Days since the last sign-in of every kind; null: never signed in. */
  signedInDaysAgo: number | null;
  /** Days since the user was created (default 700). */
  createdDaysAgo?: number;
}

/** Adds an enabled member `local@<the tenant's domain>`; its object id and UPN. */
export function addMember(tenant: FakeTenant, local: string, seed: MemberSeed): { id: string; upn: string } {
  const { signedInDaysAgo, createdDaysAgo = 700, ...rest } = seed;
  const now = Date.now();
  const at = signedInDaysAgo === null ? null : new Date(now - signedInDaysAgo * DAY);
  const user: User = tenant.addUser({
    userPrincipalName: `${local}@${tenant.defaultDomain}`,
    displayName: local,
    createdDateTime: new Date(now - createdDaysAgo * DAY),
    signInActivity:
      at === null
        ? null
        : { lastSignInDateTime: at, lastNonInteractiveSignInDateTime: at, lastSuccessfulSignInDateTime: at },
    usageLocation: 'US',
    ...rest,
  });
  return { id: user.id!, upn: user.userPrincipalName! };
}
