/**
 * `dormant.yml`: the schema with its documented defaults, and the loader. Validated once,
 * here at the edge; an error names the key and what is wrong with it.
 */
import { readFileSync, existsSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { secretSource } from './secret-source.js';
import { AWS_ORGANIZATION_DEFAULTS, awsOrganizationSchema } from './aws-organization.js';
import { googleSchema } from './google.js';
import { UsageError } from '../errors.js';
import { RULES } from '../rules/index.js';

const days = z.number().int().min(1).max(3650);

const ruleSettings = z.strictObject({
  /** Turn the rule off. Default: on. */
  enabled: z.boolean().default(true),
  /** Override the window (or, for unrotated-access-key, the rotation period) for this rule. */
  days: days.optional(),
});

/** `rules.<name>` sets every provider's rule of that name; `rules.<id>` one rule (and wins). */
const rulesShape = Object.fromEntries(
  RULES.flatMap((r) => [r.name, r.id]).map((key) => [key, ruleSettings.optional()]),
) as Record<string, z.ZodOptional<typeof ruleSettings>>;

/**
 * A secret is never written in the YAML: it names an environment variable or a file
 * (`tokenEnv: SLACK_BOT_TOKEN` or `tokenFile: /run/secrets/slack`).
 */
const secretRef = (defaultEnv: string) =>
  z
    .strictObject({ env: z.string().min(1).default(defaultEnv), file: z.string().min(1).nullable().default(null) })
    .default({ env: defaultEnv, file: null });

const actionName = z.enum(['disable-user', 'delete-user', 'deactivate-key', 'delete-key', 'remove-password', 'notify']);

export const workflowSchema = z.strictObject({
  review: z
    .strictObject({
      /** Actions approved without a human. Default: none — human approval is mandatory. */
      autoApprove: z.array(actionName).default([]),
      /** Requests nobody answered within this many hours count as denied, and are asked again next cycle. */
      expireAfterHours: z.number().min(1).default(72),
    })
    .default({ autoApprove: [], expireAfterHours: 72 }),
  evidence: z
    .strictObject({
      cloudtrail: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Looked up besides us-east-1, where IAM and console sign-in events are recorded. */
          regions: z.array(z.string().min(1)).default([]),
          /** How many of the user's latest events to keep. */
          depth: z.number().int().min(1).max(500).default(20),
          /** LookupEvents is limited to 2 requests per second per account and region. */
          maxRequestsPerSecond: z.number().min(0.1).max(2).default(2),
          endpointUrl: z.url().nullable().default(null),
        })
        .default({ enabled: true, regions: [], depth: 20, maxRequestsPerSecond: 2, endpointUrl: null }),
      accessAdvisor: z
        .strictObject({
          enabled: z.boolean().default(true),
          timeoutSeconds: z.number().int().min(1).default(60),
        })
        .default({ enabled: true, timeoutSeconds: 60 }),
    })
    .default({
      cloudtrail: { enabled: true, regions: [], depth: 20, maxRequestsPerSecond: 2, endpointUrl: null },
      accessAdvisor: { enabled: true, timeoutSeconds: 60 },
    }),
  slack: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Channel id (C…) for review requests. */
      channel: z.string().min(1).nullable().default(null),
      /** One message per item, or one per plan. */
      batch: z.enum(['item', 'plan']).default('item'),
      /** Slack user ids (U…) allowed to decide. Anyone else gets an ephemeral refusal. */
      approvers: z.array(z.string().min(1)).default([]),
      /** Receive clicks over HTTP (/slack/events) or Socket Mode. */
      mode: z.enum(['http', 'socket']).default('http'),
      botToken: secretRef('SLACK_BOT_TOKEN'),
      signingSecret: secretRef('SLACK_SIGNING_SECRET'),
      appToken: secretRef('SLACK_APP_TOKEN'),
      /** DM the owner (from the `owner` tag's email) before access is disabled. */
      notifyOwners: z.boolean().default(false),
      ownerTag: z.string().min(1).default('owner'),
      /** Override for tests and Slack Enterprise Grid proxies. */
      apiUrl: z.url().nullable().default(null),
    })
    .default({
      enabled: false,
      channel: null,
      batch: 'item',
      approvers: [],
      mode: 'http',
      botToken: { env: 'SLACK_BOT_TOKEN', file: null },
      signingSecret: { env: 'SLACK_SIGNING_SECRET', file: null },
      appToken: { env: 'SLACK_APP_TOKEN', file: null },
      notifyOwners: false,
      ownerTag: 'owner',
      apiUrl: null,
    }),
  jira: z
    .strictObject({
      enabled: z.boolean().default(false),
      baseUrl: z.url().nullable().default(null),
      email: z.string().min(1).nullable().default(null),
      apiToken: secretRef('JIRA_API_TOKEN'),
      project: z.string().min(1).nullable().default(null),
      issueType: z.string().min(1).default('Task'),
      /** One ticket per plan, or one per item. */
      ticketPer: z.enum(['plan', 'item']).default('plan'),
      /** Transition names to move the ticket through; null to leave it. */
      transitions: z
        .strictObject({
          approved: z.string().min(1).nullable().default(null),
          done: z.string().min(1).nullable().default(null),
          denied: z.string().min(1).nullable().default(null),
        })
        .default({ approved: null, done: null, denied: null }),
    })
    .default({
      enabled: false,
      baseUrl: null,
      email: null,
      apiToken: { env: 'JIRA_API_TOKEN', file: null },
      project: null,
      issueType: 'Task',
      ticketPer: 'plan',
      transitions: { approved: null, done: null, denied: null },
    }),
  serve: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(8080),
      host: z.string().min(1).default('127.0.0.1'),
      /** Cron for scan → plan → request review (croner syntax, UTC). */
      schedule: z.string().min(1).default('0 8 * * 1-5'),
      /** Cron for applying approved items and deletions that are now due. */
      applySchedule: z.string().min(1).default('*/15 * * * *'),
      /** Plan from a scan in which some accounts or projects could not be read (each failure logged). */
      allowPartial: z.boolean().default(false),
    })
    .default({
      port: 8080,
      host: '127.0.0.1',
      schedule: '0 8 * * 1-5',
      applySchedule: '*/15 * * * *',
      allowPartial: false,
    }),
});

