// Covers dormant.yml validation: parseConfig defaults and error messages, and loadConfig on real files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { loadConfig, parseConfig } from './config.js';

function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const usage = err as UsageError;
    expect(usage.exitCode).toBe(2);
    expect(usage.message).not.toContain('\n');
    return usage;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

const dir = mkdtempSync(join(tmpdir(), 'dormant-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('parseConfig defaults', () => {
  it('fills every documented default from an empty object', () => {
    expect(parseConfig({})).toEqual({
      inactiveDays: 90,
      rules: {},
      exempt: { tag: 'dormant:exempt', users: [] },
      remediation: {
        disableUser: ['deactivate-keys', 'remove-password'],
        quarantinePolicyArn: null,
        deleteAfterDays: 30,
        maxActionsPerRun: 50,
        maxActionsPercent: 10,
        concurrency: 4,
      },
      store: { url: 'sqlite:.dormant/state.db' },
      entra: {
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
      },
      google: {
        enabled: false,
        credentialsFile: null,
        subject: null,
        customer: 'my_customer',
        workspace: { enabled: true, exemptUsers: [], exemptOrgUnits: [] },
        cloud: { enabled: true, projects: [], organization: null, folders: [], concurrency: 8 },
        rootUrls: { directory: null, iam: null, policyAnalyzer: null, resourceManager: null, token: null },
        loginEvidenceDepth: 10,
        maxAttempts: 6,
      },
      aws: {
        profile: null,
        region: 'us-east-1',
        endpointUrl: null,
        source: 'auto',
        maxReportAgeHours: 4,
        reportTimeoutSeconds: 120,
        concurrency: 8,
        maxAttempts: 5,
        retryMode: 'standard',
        organization: {
          enabled: false,
          roleName: 'OrganizationAccountAccessRole',
          externalId: null,
          include: [],
          exclude: [],
          concurrency: 8,
          jobTimeoutSeconds: 900,
          retryLimit: 2,
        },
      },
      review: { autoApprove: [], expireAfterHours: 72 },
      evidence: {
        cloudtrail: { enabled: true, regions: [], depth: 20, maxRequestsPerSecond: 2, endpointUrl: null },
        accessAdvisor: { enabled: true, timeoutSeconds: 60 },
      },
      slack: {
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
      },
      jira: {
        enabled: false,
        baseUrl: null,
        email: null,
        apiToken: { env: 'JIRA_API_TOKEN', file: null },
        project: null,
        issueType: 'Task',
        ticketPer: 'plan',
        transitions: { approved: null, done: null, denied: null },
      },
      serve: {
        port: 8080,
        host: '127.0.0.1',
        schedule: '0 8 * * 1-5',
        applySchedule: '*/15 * * * *',
        allowPartial: false,
      },
      web: {
        enabled: false,
        baseUrl: null,
        oidc: {
          issuer: null,
          clientId: null,
          clientSecret: { env: 'DORMANT_OIDC_CLIENT_SECRET' },
          scopes: ['openid', 'email', 'profile'],
          groupsClaim: 'groups',
        },
        approvers: [],
        viewers: [],
        sessionSecret: { env: 'DORMANT_SESSION_SECRET' },
      },
    });
  });

  it('refuses a secret written in the file, naming the key and how to pass it instead', () => {
    expect(() => parseConfig({ slack: { botToken: 'xoxb-not-here' } }, 'dormant.yml')).toThrow(
      'dormant.yml: slack.botToken: secrets are never read from the config file; name an environment variable ({ env: NAME }) or a file ({ file: PATH })',
    );
  });

  it('treats null and undefined (an empty YAML file) as the defaults', () => {
    expect(parseConfig(null)).toEqual(parseConfig({}));
    expect(parseConfig(undefined)).toEqual(parseConfig({}));
  });

  it('fills defaults inside a partly given section', () => {
    const config = parseConfig({
      exempt: { users: ['breakglass-*'] },
      rules: { 'unused-access-key': { days: 30 }, 'unrotated-access-key': { enabled: false } },
      remediation: { deleteAfterDays: null },
    });
    expect(config.exempt).toEqual({ tag: 'dormant:exempt', users: ['breakglass-*'] });
    expect(config.rules).toEqual({
      'unused-access-key': { enabled: true, days: 30 },
      'unrotated-access-key': { enabled: false },
    });
    expect(config.remediation.deleteAfterDays).toBeNull();
    expect(config.remediation.maxActionsPerRun).toBe(50);
  });

  it('accepts every rule name as a rules key', () => {
    const names = ['inactive-user', 'unused-access-key', 'unused-user', 'unused-password', 'unrotated-access-key'];
    const config = parseConfig({ rules: Object.fromEntries(names.map((n) => [n, { days: 45 }])) });
    expect(Object.keys(config.rules).sort()).toEqual([...names].sort());
  });
});

