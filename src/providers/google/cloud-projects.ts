/**
 * Which Google Cloud projects a scan reads (DESIGN §2d): `google.cloud.projects`, and every
 * ACTIVE project under `google.cloud.organization` and `google.cloud.folders`, at any depth
 * (Resource Manager v3 `projects.list` and `folders.list` by parent, paged), without duplicates.
 * An organization or folder that cannot be listed is a failure of the scan, never silently empty.
 */
import pLimit from 'p-limit';
import { z } from 'zod';
import { CloudError, type DormantError } from '../../errors.js';
import type { ScanFailure } from '../../model/identity.js';
import type { GoogleContext } from './google-context.js';
import { googleFailure } from './google-errors.js';

const projectSchema = z.object({
  name: z.string().optional(),
  projectId: z.string().min(1),
  parent: z.string().optional(),
  state: z.string().optional(),
});

const folderSchema = z.object({
  name: z.string().regex(/^folders\/\d+$/, 'expected folders/N'),
  parent: z.string().optional(),
  state: z.string().optional(),
});

const projectPageSchema = z.object({
  projects: z.array(projectSchema).optional(),
  nextPageToken: z.string().optional(),
});
const folderPageSchema = z.object({ folders: z.array(folderSchema).optional(), nextPageToken: z.string().optional() });

export interface ProjectScope {
  /** Project ids, configured ones first, each once. */
  projects: string[];
  /** Organizations or folders that could not be listed. */
  failures: ScanFailure[];
}

/** `123` or `organizations/123` → `organizations/123` (and the same for folders). */
export function containerName(kind: 'organizations' | 'folders', id: string): string {
  return id.startsWith(`${kind}/`) ? id : `${kind}/${id}`;
}

/** Validates one answer; an unexpected shape is a CloudError naming what was read. */
export function parseCloudPage<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? issue.path.map(String).join('.') : 'body';
  throw new CloudError(
    `Google sent an unexpected answer while ${what} (${where}: ${issue?.message ?? 'bad shape'})`,
    'UnexpectedAnswer',
  );
}

/** Every page of a Resource Manager list, to the end (a repeated token is an error, not a loop). */
async function listAll<T>(
  ctx: GoogleContext,
  path: string,
  parent: string,
  schema: z.ZodType<{ nextPageToken?: string | undefined } & Record<string, unknown>>,
  field: string,
  what: string,
): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<string>();
  let pageToken: string | undefined;
  do {
    const body = await ctx.apis.cloudRequest('resourceManager', path, {
      params: { parent, pageSize: 1000, pageToken },
    });
    const page = parseCloudPage(schema, body, what);
    out.push(...((page[field] as T[] | undefined) ?? []));
    pageToken = page.nextPageToken || undefined;
    if (pageToken && seen.has(pageToken))
      throw new CloudError(`Google repeated a page token while ${what}`, 'UnexpectedAnswer');
    if (pageToken) seen.add(pageToken);
  } while (pageToken);
  return out;
}

/** Failures that are not about one container (bad credentials, no network): the whole scan stops. */
export function isFatal(err: DormantError): boolean {
  if (!(err instanceof CloudError)) return true;
  return [
    'InvalidGrant',
    'TokenRefused',
    'Unauthenticated',
    'DelegationNotGranted',
    'UntrustedCertificate',
    'Unreachable',
  ].includes(err.code);
}

/** The projects to scan, walking folders breadth-first with `google.cloud.concurrency` calls at once. */
export async function cloudProjects(ctx: GoogleContext): Promise<ProjectScope> {
  const cloud = ctx.google.cloud;
  const projects = new Set<string>(cloud.projects);
  const failures: ScanFailure[] = [];
  const limit = pLimit(cloud.concurrency);
  const visited = new Set<string>();
  const discovered: string[] = [];

  const walk = async (container: string): Promise<void> => {
    if (visited.has(container)) return;
    visited.add(container);
    let children: z.infer<typeof folderSchema>[];
    try {
      const [found, folders] = await Promise.all([
        limit(() =>
          listAll<z.infer<typeof projectSchema>>(
            ctx,
            '/v3/projects',
            container,
            projectPageSchema,
            'projects',
            `listing the projects in ${container}`,
          ),
        ),
        limit(() =>
          listAll<z.infer<typeof folderSchema>>(
            ctx,
            '/v3/folders',
            container,
            folderPageSchema,
            'folders',
            `listing the folders in ${container}`,
          ),
        ),
      ]);
      // projects.list leaves out projects being deleted; the state is checked anyway.
      for (const p of found) if ((p.state ?? 'ACTIVE') === 'ACTIVE') discovered.push(p.projectId);
      children = folders.filter((f) => (f.state ?? 'ACTIVE') === 'ACTIVE');
    } catch (err) {
      const failure = googleFailure(err, {
        what: `listing the projects and folders in ${container}`,
        fix: 'scan again',
      });
      if (isFatal(failure)) throw failure;
      failures.push({ provider: 'google', account: container, reason: failure.message });
      return;
    }
    ctx.progress?.(`Google Cloud: ${container}: ${discovered.length} projects found so far`);
    await Promise.all(children.map((f) => walk(f.name)));
  };

  const roots = [
    ...(cloud.organization ? [containerName('organizations', cloud.organization)] : []),
    ...cloud.folders.map((f) => containerName('folders', f)),
  ];
  await Promise.all(roots.map(walk));
  for (const p of discovered.sort()) projects.add(p);
  return { projects: [...projects], failures };
}