const ENTRA_DEFAULTS = {
  enabled: false,
  tenantId: null,
  clientId: null,
  clientSecret: { env: 'AZURE_CLIENT_SECRET' },
  clientCertificate: null,
  authorityHost: 'https://login.microsoftonline.com',
  graphUrl: 'https://graph.microsoft.com',
  exemptUsers: [],
  exemptGroups: [],
  protectedRoles: ['Global Administrator', 'Privileged Role Administrator'],
  signInEvidenceDepth: 10,
  maxAttempts: 5,
};

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** An https URL, or http on the loopback host (tests, a local fake): a token must not cross the network in clear. */
function secureUrl(key: string) {
  return z.url().refine((u) => {
    try {
      const url = new URL(u);
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
    } catch {
      return false;
    }
  }, `${key} must be an https URL (plain http only for localhost or 127.0.0.1): the bearer token would travel unencrypted`);
}

const WEB_OIDC_DEFAULTS = {
  issuer: null,
  clientId: null,
  clientSecret: { env: 'DORMANT_OIDC_CLIENT_SECRET' },
  scopes: ['openid', 'email', 'profile'],
  groupsClaim: 'groups',
};

/** DESIGN §9: the dashboard `dormant serve` serves at /, behind OIDC sign-in. */
export const webSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** The dashboard's public URL (its root), for the OIDC redirect; https makes the cookies Secure. */
    baseUrl: z
      .url()
      .refine((u) => {
        const url = new URL(u);
        return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
      }, 'must be an https URL (plain http only for localhost or 127.0.0.1): the session cookie would travel unencrypted')
      .refine(
        (u) => new URL(u).pathname === '/' && !new URL(u).search && !new URL(u).hash,
        'must be the root of the site (the dashboard is served at /), e.g. https://dormant.example.com',
      )
      .nullable()
      .default(null),
    oidc: z
      .strictObject({
        /** The OIDC provider's issuer URL (its /.well-known/openid-configuration is read). */
        issuer: secureUrl('web.oidc.issuer').nullable().default(null),
        clientId: z.string().min(1).nullable().default(null),
        /** null: a public client (authorization code with PKCE, no secret). */
        clientSecret: secretSource.nullable().default({ env: 'DORMANT_OIDC_CLIENT_SECRET' }),
        scopes: z
          .array(z.string().min(1))
          .refine((s) => s.includes('openid'), 'must include openid')
          .default(['openid', 'email', 'profile']),
        /** The claim (ID token or userinfo) that lists the user's groups. */
        groupsClaim: z.string().min(1).default('groups'),
      })
      .default(WEB_OIDC_DEFAULTS),
    /** Emails or group names that may approve, deny, snooze and restore. */
    approvers: z.array(z.string().min(1)).default([]),
    /** Emails or group names that may look. Anyone in neither list is refused. */
    viewers: z.array(z.string().min(1)).default([]),
    /** Signs the session cookies: at least 32 characters, from an environment variable or a file. */
    sessionSecret: secretSource.default({ env: 'DORMANT_SESSION_SECRET' }),
  })
  .superRefine((web, ctx) => {
    if (!web.enabled) return;
    const missing: [string[], string][] = [
      [['baseUrl'], "the dashboard's public URL, e.g. https://dormant.example.com"],
      [['oidc', 'issuer'], "your OIDC provider's issuer URL"],
      [['oidc', 'clientId'], "the client id dormant's app has at your OIDC provider"],
    ];
    for (const [path, what] of missing) {
      const value = path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], web);
      if (value === null) {
        ctx.addIssue({ code: 'custom', path, message: `needed when web.enabled is true; set it to ${what}` });
        return;
      }
    }
    if (web.approvers.length === 0 && web.viewers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['approvers'],
        message:
          'web.enabled needs at least one approver or viewer; list emails or group names in web.approvers or web.viewers',
      });
    }
  })
  .default({
    enabled: false,
    baseUrl: null,
    oidc: WEB_OIDC_DEFAULTS,
    approvers: [],
    viewers: [],
    sessionSecret: { env: 'DORMANT_SESSION_SECRET' },
  });

