/** The `aws.organization` block of dormant.yml (DESIGN §8), apart so config.ts stays one screenful per section. */
import { z } from 'zod';
import { secretSource } from './secret-source.js';

/** `aws.organization` (DESIGN §8): every account of the AWS Organization, through a role in each. */
// An OU id (ou-…) or root id (r-…) must be well formed; anything else is an account id or a name glob.
const ORG_SELECTOR = /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32}|(?!ou-|r-)\S.*)$/;
export const AWS_ORGANIZATION_DEFAULTS = {
  enabled: false,
  roleName: 'OrganizationAccountAccessRole',
  externalId: null,
  include: [] as string[],
  exclude: [] as string[],
  concurrency: 8,
  jobTimeoutSeconds: 900,
  retryLimit: 2,
};
export const awsOrganizationSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** The role dormant assumes in each member account (not the management account: the caller's own credentials there). */
    roleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (letters, digits and +=,.@_-, at most 64)')
      .default('OrganizationAccountAccessRole'),
    /** The role's sts:ExternalId, from an environment variable or a file, never the YAML. */
    externalId: secretSource.nullable().default(null),
    /** Account ids, account-name globs and OU ids (ou-…; an OU takes every account under it). Empty: every account. */
    include: z
      .array(
        z.string().regex(ORG_SELECTOR, 'must be an account id, an account-name glob or an OU id (ou-xxxx-xxxxxxxx)'),
      )
      .default([]),
    /** As include; exclude wins over include. */
    exclude: z
      .array(
        z.string().regex(ORG_SELECTOR, 'must be an account id, an account-name glob or an OU id (ou-xxxx-xxxxxxxx)'),
      )
      .default([]),
    /** Accounts scanned at once by one process. */
    concurrency: z.number().int().min(1).max(64).default(8),
    /** With workers: a job whose worker went silent this long is retried by another worker. */
    jobTimeoutSeconds: z.number().int().min(2).max(86_400).default(900),
    /** With workers: retries of an account's job after its worker died or failed. */
    retryLimit: z.number().int().min(0).max(10).default(2),
  })
  .default(AWS_ORGANIZATION_DEFAULTS);
