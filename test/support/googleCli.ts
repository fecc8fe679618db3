// The built CLI against the in-memory Google APIs (test/support/google.ts's loopback server in
// front of one GoogleTenant): a tenant whose front door trusts the throwaway test key and, unless
// told otherwise, has domain-wide delegation granted for it; the key written to a file for
// `google.credentialsFile`; the `google:` section of a dormant.yml pointing every API and the
// token endpoint at the server; workspaces (a directory with that dormant.yml and a store); and
// seed helpers for Workspace users and service accounts with times relative to now (the fake's
// clock is real time). Run `npx tsc -p tsconfig.build.json` first: the CLI runs from dist/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SCOPES } from '../../src/providers/google/google-auth.js';
import type { StoredKey, StoredServiceAccount } from '../../src/providers/google/memory/cloud.js';
import type { WorkspaceUserSeed } from '../../src/providers/google/memory/directory.js';
import { GoogleTenant } from '../../src/providers/google/memory/google-tenant.js';
import { runInWorkspace, type CliExit, type Workspace } from './cli.js';
import { startGoogleServer, testServiceAccountKey } from './google.js';

export const DAY = 86_400_000;
export const daysAgo = (days: number): Date => new Date(Date.now() - days * DAY);

/** The Workspace admin dormant acts as (google.subject): a super admin who signed in yesterday. */
export const ADMIN = 'admin@example.com';
/** Every scope dormant asks for with delegation (scan, remediate, reports). */
export const DELEGATED_SCOPES = [...SCOPES.workspaceRead, ...SCOPES.workspaceWrite, ...SCOPES.reports];
/** What every CLI run gets on top of the workspace's clean environment: throttling retries wait 1 ms. */
export const GOOGLE_CLI_ENV = { DORMANT_GOOGLE_BACKOFF_MS: '1' } as const;

export interface GoogleCliOptions {
  /** Projects created in the tenant (ACTIVE, every role granted, every API enabled). */
  projects?: string[];
  /** Grant domain-wide delegation for DELEGATED_SCOPES to the key's client id (default true). */
  delegate?: boolean;
}

export interface GoogleCliHarness {
  tenant: GoogleTenant;
  /** http://127.0.0.1:PORT: every API and /token. */
  url: string;
  /** The harness's temp directory (the key file, the workspaces). */
  dir: string;
  /** A valid service account key file (the test key). */
  keyFile: string;
  /** The key's client email and client id (the service account dormant runs as). */
  serviceAccount: string;
  clientId: string;
  stop(): Promise<void>;
}

