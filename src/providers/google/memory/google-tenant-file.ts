/**
 * The file format of an in-memory Google tenant (examples/google/tenant.json): Workspace users,
 * groups and login events, and Cloud projects with service accounts, keys and their last
 * authentications; validated on load. `openDemoGoogle` serves it to the real provider code
 * (Google's client libraries, a key generated in memory, the in-memory APIs as the network).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as admin from '@googleapis/admin';
import * as auth from 'google-auth-library';
import * as iam from '@googleapis/iam';
import { z } from 'zod';
import { parseConfig, type Config } from '../../../config/config.js';
import { UsageError } from '../../../errors.js';
import type { ProviderSession } from '../../provider.js';
import { SCOPES, type ServiceAccountKey } from '../google-auth.js';
import { createGoogleSession } from '../google-entry.js';
import { GoogleTenant } from './google-tenant.js';

const date = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date');

const userSchema = z.strictObject({
  primaryEmail: z.email(),
  givenName: z.string().optional(),
  familyName: z.string().optional(),
  isAdmin: z.boolean().optional(),
  isDelegatedAdmin: z.boolean().optional(),
  creationTime: date,
  /** null: never logged in (Google's 1970-01-01T00:00:00.000Z). */
  lastLoginTime: date.nullable(),
  suspended: z.boolean().optional(),
  archived: z.boolean().optional(),
  orgUnitPath: z.string().startsWith('/').optional(),
  aliases: z.array(z.email()).optional(),
});

const keySchema = z.strictObject({
  keyId: z.string().regex(/^[0-9a-f]{40}$/),
  createdAt: date,
  disabled: z.boolean().optional(),
  lastAuthenticated: date.nullable(),
});

const serviceAccountSchema = z.strictObject({
  accountId: z.string().min(6),
  uniqueId: z.string().regex(/^\d{21}$/),
  displayName: z.string().optional(),
  disabled: z.boolean().optional(),
  lastAuthenticated: date.nullable(),
  keys: z.array(keySchema).default([]),
});

export const googleTenantSchema = z.strictObject({
  description: z.string().optional(),
  customerId: z.string().min(1),
  domain: z.string().min(1),
  /** The instant the demo evaluates at. */
  asOf: date,
  /** The admin domain-wide delegation acts as. */
  subject: z.email(),
  workspace: z
    .strictObject({ exemptUsers: z.array(z.string()).default([]), exemptOrgUnits: z.array(z.string()).default([]) })
    .default({ exemptUsers: [], exemptOrgUnits: [] }),
  users: z.array(userSchema),
  groups: z
    .array(
      z.strictObject({
        email: z.email(),
        name: z.string(),
        members: z.array(z.strictObject({ user: z.email(), role: z.enum(['OWNER', 'MANAGER', 'MEMBER']) })),
      }),
    )
    .default([]),
  logins: z.array(z.strictObject({ user: z.email(), at: date, ipAddress: z.string().optional() })).default([]),
  projects: z.array(
    z.strictObject({
      projectId: z.string().min(6),
      projectNumber: z.string().regex(/^\d+$/),
      serviceAccounts: z.array(serviceAccountSchema),
    }),
  ),
});

export type GoogleTenantFile = z.infer<typeof googleTenantSchema>;

export function readGoogleTenantFile(path: string): GoogleTenantFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the Google demo tenant ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = googleTenantSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${path}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Fill a GoogleTenant from the file. */
export function loadGoogleTenant(file: GoogleTenantFile, clock: () => Date): GoogleTenant {
  const tenant = new GoogleTenant({ clock, customerId: file.customerId, domain: file.domain });
  for (const u of file.users) {
    const { lastLoginTime, ...rest } = u;
    tenant.workspace.addUser({ ...rest, lastLoginTime });
  }
  for (const g of file.groups) {
    tenant.workspace.addGroup({ email: g.email, name: g.name });
    for (const m of g.members) tenant.workspace.addMember(g.email, m.user, m.role);
  }
  for (const l of file.logins)
    tenant.workspace.addLogin(l.user, { at: l.at, ...(l.ipAddress ? { ipAddress: l.ipAddress } : {}) });
  for (const p of file.projects) {
    tenant.cloud.addProject(p.projectId, { projectNumber: p.projectNumber });
    for (const s of p.serviceAccounts) {
      const sa = tenant.cloud.addServiceAccount(p.projectId, {
        accountId: s.accountId,
        uniqueId: s.uniqueId,
        ...(s.displayName ? { displayName: s.displayName } : {}),
        ...(s.disabled ? { disabled: true } : {}),
      });
      if (s.lastAuthenticated) tenant.cloud.recordAuthentication(sa.uniqueId, s.lastAuthenticated);
      for (const k of s.keys) {
        tenant.cloud.addKey(sa.uniqueId, {
          keyId: k.keyId,
          createdAt: k.createdAt,
          ...(k.disabled ? { disabled: true } : {}),
        });
        if (k.lastAuthenticated) tenant.cloud.recordAuthentication(sa.uniqueId, k.lastAuthenticated, k.keyId);
      }
    }
  }
  return tenant;
}

/** A throwaway service account key for the demo: made in memory, trusted by the demo tenant only. */
function demoKey(projectId: string): { key: ServiceAccountKey; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return {
    key: {
      type: 'service_account',
      client_email: `dormant@${projectId}.iam.gserviceaccount.com`,
      client_id: '100000000000000000001',
      private_key: privateKey,
    },
    publicKeyPem: publicKey,
  };
}

export interface DemoGoogleSession extends ProviderSession {
  tenant: GoogleTenant;
  config: Config;
  asOf: Date;
}

/** The demo tenant behind the real provider: every call goes through google-auth-library and the generated clients. */
export function openDemoGoogle(path: string, options: { config?: Config } = {}): DemoGoogleSession {
  const file = readGoogleTenantFile(path);
  const asOf = new Date(file.asOf);
  const clock = () => asOf;
  const tenant = loadGoogleTenant(file, clock);
  const admin0 = file.projects[0]?.projectId ?? 'dormant-demo';
  const { key, publicKeyPem } = demoKey(admin0);
  tenant.memory.registerServiceAccount(key.client_email, publicKeyPem, key.client_id!);
  tenant.memory.delegate(key.client_id!, [...SCOPES.workspaceRead, ...SCOPES.workspaceWrite, ...SCOPES.reports]);
  const base = options.config ?? parseConfig({});
  const config: Config = {
    ...base,
    google: {
      ...base.google,
      enabled: true,
      subject: file.subject,
      customer: 'my_customer',
      workspace: {
        ...base.google.workspace,
        exemptUsers: [...base.google.workspace.exemptUsers, ...file.workspace.exemptUsers],
        exemptOrgUnits: [...base.google.workspace.exemptOrgUnits, ...file.workspace.exemptOrgUnits],
      },
      cloud: { ...base.google.cloud, projects: file.projects.map((p) => p.projectId) },
    },
  };
  const session = createGoogleSession({
    sdks: { auth, admin, iam },
    google: config.google,
    fetch: tenant.memory.fetch,
    key,
    clock,
  });
  return { ...session, tenant, config, asOf };
}
