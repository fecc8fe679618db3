/**
 * The in-memory Google Cloud the IAM, Policy Analyzer and Resource Manager routes serve
 * (DESIGN §2d, §6): organizations, folders and projects, service accounts (with the 30-day
 * undelete), their keys, and the last-authentication records Policy Analyzer reports. Each
 * resource holds the roles the caller has on it and each project the APIs it has enabled, so a
 * test can refuse one API on one project. Test and demo helpers build the state directly.
 */
import { randomBytes } from 'node:crypto';
import type { FakeResponse, FakeRoute } from './fake-types.js';
import { iamRoutes } from './iam.js';
import { policyAnalyzerRoutes } from './policy-analyzer.js';
import { resourceManagerRoutes } from './resource-manager.js';

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
export const CLOUD_PLATFORM_READ_ONLY = 'https://www.googleapis.com/auth/cloud-platform.read-only';

/** How long IAM keeps a deleted service account undeletable. */
export const UNDELETE_DAYS = 30;
const DAY_MS = 86_400_000;

const perms = (prefix: string, verbs: string) => verbs.split(' ').map((v) => `${prefix}.${v}`);

/** The permissions of the predefined roles the fake knows (a subset of each, the ones dormant uses). */
export const ROLE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  'roles/browser': [...perms('resourcemanager.projects', 'get list'), ...perms('resourcemanager.folders', 'get list')],
  'roles/iam.serviceAccountViewer': [
    ...perms('iam.serviceAccounts', 'get list'),
    ...perms('iam.serviceAccountKeys', 'get list'),
    'resourcemanager.projects.get',
  ],
  'roles/iam.serviceAccountAdmin': [
    ...perms('iam.serviceAccounts', 'get list disable enable delete undelete'),
    'resourcemanager.projects.get',
  ],
  'roles/iam.serviceAccountKeyAdmin': [
    ...perms('iam.serviceAccountKeys', 'get list disable enable delete'),
    ...perms('iam.serviceAccounts', 'get list'),
    'resourcemanager.projects.get',
  ],
  'roles/policyanalyzer.activityAnalysisViewer': perms(
    'policyanalyzer',
    'serviceAccountLastAuthenticationActivities.query serviceAccountKeyLastAuthenticationActivities.query',
  ),
};

/** What a new resource grants the caller unless a test revokes it: enough to scan and remediate. */
export const DEFAULT_ROLES = Object.keys(ROLE_PERMISSIONS);

/** The APIs a project can have enabled, and their titles (as Google's SERVICE_DISABLED error names them). */
export const CLOUD_APIS = {
  'iam.googleapis.com': 'Identity and Access Management (IAM) API',
  'policyanalyzer.googleapis.com': 'Policy Analyzer API',
  'cloudresourcemanager.googleapis.com': 'Cloud Resource Manager API',
} as const;
export type CloudApi = keyof typeof CLOUD_APIS;

export interface CloudProject {
  projectId: string;
  projectNumber: string;
  /** `organizations/N` or `folders/N`. */
  parent: string;
  state: 'ACTIVE' | 'DELETE_REQUESTED';
  displayName: string;
  createTime: string;
  roles: Set<string>;
  disabledApis: Set<CloudApi>;
}

export interface CloudFolder {
  /** `folders/N`. */
  name: string;
  parent: string;
  displayName: string;
  state: 'ACTIVE' | 'DELETE_REQUESTED';
  createTime: string;
  roles: Set<string>;
}

export interface CloudOrganization {
  name: string;
  roles: Set<string>;
}

/** IAM's ServiceAccount resource, field by field, plus when it was deleted. */
export interface StoredServiceAccount {
  name: string;
  projectId: string;
  uniqueId: string;
  email: string;
  displayName: string;
  description: string;
  oauth2ClientId: string;
  disabled: boolean;
  etag: string;
  deletedAt: Date | null;
}

