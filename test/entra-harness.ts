// Shared setup of the Entra tests: the Graph fake with one tenant and one app, a config pointing
// the provider at it, a session opened through `entraEntry`, and a journaling StepRunner double.
import { randomUUID } from 'node:crypto';
import { parseConfig, type Config } from '../src/config/config.js';
import type { ProviderSession, StepRunner } from '../src/providers/provider.js';
import { entraEntry } from '../src/providers/entra/entra-entry.js';
import { ALL_GRAPH_ROLES, GraphFake, type FakeTenant, type RegisteredApp } from './support/graphFake.js';

export const NOW = new Date();
export const DAY = 86_400_000;
export const daysAgo = (n: number, from: Date = NOW) => new Date(from.getTime() - n * DAY);

/** The permissions `dormant permissions --provider entra --mode remediate` lists. */
export const REMEDIATE_ROLES = [
  'User.Read.All',
  'AuditLog.Read.All',
  'RoleManagement.Read.Directory',
  'RoleEligibilitySchedule.Read.Directory',
  'GroupMember.Read.All',
  'User.EnableDisableAccount.All',
  'User.RevokeSessions.All',
  'User.DeleteRestore.All',
  'GroupMember.ReadWrite.All',
  'RoleManagement.ReadWrite.Directory',
  'AppRoleAssignment.ReadWrite.All',
  'LicenseAssignment.ReadWrite.All',
  'User.ReadWrite.All',
];

export interface EntraHarness {
  fake: GraphFake;
  tenant: FakeTenant;
  app: RegisteredApp;
  /** The env var the app's secret is in. */
  secretEnv: string;
  config(entra?: Record<string, unknown>, top?: Record<string, unknown>): Config;
  open(entra?: Record<string, unknown>): Promise<ProviderSession>;
  stop(): Promise<void>;
}

export async function startEntra(
  options: { roles?: readonly string[]; premium?: boolean; now?: () => Date } = {},
): Promise<EntraHarness> {
  const fake = await new GraphFake({ now: options.now }).start();
  const tenant = fake.addTenant({
    displayName: 'Contoso',
    domains: ['contoso.onmicrosoft.com'],
    premium: options.premium ?? true,
  });
  const secret = `s3cret-${randomUUID()}`;
  const app = tenant.addApp({ secret, roles: [...(options.roles ?? ALL_GRAPH_ROLES)] });
  const secretEnv = `DORMANT_TEST_ENTRA_SECRET_${randomUUID().slice(0, 8).toUpperCase()}`;
  process.env[secretEnv] = secret;
  const config = (entra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
    parseConfig({
      ...top,
      entra: {
        enabled: true,
        tenantId: tenant.tenantId,
        clientId: app.clientId,
        clientSecret: { env: secretEnv },
        authorityHost: fake.url,
        graphUrl: fake.url,
        maxAttempts: 3,
        ...entra,
      },
    });
  return {
    fake,
    tenant,
    app,
    secretEnv,
    config,
    open: (entra) => entraEntry.open({ config: config(entra) }),
    async stop() {
      delete process.env[secretEnv];
      await fake.stop();
    },
  };
}

/** A StepRunner that records steps as the engine's journal would, and can crash after a step. */
export class RecordingSteps implements StepRunner {
  readonly done: string[] = [];
  readonly failed: { step: string; message: string }[] = [];
  readonly warnings: string[] = [];
  constructor(private readonly crashAfter: string | null = null) {}

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.done.push(name);
      if (name === this.crashAfter) throw new Error(`simulated crash after ${name}`);
      return out;
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('simulated crash'))) {
        this.failed.push({ step: name, message: err instanceof Error ? err.message : String(err) });
      }
      throw err;
    }
  }

  warn(message: string): void {
    this.warnings.push(message);
  }
}