/** A tenant with the admin, an organization and `projects`, served on loopback. */
export async function startGoogleCli(options: GoogleCliOptions = {}): Promise<GoogleCliHarness> {
  const tenant = new GoogleTenant();
  const { key, publicKeyPem } = testServiceAccountKey();
  const clientId = key.client_id!;
  tenant.memory.registerServiceAccount(key.client_email, publicKeyPem, clientId);
  if (options.delegate !== false) tenant.memory.delegate(clientId, DELEGATED_SCOPES);
  tenant.workspace.addUser({
    primaryEmail: ADMIN,
    isAdmin: true,
    lastLoginTime: daysAgo(1),
    creationTime: daysAgo(900),
  });
  tenant.cloud.addOrganization('100000000001');
  for (const p of options.projects ?? []) tenant.cloud.addProject(p);
  const server = await startGoogleServer(tenant.memory);
  const dir = mkdtempSync(join(tmpdir(), 'dormant-google-cli-'));
  const keyFile = join(dir, 'service-account.json');
  writeFileSync(keyFile, JSON.stringify(key, null, 2));
  return {
    tenant,
    url: server.url,
    dir,
    keyFile,
    serviceAccount: key.client_email,
    clientId,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Section = Record<string, unknown>;

/**
 * The `google:` section for the harness: the key file, ADMIN as subject, every root URL on the
 * server, 3 attempts per call. `extra` wins; its `workspace`, `cloud` and `rootUrls` are merged
 * into the defaults one level deep.
 */
export function googleSection(h: GoogleCliHarness, projects: string[], extra: Section = {}): Section {
  const root = `${h.url}/`;
  const { workspace, cloud, rootUrls, ...rest } = extra as { workspace?: Section; cloud?: Section; rootUrls?: Section };
  return {
    enabled: true,
    credentialsFile: h.keyFile,
    subject: ADMIN,
    workspace: { enabled: true, ...workspace },
    cloud: { enabled: true, projects, ...cloud },
    rootUrls: {
      directory: root,
      iam: root,
      policyAnalyzer: root,
      resourceManager: root,
      token: `${h.url}/token`,
      ...rootUrls,
    },
    maxAttempts: 3,
    ...rest,
  };
}

/** A whole dormant.yml: every action allowed by the percentage guard, `top` keys, and the `google:` section. */
export function googleConfigYaml(google: Section, top: Section = {}): string {
  const { remediation, ...rest } = top as { remediation?: Section };
  return stringify({ remediation: { maxActionsPercent: 100, ...remediation }, ...rest, google });
}

/** A new working directory in the harness with this dormant.yml and a SQLite store in it. */
export function sqliteWorkspace(h: GoogleCliHarness, config: string): Workspace {
  const cwd = mkdtempSync(join(h.dir, 'ws-'));
  writeFileSync(join(cwd, 'dormant.yml'), config);
  return { cwd, db: join(cwd, 'state.db') };
}

/** `dormant ARGS --provider google --db WS.db` in the workspace (its dormant.yml), with GOOGLE_CLI_ENV. */
export function runGoogle(ws: Workspace, args: string[], env: Record<string, string> = {}): Promise<CliExit> {
  return runInWorkspace(ws, [...args, '--provider', 'google'], { env: { ...GOOGLE_CLI_ENV, ...env } });
}

/** `s` matched literally inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The lines written to stderr (no trailing empty line). */
export function stderrLines(r: CliExit): string[] {
  return r.stderr.split('\n').filter((l) => l.length > 0);
}

// ------------------------------------------------------------------ seeds

export interface UserSeed extends Omit<WorkspaceUserSeed, 'primaryEmail' | 'lastLoginTime' | 'creationTime'> {
  /** Days since the last login; null: never logged in. */
  lastLoginDaysAgo: number | null;
  /** Days since the user was created (default 700). */
  createdDaysAgo?: number;
}

/** Adds `local@example.com`; its immutable id and primary email. */
export function addUser(tenant: GoogleTenant, local: string, seed: UserSeed): { id: string; email: string } {
  const { lastLoginDaysAgo, createdDaysAgo = 700, ...rest } = seed;
  const user = tenant.workspace.addUser({
    primaryEmail: `${local}@${tenant.workspace.domain}`,
    lastLoginTime: lastLoginDaysAgo === null ? null : daysAgo(lastLoginDaysAgo),
    creationTime: daysAgo(createdDaysAgo),
    ...rest,
  });
  return { id: user.id!, email: user.primaryEmail! };
}

export interface AccountSeed {
  /** Days since the account last authenticated (any credential); null or absent: never. */
  usedDaysAgo?: number | null;
  /** The account's user-managed keys: days since created, and since last used (null: never). */
  keys?: { createdDaysAgo: number; usedDaysAgo?: number | null; disabled?: boolean }[];
  disabled?: boolean;
}

/** Adds `accountId@project.iam.gserviceaccount.com` with its keys and authentications. */
export function addServiceAccount(
  tenant: GoogleTenant,
  project: string,
  accountId: string,
  seed: AccountSeed = {},
): { sa: StoredServiceAccount; keys: StoredKey[] } {
  const cloud = tenant.cloud;
  const sa = cloud.addServiceAccount(project, { accountId, ...(seed.disabled ? { disabled: true } : {}) });
  const keys = (seed.keys ?? []).map((k) => {
    const key = cloud.addKey(sa.email, {
      createdAt: daysAgo(k.createdDaysAgo),
      ...(k.disabled ? { disabled: true } : {}),
    });
    if (k.usedDaysAgo !== undefined && k.usedDaysAgo !== null)
      cloud.recordAuthentication(sa.email, daysAgo(k.usedDaysAgo), key.keyId);
    return key;
  });
  if (seed.usedDaysAgo !== undefined && seed.usedDaysAgo !== null)
    cloud.recordAuthentication(sa.email, daysAgo(seed.usedDaysAgo));
  return { sa, keys };
}

// ------------------------------------------------------------------ what the CLI printed

export interface PlanItemJson {
  id: string;
  seq: number;
  provider: string;
  account: string;
  identityId: string;
  identityName: string;
  credentialId: string | null;
  action: string;
  ruleIds: string[];
  status: string;
  notBefore: string;
  dependsOn: string | null;
  sentence: string;
}

export interface PlanJson {
  id: string;
  createdAt: string;
  items: PlanItemJson[];
}

export interface ScanJson {
  accounts: string[];
  identities: {
    provider: string;
    account: string;
    kind: string;
    id: string;
    name: string;
    state: string;
    enabled: boolean;
    protectedReason: string | null;
    exemptReason: string | null;
    credentials: { id: string; status: string; lastUse: string }[];
  }[];
  findings: {
    provider: string;
    account: string;
    ruleId: string;
    identityId: string;
    identityName: string;
    credentialId: string | null;
    recommendedAction: string;
  }[];
  warnings: string[];
  failures?: { provider: string; account: string; reason: string }[];
}

export interface HistoryJson {
  plans: { id: string; items: PlanItemJson[] }[];
  events: { kind: string; actor: string; detail: Record<string, unknown> }[];
}

export interface PermissionsJson {
  provider: string;
  workspace: { domainWideDelegationScopes: string[]; adminPrivileges: string[] };
  cloud: { customRole: { title: string; includedPermissions: string[] }; why: Record<string, string> };
}
