/**
 * Credentials and clients for Google (DESIGN §2d, §6): a service account key file (validated
 * here, so a wrong file is one line and exit 2) or Application Default Credentials; delegated
 * clients that act as `google.subject` for Workspace (read, write and reports each with only
 * their own scopes, so a grant for scanning is enough to scan), and one undelegated client with
 * the cloud-platform scope for IAM, Policy Analyzer and Resource Manager. Every request goes
 * through the fetch of google-http.ts.
 */
import { readFileSync } from 'node:fs';
import type * as AdminSdk from '@googleapis/admin';
import type * as AuthLib from 'google-auth-library';
import type * as IamSdk from '@googleapis/iam';
import { UsageError } from '../../errors.js';
import type { CloudRequest, CloudRestApi, GoogleApis, GoogleConfig } from './google-context.js';
import { keyFileError } from './google-errors.js';
import type { FetchLike } from './google-http.js';

export const SCOPES = {
  workspaceRead: [
    'https://www.googleapis.com/auth/admin.directory.user.readonly',
    'https://www.googleapis.com/auth/admin.directory.group.readonly',
  ],
  workspaceWrite: [
    'https://www.googleapis.com/auth/admin.directory.user',
    'https://www.googleapis.com/auth/admin.directory.group.member',
  ],
  reports: ['https://www.googleapis.com/auth/admin.reports.audit.readonly'],
  cloud: ['https://www.googleapis.com/auth/cloud-platform'],
} as const;

export const DEFAULT_ROOTS = {
  directory: 'https://admin.googleapis.com/',
  iam: 'https://iam.googleapis.com/',
  policyAnalyzer: 'https://policyanalyzer.googleapis.com/',
  resourceManager: 'https://cloudresourcemanager.googleapis.com/',
} as const;

/** The fields of a service account key file dormant uses. The private key is never printed. */
export interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  client_id?: string;
  project_id?: string;
}

/** Read and check a key file: JSON, of type service_account, with an email and a PEM private key. */
export function readKeyFile(file: string): ServiceAccountKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw keyFileError(file, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw keyFileError(file, 'is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw keyFileError(file, 'is not a JSON object');
  const key = parsed as Record<string, unknown>;
  if (key.type !== 'service_account') {
    const found = typeof key.type === 'string' ? `an '${key.type}' credential` : 'JSON without a "type"';
    throw keyFileError(file, `is ${found}, not a service account key ("type": "service_account")`);
  }
  for (const field of ['client_email', 'private_key'] as const) {
    if (typeof key[field] !== 'string' || (key[field] as string).length === 0) {
      throw keyFileError(file, `has no "${field}"`);
    }
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(key.private_key as string)) {
    throw keyFileError(file, 'has a "private_key" that is not a PEM private key');
  }
  return key as unknown as ServiceAccountKey;
}

export interface GoogleSdks {
  auth: typeof AuthLib;
  admin: typeof AdminSdk;
  iam: typeof IamSdk;
}

export interface ClientOptions {
  sdks: GoogleSdks;
  google: GoogleConfig;
  fetch: FetchLike;
  /** Override the key file (the demo builds its key in memory). */
  key?: ServiceAccountKey;
}

/** Who the calls run as, in words safe to print. */
export interface GoogleIdentity {
  serviceAccount: string | null;
  clientId: string | null;
  subject: string | null;
}

export function createGoogleApis(options: ClientOptions): { apis: GoogleApis; who: GoogleIdentity } {
  const { sdks, google } = options;
  const key = options.key ?? (google.credentialsFile ? readKeyFile(google.credentialsFile) : null);
  const transporterOptions = { fetchImplementation: options.fetch as never, retry: false };
  const memo = new Map<string, AuthLib.AuthClient | AuthLib.GoogleAuth>();

  const authFor = (scopes: readonly string[], subject: string | null) => {
    const id = `${scopes.join(' ')}|${subject ?? ''}`;
    let client = memo.get(id);
    if (!client) {
      client = key
        ? new sdks.auth.JWT({
            email: key.client_email,
            key: key.private_key,
            ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
            scopes: [...scopes],
            ...(subject ? { subject } : {}),
            transporterOptions,
          })
        : new sdks.auth.GoogleAuth({
            scopes: [...scopes],
            clientOptions: { ...(subject ? { subject } : {}), transporterOptions },
          });
      memo.set(id, client);
    }
    return client;
  };
  const delegated = (scopes: readonly string[]) => {
    if (!google.subject) {
      throw new UsageError(
        "google.subject is not set: Workspace is read through domain-wide delegation as an admin; set google.subject to a Workspace admin's email, or set google.workspace.enabled: false",
      );
    }
    return authFor(scopes, google.subject);
  };
  const root = (api: keyof typeof DEFAULT_ROOTS) => {
    const configured = google.rootUrls[api];
    return configured ? `${configured.replace(/\/+$/, '')}/` : DEFAULT_ROOTS[api];
  };
  const built = new Map<string, unknown>();
  const once = <T>(name: string, make: () => T): T => {
    if (!built.has(name)) built.set(name, make());
    return built.get(name) as T;
  };
  const common = { retry: false } as const;
  const apis: GoogleApis = {
    directory: (access) =>
      once(`directory-${access}`, () =>
        sdks.admin.admin({
          version: 'directory_v1',
          auth: delegated(access === 'read' ? SCOPES.workspaceRead : SCOPES.workspaceWrite) as never,
          rootUrl: root('directory'),
          ...common,
        }),
      ),
    reports: () =>
      once('reports', () =>
        sdks.admin.admin({
          version: 'reports_v1',
          auth: delegated(SCOPES.reports) as never,
          rootUrl: root('directory'),
          ...common,
        }),
      ),
    iam: () =>
      once('iam', () =>
        sdks.iam.iam({ version: 'v1', auth: authFor(SCOPES.cloud, null) as never, rootUrl: root('iam'), ...common }),
      ),
    async cloudRequest(api: CloudRestApi, path: string, request: CloudRequest = {}) {
      const client = authFor(SCOPES.cloud, null);
      const params = Object.fromEntries(Object.entries(request.params ?? {}).filter(([, v]) => v !== undefined));
      const res = await client.request({
        url: `${root(api).replace(/\/$/, '')}${path}`,
        method: request.method ?? 'GET',
        params,
        ...(request.data !== undefined ? { data: request.data } : {}),
        retry: false,
      });
      return res.data;
    },
  };
  return {
    apis,
    who: { serviceAccount: key?.client_email ?? null, clientId: key?.client_id ?? null, subject: google.subject },
  };
}