describe('parseConfig errors name the key', () => {
  it.each([
    {
      raw: { inactiveDay: 90 },
      message: 'dormant.yml: unknown key \'inactiveDay\'; remove it or check the spelling (see README "Configuration")',
    },
    {
      raw: { rules: { 'unused-acces-key': { days: 30 } } },
      message:
        'dormant.yml: unknown key \'rules.unused-acces-key\'; remove it or check the spelling (see README "Configuration")',
    },
    {
      raw: { rules: { 'unused-access-key': { dayz: 30 } } },
      message:
        'dormant.yml: unknown key \'rules.unused-access-key.dayz\'; remove it or check the spelling (see README "Configuration")',
    },
    {
      raw: { exempt: { user: ['x'] } },
      message: 'dormant.yml: unknown key \'exempt.user\'; remove it or check the spelling (see README "Configuration")',
    },
    {
      raw: { aws: { endpoint: 'http://localhost:5000' } },
      message:
        'dormant.yml: unknown key \'aws.endpoint\'; remove it or check the spelling (see README "Configuration")',
    },
  ])('unknown key: $message', ({ raw, message }) => {
    expect(errorOf(() => parseConfig(raw, 'dormant.yml')).message).toBe(message);
  });

  it.each([
    { raw: { inactiveDays: 'ninety' }, path: 'inactiveDays' },
    { raw: { inactiveDays: 0 }, path: 'inactiveDays' },
    { raw: { inactiveDays: 90.5 }, path: 'inactiveDays' },
    { raw: { rules: { 'unused-access-key': { days: -1 } } }, path: 'rules.unused-access-key.days' },
    { raw: { rules: { 'inactive-user': { enabled: 'no' } } }, path: 'rules.inactive-user.enabled' },
    { raw: { exempt: { users: 'breakglass-*' } }, path: 'exempt.users' },
    { raw: { exempt: { users: [''] } }, path: 'exempt.users.0' },
    { raw: { remediation: { disableUser: ['delete-everything'] } }, path: 'remediation.disableUser.0' },
    { raw: { remediation: { maxActionsPercent: 150 } }, path: 'remediation.maxActionsPercent' },
    { raw: { remediation: { quarantinePolicyArn: 'DenyAll' } }, path: 'remediation.quarantinePolicyArn' },
    { raw: { aws: { endpointUrl: 'not a url' } }, path: 'aws.endpointUrl' },
    { raw: { aws: { source: 'cloudtrail' } }, path: 'aws.source' },
  ])('wrong value at $path', ({ raw, path }) => {
    expect(errorOf(() => parseConfig(raw, 'dormant.yml')).message).toMatch(
      new RegExp(`^dormant\\.yml: ${path.replace(/\./g, '\\.')}: `),
    );
  });

  it('says what is wrong with inactiveDays: "ninety"', () => {
    expect(errorOf(() => parseConfig({ inactiveDays: 'ninety' }, 'dormant.yml')).message).toBe(
      'dormant.yml: inactiveDays: Invalid input: expected number, received string',
    );
  });
});

