/**
 * The fake IAM API v1 (DESIGN §6): service accounts (list paged 20 by default and 100 at most,
 * get by email or unique id, also under `projects/-`, disable, enable, delete, undelete by
 * unique id within 30 days) and their keys (list by key type, unpaged as in the real API; get,
 * disable, enable, delete). Answers in IAM's shapes and words, errors included.
 */
import { page, type FakeRequest, type FakeResponse, type FakeRoute } from './fake-types.js';
import {
  CLOUD_PLATFORM,
  type CloudState,
  permissionDenied,
  rpcError,
  serviceDisabled,
  type CloudProject,
  type StoredKey,
  type StoredServiceAccount,
} from './cloud.js';

const SA = String.raw`/v1/projects/([^/]+)/serviceAccounts/([^/:]+)`;
const KEY_TYPES = new Set(['KEY_TYPE_UNSPECIFIED', 'USER_MANAGED', 'SYSTEM_MANAGED']);

const ok = (body: unknown = {}): FakeResponse => ({ status: 200, body });
const unknownAccount = () => rpcError(404, 'NOT_FOUND', 'Unknown service account');
const iamResource = (path: string) => `//iam.googleapis.com/${path}`;

/** The resource as IAM returns it: proto3 JSON leaves out false booleans and empty strings. */
export function accountJson(sa: StoredServiceAccount): Record<string, unknown> {
  return {
    name: sa.name,
    projectId: sa.projectId,
    uniqueId: sa.uniqueId,
    email: sa.email,
    ...(sa.displayName ? { displayName: sa.displayName } : {}),
    etag: sa.etag,
    ...(sa.description ? { description: sa.description } : {}),
    oauth2ClientId: sa.oauth2ClientId,
    ...(sa.disabled ? { disabled: true } : {}),
  };
}

/** A key as IAM lists it: metadata only (no private or public key data unless asked for). */
export function keyJson(state: CloudState, key: StoredKey): Record<string, unknown> {
  const sa = state.serviceAccounts.get(key.serviceAccountId)!;
  return {
    name: `projects/${sa.projectId}/serviceAccounts/${sa.email}/keys/${key.keyId}`,
    validAfterTime: key.validAfterTime,
    validBeforeTime: key.validBeforeTime,
    keyAlgorithm: key.keyAlgorithm,
    keyOrigin: key.keyOrigin,
    keyType: key.keyType,
    ...(key.disabled ? { disabled: true } : {}),
  };
}

/** The API must be enabled on the project the call is about (the consumer project in the fake). */
function gate(state: CloudState, project: CloudProject, permission: string, resource: string): FakeResponse | null {
  if (project.disabledApis.has('iam.googleapis.com'))
    return serviceDisabled('iam.googleapis.com', project.projectNumber);
  return state.allowed(project.projectId, permission) ? null : permissionDenied(permission, iamResource(resource));
}

interface Resolved {
  sa: StoredServiceAccount;
  project: CloudProject;
}

/**
 * The account a path names (`projects/P/serviceAccounts/EMAIL_OR_ID`), its permission checked on
 * its own project. An unknown account is 404 when the caller may read the named project, and 403
 * otherwise, as IAM answers.
 */
function resolve(state: CloudState, match: RegExpExecArray, permission: string): Resolved | FakeResponse {
  // (An unknown account under projects/- is 403, not 404: see below.)
  const projectPart = decodeURIComponent(match[1]!);
  const id = decodeURIComponent(match[2]!);
  const named = projectPart === '-' ? null : state.project(projectPart);
  if (projectPart !== '-' && !named)
    return permissionDenied(permission, iamResource(`projects/${projectPart}/serviceAccounts/${id}`));
  const sa = state.findServiceAccount(id);
  if (!sa || (named && sa.projectId !== named.projectId)) {
    if (named)
      return gate(state, named, permission, `projects/${projectPart}/serviceAccounts/${id}`) ?? unknownAccount();
    // Under the `-` wildcard IAM cannot tell which project's permission to check: an unknown
    // account is 403, as IAM's reference says, never 404.
    return permissionDenied(permission, iamResource(`projects/-/serviceAccounts/${id}`));
  }
  const project = state.project(sa.projectId)!;
  const refused = gate(state, project, permission, sa.name);
  return refused ?? { sa, project };
}

