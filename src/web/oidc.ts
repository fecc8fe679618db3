/**
 * Sign-in through the team's OIDC provider with openid-client: authorization code with PKCE
 * (S256), state and nonce, the issuer's metadata discovered once (and again after a failure).
 * The user's email and groups come from the ID token and the userinfo endpoint. Tokens are used
 * here and dropped: nothing from the provider but the email and the groups that matter is kept.
 */
import * as client from 'openid-client';
import { z } from 'zod';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** null: a public client (PKCE only). */
  clientSecret: string | null;
  scopes: string[];
  /** The claim that lists the user's groups. */
  groupsClaim: string;
  /** `BASE_URL/auth/callback`, registered with the provider. */
  redirectUri: string;
  /** Per request to the provider. Default 10 seconds. */
  timeoutSeconds?: number;
}

/** The provider cannot be reached or answers with a server error: the page says so, nobody is signed in. */
export class SignInUnavailable extends Error {}
/** The sign-in did not complete (refused at the provider, a stale or forged callback, no email): start again. */
export class SignInRefused extends Error {}

export interface SignInStart {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

export interface SignedIn {
  email: string;
  groups: string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const OAUTH_ERRORS = new Set([
  'access_denied',
  'invalid_request',
  'unauthorized_client',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
  'invalid_grant',
  'invalid_client',
  'unsupported_grant_type',
]);

/** One line about a failure, from the error and its causes (never a token: these are library messages). */
export function describeFailure(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const x = e as { message?: string; code?: string; status?: number; error?: string };
    // An OAuth `error` arrives in the callback's query: anyone can write it; only the standard codes are repeated.
    const error = x.error === undefined ? '' : OAUTH_ERRORS.has(x.error) ? x.error : 'an error';
    const bit = [error, x.status ? `HTTP ${x.status}` : '', x.code && !x.code.startsWith('OAUTH_') ? x.code : '']
      .filter(Boolean)
      .join(' ');
    parts.push(bit || (x.message ?? String(e)).split('\n')[0]!);
    e = (e as { cause?: unknown }).cause;
    if (e instanceof Response) parts.push(`HTTP ${e.status}`);
    if (e instanceof URLSearchParams || (e && typeof e === 'object' && !(e instanceof Error))) break;
  }
  return [...new Set(parts.filter(Boolean))].join(': ').slice(0, 300);
}

/** Network failures, timeouts and 5xx answers: the provider is down, not the user's fault. */
function isUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const x = e as { name?: string; message?: string; code?: string; status?: number };
    if (x.name === 'AbortError' || x.name === 'TimeoutError') return true;
    if (x.name === 'TypeError' && /fetch failed/i.test(x.message ?? '')) return true;
    if (typeof x.code === 'string' && /^(ECONN|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|UND_ERR)/.test(x.code))
      return true;
    if (typeof x.status === 'number' && x.status >= 500) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const claimsSchema = z.looseObject({
  email: z.string().min(1).optional(),
  email_verified: z.union([z.boolean(), z.string()]).optional(),
});

function groupsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  return [];
}

export class OidcClient {
  private configuration: Promise<client.Configuration> | null = null;

  constructor(readonly settings: OidcSettings) {}

  private discover(): Promise<client.Configuration> {
    if (!this.configuration) {
      const s = this.settings;
      const issuer = new URL(s.issuer);
      // Plain http only to a provider on this machine (tests, a local IdP); the config allows nothing else.
      const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
      this.configuration = client
        .discovery(
          issuer,
          s.clientId,
          s.clientSecret ?? undefined,
          s.clientSecret ? client.ClientSecretBasic(s.clientSecret) : client.None(),
          { timeout: s.timeoutSeconds ?? 10, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) },
        )
        .catch((err: unknown) => {
          this.configuration = null;
          throw new SignInUnavailable(`cannot reach the sign-in provider ${s.issuer} (${describeFailure(err)})`, {
            cause: err,
          });
        });
    }
    return this.configuration;
  }

  /** Where to send the browser, with the secrets the callback is checked against. */
  async start(): Promise<SignInStart> {
    const config = await this.discover();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state, nonce, verifier };
  }

  /** Completes the sign-in from the callback's query string; throws SignInRefused or SignInUnavailable. */
  async finish(search: string, pending: { state: string; nonce: string; verifier: string }): Promise<SignedIn> {
    const config = await this.discover();
    const callback = new URL(this.settings.redirectUri);
    callback.search = search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new SignInRefused('the provider returned no ID token');
      claims = { ...idClaims };
      if (config.serverMetadata().userinfo_endpoint) {
        const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        // The email and whether it is verified come from one source: the ID token when it names an
        // email, else userinfo (never one's address with the other's verification).
        const emailFrom = idClaims.email !== undefined ? idClaims : info;
        claims = {
          ...info,
          ...idClaims,
          ...pick(info, [this.settings.groupsClaim]),
          email: emailFrom.email,
          email_verified: emailFrom.email_verified,
        };
      }
    } catch (err) {
      if (err instanceof SignInRefused) throw err;
      if (isUnavailable(err)) {
        throw new SignInUnavailable(`the sign-in provider ${this.settings.issuer} failed (${describeFailure(err)})`, {
          cause: err,
        });
      }
      throw new SignInRefused(`the sign-in could not be completed (${describeFailure(err)})`, { cause: err });
    }
    const parsed = claimsSchema.safeParse(claims);
    const email = parsed.success ? parsed.data.email : undefined;
    if (!email) {
      throw new SignInRefused(
        `the provider sent no email for this account; add the email scope to web.oidc.scopes or the claim at the provider`,
      );
    }
    const verified = parsed.success ? parsed.data.email_verified : undefined;
    // Approvers are matched by email: an address the provider does not vouch for could be anyone's
    // (the "nOAuth" mistake). Only email_verified true is accepted.
    if (verified !== true && verified !== 'true') {
      throw new SignInRefused(
        verified === undefined
          ? `the provider does not say that the email ${email} is verified (no email_verified claim); configure it to send email_verified`
          : `the provider says the email ${email} is not verified`,
      );
    }
    return { email, groups: groupsOf(claims[this.settings.groupsClaim]) };
  }
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
