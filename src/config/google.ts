/**
 * The `google:` section of dormant.yml (DESIGN §2d): Workspace users through the Admin SDK,
 * Google Cloud service accounts and keys through IAM and Policy Analyzer.
 */
import { z } from 'zod';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An https URL, or http on the loopback host (tests, a local fake): a token must not cross the network in clear. */
function rootUrl(key: string) {
  return z
    .url()
    .refine((u) => {
      try {
        const url = new URL(u);
        return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
      } catch {
        return false;
      }
    }, `google.rootUrls.${key} must be an https URL (plain http only for localhost or 127.0.0.1): the bearer token would travel unencrypted`)
    .nullable()
    .default(null);
}

const ROOT_DEFAULTS = { directory: null, iam: null, policyAnalyzer: null, resourceManager: null, token: null };

export const GOOGLE_DEFAULTS = {
  enabled: false,
  credentialsFile: null,
  subject: null,
  customer: 'my_customer',
  workspace: { enabled: true, exemptUsers: [], exemptOrgUnits: [] },
  cloud: { enabled: true, projects: [], organization: null, folders: [], concurrency: 8 },
  rootUrls: ROOT_DEFAULTS,
  loginEvidenceDepth: 10,
  maxAttempts: 6,
};

export const googleSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** A service account key JSON file; null: Application Default Credentials. */
    credentialsFile: z.string().min(1).nullable().default(null),
    /** The Workspace admin that domain-wide delegation acts as (needed for Workspace with a key file). */
    subject: z.email('google.subject must be the email address of a Workspace admin').nullable().default(null),
    /** The Workspace customer: `my_customer` (the subject's own) or a customer id such as C01abc23d. */
    customer: z.string().min(1).default('my_customer'),
    workspace: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Globs on primary email, alias or user id. */
        exemptUsers: z.array(z.string().min(1)).default([]),
        /** Org unit paths; a user in one of them or below it is exempt (`/Service accounts`). */
        exemptOrgUnits: z.array(z.string().startsWith('/', 'org unit paths start with /')).default([]),
      })
      .default(GOOGLE_DEFAULTS.workspace),
    cloud: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Project ids to scan. */
        projects: z.array(z.string().min(1)).default([]),
        /** An organization id (digits, or organizations/N): every ACTIVE project under it. */
        organization: z
          .string()
          .regex(/^(organizations\/)?\d+$/, 'google.cloud.organization is an organization id such as 123456789012')
          .nullable()
          .default(null),
        /** Folder ids (digits, or folders/N): every ACTIVE project under each, at any depth. */
        folders: z
          .array(z.string().regex(/^(folders\/)?\d+$/, 'google.cloud.folders holds folder ids such as 345678901234'))
          .default([]),
        /** Projects read at once. */
        concurrency: z.number().int().min(1).max(64).default(8),
      })
      .default(GOOGLE_DEFAULTS.cloud),
    /** Base URLs of the APIs and the token endpoint (tests, private endpoints); null: Google's own. */
    rootUrls: z
      .strictObject({
        directory: rootUrl('directory'),
        iam: rootUrl('iam'),
        policyAnalyzer: rootUrl('policyAnalyzer'),
        resourceManager: rootUrl('resourceManager'),
        token: rootUrl('token'),
      })
      .default(ROOT_DEFAULTS),
    /** Login events kept as evidence per plan item (Reports API). */
    loginEvidenceDepth: z.number().int().min(1).max(100).default(10),
    /** Attempts per call on 403 rateLimitExceeded, 429 and 5xx, with exponential backoff; then exit 3. */
    maxAttempts: z.number().int().min(1).max(20).default(6),
  })
  .default(GOOGLE_DEFAULTS);

export type GoogleConfig = z.infer<typeof googleSchema>;
