// A real OIDC provider for the dashboard tests: the `oidc-provider` package on a free local
// port (http on 127.0.0.1, which web.oidc.issuer allows for localhost only), with one
// confidential client, its development login form (any password; the login is the account),
// consent granted for the client (a first-party app), and accounts with email and groups.
// `down(true)` makes it answer 503 to everything; `stop()` closes it (connection refused).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider, { type OidcContext } from 'oidc-provider';
import { listenLocal } from './http.js';

export interface TestAccount {
  email: string;
  groups?: string[];
  /** false: the provider says the address is not verified. Default true. */
  /** Default true; null: the provider sends no email_verified claim at all. */
  emailVerified?: boolean | null;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Requests the provider has seen, by path (`/token`, `/me`, …). */
  requests: string[];
  /** true: every request answers 503 (the provider is up but failing). */
  down(failing: boolean): void;
  stop(): Promise<void>;
}

export async function startOidcProvider(o: {
  accounts: Record<string, TestAccount>;
  /** The dashboard's callback URLs (`ORIGIN/auth/callback`). */
  redirectUris: string[];
}): Promise<TestOidcProvider> {
  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  let failing = false;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(new URL(req.url ?? '/', 'http://x').pathname);
    if (failing) return res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
    handler(req, res);
  });
  const local = await listenLocal(server);
  const clientId = 'dormant-dashboard';
  const clientSecret = randomBytes(24).toString('hex');
  const provider = new Provider(local.url, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: o.redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    async findAccount(_ctx: unknown, id: string) {
      const account = o.accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          name: id,
          email: account.email,
          ...(account.emailVerified === null ? {} : { email_verified: account.emailVerified ?? true }),
          groups: account.groups ?? [],
        }),
      };
    },
    // A first-party client: the grant is given without a consent screen.
    async loadExistingGrant(ctx: OidcContext) {
      const { client, session, result } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const existing = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid email profile');
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
      await grant.save();
      return grant;
    },
  });
  // The provider's own error events (a refused token request) are expected in these tests.
  provider.on('server_error', () => undefined);
  handler = provider.callback();
  return {
    issuer: local.url,
    clientId,
    clientSecret,
    requests,
    down: (f) => (failing = f),
    stop: () => local.stop(),
  };
}