function keyOf(state: CloudState, sa: StoredServiceAccount, keyId: string): StoredKey | FakeResponse {
  const key = state.keys.get(keyId);
  if (!key || key.serviceAccountId !== sa.uniqueId) {
    return rpcError(404, 'NOT_FOUND', `Service account key ${keyId} does not exist.`);
  }
  return key;
}

const isResponse = (v: unknown): v is FakeResponse =>
  typeof v === 'object' && v !== null && 'status' in v && !('sa' in v);

function listAccounts(state: CloudState, req: FakeRequest, match: RegExpExecArray): FakeResponse {
  const projectId = decodeURIComponent(match[1]!);
  const project = state.project(projectId);
  const permission = 'iam.serviceAccounts.list';
  if (!project) return permissionDenied(permission, iamResource(`projects/${projectId}`));
  const refused = gate(state, project, permission, `projects/${project.projectId}`);
  if (refused) return refused;
  const raw = req.url.searchParams.get('pageSize');
  const size = raw === null ? 20 : Number(raw);
  if (!Number.isInteger(size) || size < 0) return rpcError(400, 'INVALID_ARGUMENT', `Invalid page size: ${raw}`);
  const accounts = [...state.serviceAccounts.values()]
    .filter((s) => s.projectId === project.projectId && !s.deletedAt)
    .sort((a, b) => a.email.localeCompare(b.email));
  let result;
  try {
    result = page(accounts, req.url.searchParams.get('pageToken'), size === 0 ? 20 : Math.min(size, 100));
  } catch {
    return rpcError(400, 'INVALID_ARGUMENT', 'Invalid page token');
  }
  return ok({
    ...(result.items.length > 0 ? { accounts: result.items.map((s) => accountJson(s)) } : {}),
    ...(result.nextPageToken ? { nextPageToken: result.nextPageToken } : {}),
  });
}

function setDisabled(state: CloudState, match: RegExpExecArray, disabled: boolean): FakeResponse {
  const r = resolve(state, match, disabled ? 'iam.serviceAccounts.disable' : 'iam.serviceAccounts.enable');
  if (isResponse(r)) return r;
  r.sa.disabled = disabled;
  r.sa.etag = Buffer.from(`${r.sa.uniqueId}:${Date.now()}:${Math.random()}`).toString('base64').slice(0, 12);
  return ok();
}

function undelete(state: CloudState, match: RegExpExecArray): FakeResponse {
  const id = decodeURIComponent(match[2]!);
  const sa = state.serviceAccounts.get(id);
  // Undelete takes the unique id: an email may name a newer account by now.
  if (!/^\d+$/.test(id))
    return rpcError(400, 'INVALID_ARGUMENT', 'Undelete requires the unique id of the service account, not its email.');
  if (!sa) return rpcError(404, 'NOT_FOUND', `Account deleted: ${id}`);
  const project = state.project(sa.projectId)!;
  const refused = gate(state, project, 'iam.serviceAccounts.undelete', sa.name);
  if (refused) return refused;
  if (!sa.deletedAt) return rpcError(400, 'FAILED_PRECONDITION', `Service account ${sa.email} is not deleted.`);
  if (!state.undeletable(id)) return rpcError(404, 'NOT_FOUND', `Account deleted: ${id}`);
  const taken = [...state.serviceAccounts.values()].find((s) => s !== sa && !s.deletedAt && s.email === sa.email);
  if (taken)
    return rpcError(
      400,
      'FAILED_PRECONDITION',
      `Service account ${sa.email} already exists; a new account has its email.`,
    );
  sa.deletedAt = null;
  return ok({ restoredAccount: accountJson(sa) });
}