/** IAM's ServiceAccountKey resource (no key material: the fake never makes any). */
export interface StoredKey {
  serviceAccountId: string;
  keyId: string;
  validAfterTime: string;
  validBeforeTime: string;
  keyAlgorithm: 'KEY_ALG_RSA_2048' | 'KEY_ALG_RSA_1024';
  keyOrigin: 'GOOGLE_PROVIDED' | 'USER_PROVIDED';
  keyType: 'USER_MANAGED' | 'SYSTEM_MANAGED';
  disabled: boolean;
}

/** How Policy Analyzer pages (DESIGN §6: pages may be short, or empty with a nextPageToken). */
export interface ActivityPaging {
  /** At most this many activities a page, whatever pageSize asks. */
  maxPerPage: number | null;
  /** The first page is empty but has a nextPageToken. */
  emptyFirstPage: boolean;
  /** After the last activity, one more empty page (the last page still carries a token). */
  trailingEmptyPage: boolean;
}

export interface ServiceAccountSeed {
  /** The part before `@`; the email is `<accountId>@<project>.iam.gserviceaccount.com`. */
  accountId?: string;
  /** A full email (default service accounts: `123-compute@developer.gserviceaccount.com`). */
  email?: string;
  displayName?: string;
  description?: string;
  disabled?: boolean;
  uniqueId?: string;
}

export interface KeySeed {
  /** validAfterTime: when the key was created. */
  createdAt: Date | string;
  keyId?: string;
  disabled?: boolean;
  keyType?: StoredKey['keyType'];
  keyOrigin?: StoredKey['keyOrigin'];
  validBeforeTime?: string;
}

const digits = (n: number) => {
  let s = String(1 + Math.floor(Math.random() * 9));
  while (s.length < n) s += String(Math.floor(Math.random() * 10));
  return s;
};
const iso = (d: Date | string | number) => new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Google's error body as the gRPC-transcoded APIs (IAM v1, Policy Analyzer, Resource Manager v3) send it. */
export function rpcError(code: number, status: string, message: string, details?: unknown[]): FakeResponse {
  return { status: code, body: { error: { code, message, status, ...(details ? { details } : {}) } } };
}