describe('loadConfig', () => {
  it('loads a valid file', () => {
    const path = file('ok.yml', 'inactiveDays: 60\nexempt:\n  users: ["breakglass-*"]\n');
    const { config, path: loaded } = loadConfig(path);
    expect(loaded).toBe(path);
    expect(config.inactiveDays).toBe(60);
    expect(config.exempt.users).toEqual(['breakglass-*']);
  });

  it('loads an empty file as the defaults', () => {
    expect(loadConfig(file('empty.yml', '# nothing yet\n')).config).toEqual(parseConfig({}));
  });

  it('names the file and key of a wrong type', () => {
    const path = file('wrong-type.yml', 'inactiveDays: ninety\n');
    expect(errorOf(() => loadConfig(path)).message).toBe(
      `${path}: inactiveDays: Invalid input: expected number, received string`,
    );
  });

  it('names the file and the nested unknown key', () => {
    const path = file('unknown.yml', 'rules:\n  unused-access-key:\n    window: 30\n');
    expect(errorOf(() => loadConfig(path)).message).toBe(
      `${path}: unknown key 'rules.unused-access-key.window'; remove it or check the spelling (see README "Configuration")`,
    );
  });

  it('rejects a top level that is not a mapping', () => {
    const path = file('list.yml', '- inactiveDays: 90\n');
    expect(errorOf(() => loadConfig(path)).message).toBe(
      `${path}: expected a mapping of settings at the top level (see README "Configuration")`,
    );
  });

  it.each([
    { name: 'duplicate key', text: 'inactiveDays: 90\ninactiveDays: 30\n', at: 'line 2, column 1' },
    {
      name: 'unclosed flow sequence',
      text: 'inactiveDays: 90\nexempt:\n  users: ["breakglass-*"\nstore: {}\n',
      at: null,
    },
    { name: 'bad indentation', text: 'inactiveDays: 90\n  exempt: x\n', at: null },
  ])('gives the line and column of broken YAML ($name)', ({ name, text, at }) => {
    const path = file(`broken-${name.replace(/ /g, '-')}.yml`, text);
    const message = errorOf(() => loadConfig(path)).message;
    const position = at === null ? 'line \\d+, column \\d+' : at;
    expect(message).toMatch(new RegExp(`^${path.replace(/[.\\/]/g, '\\$&')}: invalid YAML at ${position}: `));
    expect(message).toMatch(/; fix the syntax and retry$/);
  });

  it('names an explicit --config file that does not exist, and the fix', () => {
    const path = join(dir, 'missing.yml');
    expect(errorOf(() => loadConfig(path)).message).toBe(
      `config file ${path} not found; pass an existing file to --config or create dormant.yml`,
    );
  });
});

describe('rules by name and by id', () => {
  it("applies a name to every provider's rule of that name, and an id to one rule, the id winning", async () => {
    const { ruleDays } = await import('../engine/evaluate.js');
    const { RULES } = await import('../rules/index.js');
    const config = parseConfig({ rules: { 'inactive-user': { days: 60 }, 'DORMANT-ENTRA-001': { days: 30 } } });
    const days = Object.fromEntries(
      RULES.filter((r) => r.name === 'inactive-user').map((r) => [r.id, ruleDays(r, config)]),
    );
    expect(days).toEqual({ 'DORMANT-AWS-001': 60, 'DORMANT-ENTRA-001': 30, 'DORMANT-GWS-001': 60 });
  });

  it('checks the google section: an https root URL, an org unit path, an organization id', () => {
    expect(() => parseConfig({ google: { rootUrls: { iam: 'http://iam.example.com' } } })).toThrow(
      /google\.rootUrls\.iam must be an https URL/,
    );
    expect(parseConfig({ google: { rootUrls: { iam: 'http://127.0.0.1:9000' } } }).google.rootUrls.iam).toBe(
      'http://127.0.0.1:9000',
    );
    expect(() => parseConfig({ google: { workspace: { exemptOrgUnits: ['Service accounts'] } } })).toThrow(
      /org unit paths start with \//,
    );
    expect(() => parseConfig({ google: { cloud: { organization: 'acme' } } })).toThrow(
      /google\.cloud\.organization is an organization id/,
    );
    expect(() => parseConfig({ google: { subject: 'admin' } })).toThrow(/google\.subject must be the email/);
    expect(() => parseConfig({ google: { credentialFile: 'k.json' } })).toThrow(/unknown key 'google\.credentialFile'/);
  });
});
