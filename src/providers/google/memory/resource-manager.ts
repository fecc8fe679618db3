/**
 * The fake Cloud Resource Manager API v3 (DESIGN §6): `projects.get`, `projects.list` and
 * `folders.list` by parent, and `projects.search` with `parent:` and `state:` terms, paged. As
 * Google does, a project that does not exist and one the caller may not see get the same 403,
 * and lists leave out projects being deleted unless `showDeleted=true`.
 */
import { page, type FakeRequest, type FakeResponse, type FakeRoute } from './fake-types.js';
import {
  CLOUD_PLATFORM,
  CLOUD_PLATFORM_READ_ONLY,
  permissionDenied,
  rpcError,
  serviceDisabled,
  type CloudFolder,
  type CloudProject,
  type CloudState,
} from './cloud.js';

const crm = (name: string) => `//cloudresourcemanager.googleapis.com/${name}`;

function projectJson(p: CloudProject): Record<string, unknown> {
  return {
    name: `projects/${p.projectNumber}`,
    parent: p.parent,
    projectId: p.projectId,
    state: p.state,
    displayName: p.displayName,
    createTime: p.createTime,
    updateTime: p.createTime,
    ...(p.state === 'DELETE_REQUESTED' ? { deleteTime: p.createTime } : {}),
    etag: `W/"${Buffer.from(p.projectId).toString('base64url').slice(0, 16)}"`,
  };
}

function folderJson(f: CloudFolder): Record<string, unknown> {
  return {
    name: f.name,
    parent: f.parent,
    displayName: f.displayName,
    state: f.state,
    createTime: f.createTime,
    updateTime: f.createTime,
    etag: `W/"${Buffer.from(f.name).toString('base64url').slice(0, 16)}"`,
  };
}

/** Paged JSON `{ [field]: items, nextPageToken }`, or 400 for a token this fake did not make. */
function paged(req: FakeRequest, field: string, items: Record<string, unknown>[], defaultSize: number): FakeResponse {
  const raw = req.url.searchParams.get('pageSize');
  const size = raw === null || Number(raw) <= 0 ? defaultSize : Math.min(Number(raw), 1000);
  if (!Number.isInteger(size)) return rpcError(400, 'INVALID_ARGUMENT', `Invalid page_size: ${raw}`);
  try {
    const result = page(items, req.url.searchParams.get('pageToken'), size);
    return {
      status: 200,
      body: {
        ...(result.items.length > 0 ? { [field]: result.items } : {}),
        ...(result.nextPageToken ? { nextPageToken: result.nextPageToken } : {}),
      },
    };
  } catch {
    return rpcError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
  }
}

/** The parent named by `?parent=`: it must exist and the caller must be allowed to list in it. */
function parentOf(state: CloudState, req: FakeRequest, permission: string): string | FakeResponse {
  const parent = req.url.searchParams.get('parent');
  if (!parent) return rpcError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument: parent is required.');
  if (!/^(organizations|folders)\/\d+$/.test(parent)) {
    return rpcError(400, 'INVALID_ARGUMENT', `Invalid parent: ${parent}; expected organizations/{id} or folders/{id}.`);
  }
  if (!state.allowed(parent, permission)) return permissionDenied(permission, crm(parent));
  return parent;
}

const byProjectId = (a: CloudProject, b: CloudProject) => a.projectId.localeCompare(b.projectId);