/** DESIGN §2c: Microsoft Entra ID through Microsoft Graph v1.0. */
export const entraSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** The directory (tenant) id, a GUID, or a verified domain. */
    tenantId: z.string().min(1).nullable().default(null),
    /** The app registration's application (client) id. */
    clientId: z.string().min(1).nullable().default(null),
    /** The app's client secret; with clientCertificate set or neither usable, DefaultAzureCredential is used. */
    clientSecret: secretSource.nullable().default({ env: 'AZURE_CLIENT_SECRET' }),
    /** A PEM file with the certificate and its private key, instead of a secret. */
    clientCertificate: z
      .strictObject({ file: z.string().min(1) })
      .nullable()
      .default(null),
    /** https only (plain http allowed for localhost/127.0.0.1): the secret or assertion goes there. */
    authorityHost: secureUrl('entra.authorityHost').default('https://login.microsoftonline.com'),
    /** https only (plain http allowed for localhost/127.0.0.1): every call carries the bearer token. */
    graphUrl: secureUrl('entra.graphUrl').default('https://graph.microsoft.com'),
    /** Globs on userPrincipalName, mail or object id. */
    exemptUsers: z.array(z.string().min(1)).default([]),
    /** Group object ids whose members (transitively) are exempt: break-glass accounts live there. */
    exemptGroups: z.array(z.string().min(1)).default([]),
    /** Holders of these directory roles get findings, never actions. */
    protectedRoles: z.array(z.string().min(1)).default(['Global Administrator', 'Privileged Role Administrator']),
    /** Sign-ins kept as evidence per plan item. */
    signInEvidenceDepth: z.number().int().min(1).max(100).default(10),
    /** Attempts per Graph call on 429/503 (Retry-After honoured), then the scan fails with exit 3. */
    maxAttempts: z.number().int().min(1).max(20).default(5),
  })
  .default(ENTRA_DEFAULTS);

