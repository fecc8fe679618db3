/**
 * The dashboard `dormant serve` runs, from the `web` section of dormant.yml: its secrets read
 * from their environment variables or files (never from the YAML, never logged), OIDC
 * sign-in against web.oidc, and web.approvers / web.viewers.
 */
import type { Hono } from 'hono';
import type { Config } from '../config/config.js';
import { UsageError } from '../errors.js';
import { readSecret } from '../workflow/secrets.js';
import { OidcClient } from './oidc.js';
import { type WebAppOptions, type WebLog, createWebApp } from './web-app.js';
import type { PageDeps, WebEnv } from './web-types.js';

type SecretSource = { env: string } | { file: string };

function secret(source: SecretSource, what: string, key: string): string {
  return 'file' in source
    ? readSecret({ env: '', file: source.file }, what, key)
    : readSecret({ env: source.env, file: null }, what, key);
}

/** The session secret and the OIDC client secret, checked before the service starts. */
export function webSecrets(config: Config): { sessionSecret: string; clientSecret: string | null } {
  const sessionSecret = secret(config.web.sessionSecret, 'dashboard session secret', 'web.sessionSecret');
  if (sessionSecret.length < 32) {
    throw new UsageError(
      'the dashboard session secret must be at least 32 characters (web.sessionSecret); generate one with: openssl rand -hex 32',
    );
  }
  const source = config.web.oidc.clientSecret;
  const clientSecret = source ? secret(source, 'OIDC client secret', 'web.oidc.clientSecret') : null;
  return { sessionSecret, clientSecret };
}

/** The dashboard for `dormant serve` (config.web.enabled must be true; the schema checked its keys). */
export function webFromConfig(
  config: Config,
  deps: PageDeps,
  o: { log?: WebLog; overrides?: Partial<WebAppOptions> } = {},
): Hono<WebEnv> {
  const { web } = config;
  if (!web.enabled || !web.baseUrl || !web.oidc.issuer || !web.oidc.clientId) {
    throw new UsageError('web.enabled needs web.baseUrl, web.oidc.issuer and web.oidc.clientId');
  }
  const { sessionSecret, clientSecret } = webSecrets(config);
  const baseUrl = new URL(web.baseUrl).origin;
  const oidc = new OidcClient({
    issuer: web.oidc.issuer,
    clientId: web.oidc.clientId,
    clientSecret,
    scopes: web.oidc.scopes,
    groupsClaim: web.oidc.groupsClaim,
    redirectUri: `${baseUrl}/auth/callback`,
  });
  return createWebApp({
    deps,
    auth: { kind: 'oidc', oidc, approvers: web.approvers, viewers: web.viewers },
    sessionSecret,
    baseUrl,
    ...(o.log ? { log: o.log } : {}),
    ...o.overrides,
  });
}