/** 403 for a missing permission, worded as IAM words it (the resource may also not exist). */
export function permissionDenied(permission: string, resource: string): FakeResponse {
  return rpcError(
    403,
    'PERMISSION_DENIED',
    `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'IAM_PERMISSION_DENIED',
        domain: resource.startsWith('//cloudresourcemanager')
          ? 'cloudresourcemanager.googleapis.com'
          : 'iam.googleapis.com',
        metadata: { permission },
      },
    ],
  );
}

/** Google's answer for an API that is not enabled on the consumer project (copied from real responses). */
export function serviceDisabled(api: CloudApi, projectNumber: string): FakeResponse {
  const activationUrl = `https://console.developers.google.com/apis/api/${api}/overview?project=${projectNumber}`;
  const title = CLOUD_APIS[api];
  return rpcError(
    403,
    'PERMISSION_DENIED',
    `${title} has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting ${activationUrl} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'SERVICE_DISABLED',
        domain: 'googleapis.com',
        metadata: {
          consumer: `projects/${projectNumber}`,
          service: api,
          serviceTitle: title,
          containerInfo: projectNumber,
          activationUrl,
        },
      },
      {
        '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
        locale: 'en-US',
        message: `${title} has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting ${activationUrl} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`,
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Google developers console API activation', url: activationUrl }],
      },
    ],
  );
}

export class CloudState {
  readonly organizations = new Map<string, CloudOrganization>();
  readonly folders = new Map<string, CloudFolder>();
  readonly projects = new Map<string, CloudProject>();
  /** By unique id, live and deleted. */
  readonly serviceAccounts = new Map<string, StoredServiceAccount>();
  /** By key id. */
  readonly keys = new Map<string, StoredKey>();
  /** Last authentication by service account unique id, and by `uniqueId/keyId`. */
  readonly accountAuth = new Map<string, Date>();
  readonly keyAuth = new Map<string, Date>();
  /** When Policy Analyzer began observing; its observation period ends `lagDays` before now. */
  observationStart = new Date('2024-01-01T08:00:00Z');
  lagDays = 0;
  paging: ActivityPaging = { maxPerPage: null, emptyFirstPage: false, trailingEmptyPage: false };

  constructor(readonly clock: () => Date = () => new Date()) {}

  addOrganization(id: string = digits(12)): string {
    const name = id.startsWith('organizations/') ? id : `organizations/${id}`;
    this.organizations.set(name, { name, roles: new Set(DEFAULT_ROLES) });
    return name;
  }

  addFolder(parent: string, options: { id?: string; displayName?: string; state?: CloudFolder['state'] } = {}): string {
    const name = `folders/${options.id ?? digits(12)}`;
    this.folders.set(name, {
      name,
      parent,
      displayName: options.displayName ?? name,
      state: options.state ?? 'ACTIVE',
      createTime: iso(this.clock()),
      roles: new Set(DEFAULT_ROLES),
    });
    return name;
  }

  addProject(
    projectId: string,
    options: { projectNumber?: string; parent?: string; state?: CloudProject['state']; displayName?: string } = {},
  ): CloudProject {
    const project: CloudProject = {
      projectId,
      projectNumber: options.projectNumber ?? digits(12),
      parent: options.parent ?? 'organizations/100000000001',
      state: options.state ?? 'ACTIVE',
      displayName: options.displayName ?? projectId,
      createTime: iso(this.clock()),
      roles: new Set(DEFAULT_ROLES),
      disabledApis: new Set(),
    };
    this.projects.set(projectId, project);
    return project;
  }

  /** A project by id or number. */
  project(idOrNumber: string): CloudProject | undefined {
    return this.projects.get(idOrNumber) ?? [...this.projects.values()].find((p) => p.projectNumber === idOrNumber);
  }

  private rolesOf(resource: string): Set<string> | undefined {
    if (resource.startsWith('folders/')) return this.folders.get(resource)?.roles;
    if (resource.startsWith('organizations/')) return this.organizations.get(resource)?.roles;
    return this.project(resource)?.roles;
  }

  /** Take a role (or every role matching `roles/iam.*`) away from the caller on a project, folder or organization. */
  revoke(resource: string, role: string): void {
    const roles = this.rolesOf(resource);
    if (!roles) throw new Error(`no resource ${resource}`);
    for (const r of [...roles])
      if (r === role || (role.endsWith('*') && r.startsWith(role.slice(0, -1)))) roles.delete(r);
  }

  grant(resource: string, role: string): void {
    const roles = this.rolesOf(resource);
    if (!roles) throw new Error(`no resource ${resource}`);
    roles.add(role);
  }

  /** Whether the caller holds `permission` on the resource (false for one that does not exist). */
  allowed(resource: string, permission: string): boolean {
    const roles = this.rolesOf(resource);
    return !!roles && [...roles].some((r) => ROLE_PERMISSIONS[r]?.includes(permission));
  }

  disableApi(projectId: string, api: CloudApi): void {
    this.mustProject(projectId).disabledApis.add(api);
  }

  enableApi(projectId: string, api: CloudApi): void {
    this.mustProject(projectId).disabledApis.delete(api);
  }

  private mustProject(projectId: string): CloudProject {
    const p = this.project(projectId);
    if (!p) throw new Error(`no project ${projectId}`);
    return p;
  }

  addServiceAccount(projectId: string, seed: ServiceAccountSeed = {}): StoredServiceAccount {
    this.mustProject(projectId);
    const email =
      seed.email ?? `${seed.accountId ?? `sa-${this.serviceAccounts.size + 1}`}@${projectId}.iam.gserviceaccount.com`;
    const uniqueId = seed.uniqueId ?? `1${digits(20)}`;
    const sa: StoredServiceAccount = {
      name: `projects/${projectId}/serviceAccounts/${email}`,
      projectId,
      uniqueId,
      email,
      displayName: seed.displayName ?? '',
      description: seed.description ?? '',
      oauth2ClientId: uniqueId,
      disabled: seed.disabled ?? false,
      etag: randomBytes(8).toString('base64'),
      deletedAt: null,
    };
    this.serviceAccounts.set(uniqueId, sa);
    return sa;
  }

  /** A live (or, with `deleted`, any) service account by email or unique id. */
  findServiceAccount(emailOrId: string, options: { deleted?: boolean } = {}): StoredServiceAccount | undefined {
    const sa =
      this.serviceAccounts.get(emailOrId) ??
      [...this.serviceAccounts.values()].find((s) => s.email.toLowerCase() === emailOrId.toLowerCase() && !s.deletedAt);
    if (!sa) return undefined;
    return sa.deletedAt && !options.deleted ? undefined : sa;
  }

  private mustAccount(emailOrId: string): StoredServiceAccount {
    const sa = this.findServiceAccount(emailOrId);
    if (!sa) throw new Error(`no service account ${emailOrId}`);
    return sa;
  }

  addKey(serviceAccount: string, seed: KeySeed): StoredKey {
    const sa = this.mustAccount(serviceAccount);
    const keyType = seed.keyType ?? 'USER_MANAGED';
    const createdAt = new Date(seed.createdAt);
    const key: StoredKey = {
      serviceAccountId: sa.uniqueId,
      keyId: seed.keyId ?? randomBytes(20).toString('hex'),
      validAfterTime: iso(createdAt),
      validBeforeTime:
        seed.validBeforeTime ??
        (keyType === 'USER_MANAGED' ? '9999-12-31T23:59:59Z' : iso(createdAt.getTime() + 14 * DAY_MS)),
      keyAlgorithm: 'KEY_ALG_RSA_2048',
      keyOrigin: seed.keyOrigin ?? 'GOOGLE_PROVIDED',
      keyType,
      disabled: seed.disabled ?? false,
    };
    this.keys.set(key.keyId, key);
    return key;
  }

  keysOf(uniqueId: string): StoredKey[] {
    return [...this.keys.values()].filter((k) => k.serviceAccountId === uniqueId);
  }

  /** An authentication as the account (and, with `keyId`, with that key) at `at`. */
  recordAuthentication(serviceAccount: string, at: Date | string, keyId?: string): void {
    const sa = this.findServiceAccount(serviceAccount, { deleted: true });
    if (!sa) throw new Error(`no service account ${serviceAccount}`);
    const when = new Date(at);
    const later = (prev: Date | undefined) => !prev || prev < when;
    if (later(this.accountAuth.get(sa.uniqueId))) this.accountAuth.set(sa.uniqueId, when);
    if (keyId) {
      if (this.keys.get(keyId)?.serviceAccountId !== sa.uniqueId)
        throw new Error(`no key ${keyId} of ${serviceAccount}`);
      const id = `${sa.uniqueId}/${keyId}`;
      if (later(this.keyAuth.get(id))) this.keyAuth.set(id, when);
    }
  }

  /** Soft delete, as IAM does: undeletable by unique id for 30 days. */
  deleteServiceAccount(sa: StoredServiceAccount): void {
    sa.deletedAt = this.clock();
    sa.etag = randomBytes(8).toString('base64');
  }

  /** A deleted account still inside the undelete window, or undefined. */
  undeletable(uniqueId: string): StoredServiceAccount | undefined {
    const sa = this.serviceAccounts.get(uniqueId);
    if (!sa?.deletedAt) return undefined;
    return this.clock().getTime() - sa.deletedAt.getTime() < UNDELETE_DAYS * DAY_MS ? sa : undefined;
  }
}

/** Every Cloud route the fake serves, for GoogleMemory. */
export function cloudRoutes(state: CloudState): FakeRoute[] {
  return [...iamRoutes(state), ...policyAnalyzerRoutes(state), ...resourceManagerRoutes(state)];
}