export const configSchema = z.strictObject({
  ...workflowSchema.shape,
  /** The inactivity window in days. Default 90. */
  inactiveDays: days.default(90),
  rules: z.strictObject(rulesShape).default({}),
  exempt: z
    .strictObject({
      /** Tag key whose value `true` exempts a user. */
      tag: z.string().min(1).max(128).default('dormant:exempt'),
      /** Glob patterns (`*`, `?`) matched against user name, path and ARN. */
      users: z.array(z.string().min(1)).default([]),
    })
    .default({ tag: 'dormant:exempt', users: [] }),
  remediation: z
    .strictObject({
      disableUser: z
        .array(z.enum(['deactivate-keys', 'remove-password', 'quarantine']))
        .default(['deactivate-keys', 'remove-password']),
      quarantinePolicyArn: z.string().startsWith('arn:').nullable().default(null),
      /** Days in the disabled state before delete-user. 0: same plan; null: never delete. */
      deleteAfterDays: z.number().int().min(0).nullable().default(30),
      maxActionsPerRun: z.number().int().min(1).default(50),
      maxActionsPercent: z.number().min(0).max(100).default(10),
      /** Items of different identities applied at once; one identity's items always run in order. */
      concurrency: z.number().int().min(1).max(32).default(4),
    })
    .default({
      disableUser: ['deactivate-keys', 'remove-password'],
      quarantinePolicyArn: null,
      deleteAfterDays: 30,
      maxActionsPerRun: 50,
      maxActionsPercent: 10,
      concurrency: 4,
    }),
  store: z
    .strictObject({
      url: z.string().min(1).default('sqlite:.dormant/state.db'),
    })
    .default({ url: 'sqlite:.dormant/state.db' }),
  entra: entraSchema,
  google: googleSchema,
  web: webSchema,
  aws: z
    .strictObject({
      profile: z.string().min(1).nullable().default(null),
      region: z.string().min(1).default('us-east-1'),
      endpointUrl: z.url().nullable().default(null),
      /** Where the inventory comes from: the credential report, falling back to the API (auto). */
      source: z.enum(['auto', 'report', 'api']).default('auto'),
      /** Regenerate the credential report when it is older than this. */
      maxReportAgeHours: z.number().min(0).default(4),
      /** How long to wait for a credential report to be generated. */
      reportTimeoutSeconds: z.number().int().min(1).default(120),
      /** Parallel IAM calls for the API source and enrichment. */
      concurrency: z.number().int().min(1).max(64).default(8),
      /** Attempts per call (the SDK's retry strategy, with backoff). */
      maxAttempts: z.number().int().min(1).max(20).default(5),
      retryMode: z.enum(['standard', 'adaptive']).default('standard'),
      organization: awsOrganizationSchema,
    })
    .default({
      profile: null,
      region: 'us-east-1',
      endpointUrl: null,
      source: 'auto',
      maxReportAgeHours: 4,
      reportTimeoutSeconds: 120,
      concurrency: 8,
      maxAttempts: 5,
      retryMode: 'standard',
      organization: AWS_ORGANIZATION_DEFAULTS,
    }),
});

export type Config = z.infer<typeof configSchema>;
export type WorkflowConfig = z.infer<typeof workflowSchema>;

export const DEFAULT_CONFIG_FILE = 'dormant.yml';

function describeIssue(file: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  const where = path ? `${file}: ${path}` : file;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    return `${file}: unknown key ${keys.map((k) => `'${k}'`).join(', ')}; remove it or check the spelling (see README "Configuration")`;
  }
  if (
    /\.(botToken|signingSecret|appToken|apiToken|clientSecret|sessionSecret)$/.test(`.${path}`) &&
    (issue.code === 'invalid_type' || issue.code === 'invalid_union')
  ) {
    return `${where}: secrets are never read from the config file; name an environment variable ({ env: NAME }) or a file ({ file: PATH })`;
  }
  return `${where}: ${issue.message}`;
}

/** Validate an already-parsed object (tests and the loader share this). */
export function parseConfig(raw: unknown, file = 'config'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const first = result.error.issues[0];
    throw new UsageError(first ? describeIssue(file, first) : `${file}: invalid configuration`);
  }
  return result.data;
}

/**
 * Load the config: an explicit `--config FILE` must exist; otherwise `./dormant.yml` is used
 * when present, and the defaults when not.
 */
export function loadConfig(explicitPath?: string): { config: Config; path: string | null } {
  const path = explicitPath ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : null);
  if (path === null) return { config: parseConfig({}), path: null };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `config file ${path} not found; pass an existing file to --config or create ${DEFAULT_CONFIG_FILE}`
        : `cannot read config file ${path} (${code ?? String(err)})`,
    );
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const what = e.message.split('\n')[0]!.replace(/[:\s]+$/, '');
    throw new UsageError(`${path}: invalid YAML${at}: ${what}; fix the syntax and retry`);
  }
  const raw: unknown = doc.toJS();
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new UsageError(`${path}: expected a mapping of settings at the top level (see README "Configuration")`);
  }
  return { config: parseConfig(raw, path), path };
}