/** `parent:folders/1 state:ACTIVE` (terms ANDed; `parent.type:folder parent.id:1` too). */
function searchMatcher(query: string | null): ((p: CloudProject) => boolean) | Error {
  const tests: ((p: CloudProject) => boolean)[] = [];
  let parentType: string | null = null;
  let parentId: string | null = null;
  for (const term of (query ?? '')
    .trim()
    .split(/\s+(?:AND\s+)?/)
    .filter(Boolean)) {
    const m = /^([\w.]+)[:=](.+)$/.exec(term);
    if (!m) return new Error(`Invalid query: ${query}`);
    const [, field, value] = m as unknown as [string, string, string];
    if (field === 'parent') tests.push((p) => p.parent === value);
    else if (field === 'parent.type') parentType = value;
    else if (field === 'parent.id') parentId = value;
    else if (field === 'state' || field === 'lifecycleState') tests.push((p) => p.state === value.toUpperCase());
    else if (field === 'id' || field === 'projectId') tests.push((p) => p.projectId === value);
    else return new Error(`Unsupported query field: ${field}`);
  }
  if (parentType || parentId) {
    const type = parentType === 'organization' ? 'organizations' : parentType === 'folder' ? 'folders' : null;
    tests.push((p) => (!type || p.parent.startsWith(`${type}/`)) && (!parentId || p.parent.endsWith(`/${parentId}`)));
  }
  return (p) => tests.every((t) => t(p));
}

export function resourceManagerRoutes(state: CloudState): FakeRoute[] {
  // Read here, not at load: cloud.ts imports this module (and its constants are not set yet then).
  const SCOPES = [CLOUD_PLATFORM, CLOUD_PLATFORM_READ_ONLY];
  const disabled = (p: CloudProject) =>
    p.disabledApis.has('cloudresourcemanager.googleapis.com')
      ? serviceDisabled('cloudresourcemanager.googleapis.com', p.projectNumber)
      : null;
  return [
    {
      method: 'GET',
      pattern: /^\/v3\/projects:search$/,
      scopes: SCOPES,
      name: 'resourcemanager.projects.search',
      handle: (req) => {
        const match = searchMatcher(req.url.searchParams.get('query'));
        if (match instanceof Error) return rpcError(400, 'INVALID_ARGUMENT', match.message);
        // Search returns what the caller may get, any state unless the query names one.
        const found = [...state.projects.values()]
          .filter((p) => state.allowed(p.projectId, 'resourcemanager.projects.get') && match(p))
          .sort(byProjectId);
        return paged(req, 'projects', found.map(projectJson), 100);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v3\/projects$/,
      scopes: SCOPES,
      name: 'resourcemanager.projects.list',
      handle: (req) => {
        const parent = parentOf(state, req, 'resourcemanager.projects.list');
        if (typeof parent !== 'string') return parent;
        const showDeleted = req.url.searchParams.get('showDeleted') === 'true';
        const children = [...state.projects.values()]
          .filter((p) => p.parent === parent && (showDeleted || p.state === 'ACTIVE'))
          .sort(byProjectId);
        return paged(req, 'projects', children.map(projectJson), 100);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v3\/projects\/([^/:]+)$/,
      scopes: SCOPES,
      name: 'resourcemanager.projects.get',
      handle: (_req, m) => {
        const id = decodeURIComponent(m[1]!);
        const p = state.project(id);
        // Unknown and invisible look the same, so that project ids cannot be probed.
        if (!p || !state.allowed(p.projectId, 'resourcemanager.projects.get')) {
          return permissionDenied('resourcemanager.projects.get', crm(`projects/${id}`));
        }
        return disabled(p) ?? { status: 200, body: projectJson(p) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v3\/folders$/,
      scopes: SCOPES,
      name: 'resourcemanager.folders.list',
      handle: (req) => {
        const parent = parentOf(state, req, 'resourcemanager.folders.list');
        if (typeof parent !== 'string') return parent;
        const showDeleted = req.url.searchParams.get('showDeleted') === 'true';
        const children = [...state.folders.values()]
          .filter((f) => f.parent === parent && (showDeleted || f.state === 'ACTIVE'))
          .sort((a, b) => a.name.localeCompare(b.name));
        return paged(req, 'folders', children.map(folderJson), 100);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v3\/folders\/(\d+)$/,
      scopes: SCOPES,
      name: 'resourcemanager.folders.get',
      handle: (_req, m) => {
        const name = `folders/${m[1]}`;
        const f = state.folders.get(name);
        if (!f || !state.allowed(name, 'resourcemanager.folders.get'))
          return permissionDenied('resourcemanager.folders.get', crm(name));
        return { status: 200, body: folderJson(f) };
      },
    },
  ];
}