function withKey(
  state: CloudState,
  match: RegExpExecArray,
  permission: string,
  fn: (key: StoredKey, sa: StoredServiceAccount) => FakeResponse,
): FakeResponse {
  const r = resolve(state, match, permission);
  if (isResponse(r)) return r;
  const key = keyOf(state, r.sa, decodeURIComponent(match[3]!));
  if (isResponse(key)) return key;
  return fn(key, r.sa);
}

const systemManaged = (verb: string) =>
  rpcError(400, 'FAILED_PRECONDITION', `Cannot ${verb} a system-managed key: Google manages it and rotates it itself.`);

export function iamRoutes(state: CloudState): FakeRoute[] {
  // Read here, not at load: cloud.ts imports this module (and its constants are not set yet then).
  const SCOPES = [CLOUD_PLATFORM];
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/projects\/([^/]+)\/serviceAccounts$/,
      scopes: SCOPES,
      name: 'iam.serviceAccounts.list',
      handle: (req, m) => listAccounts(state, req, m),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${SA}$`),
      scopes: SCOPES,
      name: 'iam.serviceAccounts.get',
      handle: (_req, m) => {
        const r = resolve(state, m, 'iam.serviceAccounts.get');
        return isResponse(r) ? r : ok(accountJson(r.sa));
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${SA}:disable$`),
      scopes: SCOPES,
      name: 'iam.serviceAccounts.disable',
      handle: (_req, m) => setDisabled(state, m, true),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${SA}:enable$`),
      scopes: SCOPES,
      name: 'iam.serviceAccounts.enable',
      handle: (_req, m) => setDisabled(state, m, false),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${SA}:undelete$`),
      scopes: SCOPES,
      name: 'iam.serviceAccounts.undelete',
      handle: (_req, m) => undelete(state, m),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^${SA}$`),
      scopes: SCOPES,
      name: 'iam.serviceAccounts.delete',
      handle: (_req, m) => {
        const r = resolve(state, m, 'iam.serviceAccounts.delete');
        if (isResponse(r)) return r;
        state.deleteServiceAccount(r.sa);
        return ok();
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${SA}/keys$`),
      scopes: SCOPES,
      name: 'iam.keys.list',
      handle: (req, m) => {
        const r = resolve(state, m, 'iam.serviceAccountKeys.list');
        if (isResponse(r)) return r;
        const types = req.url.searchParams.getAll('keyTypes');
        const bad = types.find((t) => !KEY_TYPES.has(t));
        if (bad)
          return rpcError(
            400,
            'INVALID_ARGUMENT',
            `Invalid value at 'key_types' (type.googleapis.com/google.iam.admin.v1.ListServiceAccountKeysRequest.KeyType), "${bad}"`,
          );
        const wanted = types.filter((t) => t !== 'KEY_TYPE_UNSPECIFIED');
        const keys = state
          .keysOf(r.sa.uniqueId)
          .filter((k) => wanted.length === 0 || wanted.includes(k.keyType))
          .sort((a, b) => a.validAfterTime.localeCompare(b.validAfterTime));
        return ok(keys.length > 0 ? { keys: keys.map((k) => keyJson(state, k)) } : {});
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${SA}/keys/([^/:]+)$`),
      scopes: SCOPES,
      name: 'iam.keys.get',
      handle: (_req, m) => withKey(state, m, 'iam.serviceAccountKeys.get', (key) => ok(keyJson(state, key))),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${SA}/keys/([^/:]+):(disable|enable)$`),
      scopes: SCOPES,
      name: 'iam.keys.disable',
      handle: (_req, m) => {
        const verb = m[4] as 'disable' | 'enable';
        return withKey(state, m, `iam.serviceAccountKeys.${verb}`, (key) => {
          if (key.keyType === 'SYSTEM_MANAGED') return systemManaged(verb);
          key.disabled = verb === 'disable';
          return ok();
        });
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^${SA}/keys/([^/:]+)$`),
      scopes: SCOPES,
      name: 'iam.keys.delete',
      handle: (_req, m) =>
        withKey(state, m, 'iam.serviceAccountKeys.delete', (key) => {
          if (key.keyType === 'SYSTEM_MANAGED') return systemManaged('delete');
          state.keys.delete(key.keyId);
          return ok();
        }),
    },
  ];
}
