// Part of the Entra ID / Microsoft Graph fake (see ../graphFake.ts): the Microsoft identity
// platform side. OIDC metadata, the v2.0 token endpoint's client-credentials grant (client
// secret, or a certificate-signed JWT client assertion checked like Entra does: signature with
// the registered certificate's key, aud/iss/sub/exp/nbf, the key's validity), errors in Entra's
// exact form, and the access tokens Graph calls must carry.
//
// Access tokens are JWTs signed HS256 with a per-fake key (real ones are RS256 from Entra's
// keys; clients must treat them as opaque anyway). Their lifetime is measured on the real clock,
// since MSAL caches them by the real clock, while the directory has its own (see GraphFake).
import { constants, createHmac, createVerify, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FakeTenant, RegisteredApp, RegisteredCertificate } from './directory.js';
import { isGraphResource } from './directory.js';
import { GRAPH_APP_ID, type EntraError } from './shapes.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The tenant's OIDC discovery document, in the shape login.microsoftonline.com serves. */
export function openIdConfiguration(origin: string, tenant: FakeTenant) {
  const tid = tenant.tenantId;
  const host = new URL(origin).host;
  return {
    token_endpoint: `${origin}/${tid}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${origin}/${tid}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${origin}/${tid}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${origin}/oidc/userinfo`,
    authorization_endpoint: `${origin}/${tid}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${origin}/${tid}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${origin}/${tid}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${origin}/${tid}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: host,
    cloud_graph_host_name: host,
    msgraph_host: host,
    rbac_url: `${origin}/rbac`,
  };
}

export const tenantNotFound = (name: string, error: 'invalid_tenant' | 'invalid_request'): EntraError => ({
  status: 400,
  error,
  code: 90002,
  description: `Tenant '${name}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
});

class TokenRefusal extends Error {
  constructor(readonly e: EntraError) {
    super(e.description);
  }
}

const refuse = (status: number, error: string, code: number, description: string): never => {
  throw new TokenRefusal({ status, error, code, description });
};

function b64urlJson(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function entraTime(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(/Z$/, '0000Z');
}

/** Verifies an RS256/PS256 JWT client assertion; returns the certificate that signed it. */
function verifyAssertion(assertion: string, app: RegisteredApp, tokenEndpoints: string[]): RegisteredCertificate {
  const parts = assertion.split('.');
  if (parts.length !== 3) refuse(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  const [h, p, s] = parts as [string, string, string];
  const header = b64urlJson(h);
  const payload = b64urlJson(p);
  if (!header || !payload) refuse(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  const alg = header!.alg;
  if (alg !== 'RS256' && alg !== 'PS256') {
    refuse(
      401,
      'invalid_client',
      5002738,
      `Invalid JWT token. '${String(alg)}' is not a supported signature algorithm.`,
    );
  }
  const x5t256 = typeof header!['x5t#S256'] === 'string' ? (header!['x5t#S256'] as string) : null;
  const x5t = typeof header!.x5t === 'string' ? (header!.x5t as string) : null;
  if (!x5t256 && !x5t) {
    refuse(
      401,
      'invalid_client',
      700027,
      "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '']",
    );
  }
  const thumb = x5t256
    ? Buffer.from(x5t256, 'base64url').toString('hex').toUpperCase()
    : Buffer.from(x5t!, 'base64url').toString('hex').toUpperCase();
  const cert = app.certificates.find((c) => (x5t256 ? c.thumbprintSha256 : c.thumbprintSha1) === thumb);
  const configured = app.certificates
    .map(
      (c, i) =>
        `Key${i}:Start=${c.startDateTime.toISOString()}, End=${c.endDateTime.toISOString()}, Thumbprint=${c.thumbprintSha1}`,
    )
    .join('; ');
  if (!cert) {
    refuse(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${thumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/${app.clientId}'. Configured keys: [${configured}]]`,
    );
  }
  const now = Date.now();
  if (now > cert!.endDateTime.getTime() || now < cert!.startDateTime.getTime()) {
    refuse(
      401,
      'invalid_client',
      700027,
      `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${cert!.thumbprintSha1}', Found key 'Start=${cert!.startDateTime.toISOString()}, End=${cert!.endDateTime.toISOString()}']`,
    );
  }
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const ok =
    alg === 'PS256'
      ? verifier.verify(
          {
            key: cert!.publicKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          },
          sig,
        )
      : verifier.verify(cert!.publicKey, sig);
  if (!ok) {
    refuse(
      401,
      'invalid_client',
      700027,
      `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${cert!.thumbprintSha1}', Found key 'Start=${cert!.startDateTime.toISOString()}, End=${cert!.endDateTime.toISOString()}']`,
    );
  }
  const aud = payload!.aud;
  if (typeof aud !== 'string' || !tokenEndpoints.some((t) => t.toLowerCase() === aud.toLowerCase())) {
    refuse(
      401,
      'invalid_client',
      700023,
      `Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    );
  }
  if (payload!.iss !== app.clientId || payload!.sub !== app.clientId) {
    refuse(
      401,
      'invalid_client',
      700021,
      `Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    );
  }
  const exp = payload!.exp;
  const nbf = payload!.nbf;
  const nowSec = Math.floor(now / 1000);
  if (typeof exp !== 'number' || exp < nowSec - 300 || (typeof nbf === 'number' && nbf > nowSec + 300)) {
    refuse(
      401,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${entraTime(nowSec)}, assertion valid from ${entraTime(typeof nbf === 'number' ? nbf : 0)}, expiry time of assertion ${entraTime(typeof exp === 'number' ? exp : 0)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    );
  }
  return cert!;
}

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  app_displayname: string;
  appid: string;
  appidacr: '0' | '1' | '2';
  idp: string;
  idtyp: 'app' | 'user';
  oid: string;
  roles: string[];
  /** Delegated (user) tokens only. */
  scp?: string;
  upn?: string;
  sub: string;
  tid: string;
  uti: string;
  ver: '1.0';
}

export class TokenService {
  private readonly key = randomBytes(32);

  constructor(private readonly lifetimeSeconds: number) {}

  /**
   * Handles POST /{tenant}/oauth2/v2.0/token. `form` is the parsed x-www-form-urlencoded body;
   * `origins` are the fake's own origins (each is a valid token endpoint host and resource).
   */
  token(
    tenant: FakeTenant,
    form: URLSearchParams,
    origins: string[],
    authorizationHeader: string | undefined,
  ):
    | { ok: true; body: Record<string, unknown>; app: RegisteredApp }
    | { ok: false; error: EntraError; clientId: string | null } {
    let clientId: string | null = null;
    try {
      const grant = form.get('grant_type');
      let secret = form.get('client_secret');
      clientId = form.get('client_id');
      if (authorizationHeader?.startsWith('Basic ')) {
        const [id, pw] = Buffer.from(authorizationHeader.slice(6), 'base64').toString('utf8').split(':');
        clientId ??= decodeURIComponent(id ?? '');
        secret ??= decodeURIComponent(pw ?? '');
      }
      if (!grant)
        refuse(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
      if (grant !== 'client_credentials') {
        refuse(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
      }
      if (!clientId)
        refuse(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
      const scope = form.get('scope');
      if (!scope)
        refuse(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.");
      const scopes = scope!.split(' ').filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
      if (scopes.length !== 1 || !scopes[0]!.endsWith('/.default')) {
        refuse(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${scope!} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        );
      }
      const resource = scopes[0]!.slice(0, -'/.default'.length);
      const app = tenant.apps.get(clientId!.toLowerCase());
      if (!app) {
        refuse(
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${clientId!}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        );
      }
      if (!isGraphResource(resource, origins)) {
        refuse(
          400,
          'invalid_resource',
          500011,
          `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        );
      }
      const assertion = form.get('client_assertion');
      const assertionType = form.get('client_assertion_type');
      let appidacr: '1' | '2';
      if (assertion !== null) {
        if (assertionType !== CLIENT_ASSERTION_TYPE) {
          refuse(
            400,
            'invalid_request',
            50027,
            `Invalid client_assertion_type '${String(assertionType)}'; expected '${CLIENT_ASSERTION_TYPE}'.`,
          );
        }
        const endpoints = origins.flatMap((o) =>
          tenant.domains.concat(tenant.tenantId).map((t) => `${o}/${t}/oauth2/v2.0/token`),
        );
        verifyAssertion(assertion, app!, endpoints);
        appidacr = '2';
      } else if (secret !== null) {
        if (app!.secret === null || !safeEqual(secret, app!.secret)) {
          refuse(
            401,
            'invalid_client',
            7000215,
            `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app!.clientId}'.`,
          );
        }
        if (app!.secretExpiresAt && app!.secretExpiresAt.getTime() <= Date.now()) {
          refuse(
            401,
            'invalid_client',
            7000222,
            `The provided client secret keys for app '${app!.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
          );
        }
        appidacr = '1';
      } else {
        refuse(
          401,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
      }
      const now = Math.floor(Date.now() / 1000);
      const claims: AccessTokenClaims = {
        aud: 'https://graph.microsoft.com',
        iss: `https://sts.windows.net/${tenant.tenantId}/`,
        iat: now,
        nbf: now,
        exp: now + this.lifetimeSeconds,
        app_displayname: app!.displayName,
        appid: app!.clientId,
        appidacr: appidacr!,
        idp: `https://sts.windows.net/${tenant.tenantId}/`,
        idtyp: 'app',
        oid: app!.servicePrincipalId,
        roles: [...app!.roles],
        sub: app!.servicePrincipalId,
        tid: tenant.tenantId,
        uti: randomBytes(16).toString('base64url'),
        ver: '1.0',
      };
      return {
        ok: true,
        app: app!,
        body: {
          token_type: 'Bearer',
          expires_in: this.lifetimeSeconds,
          ext_expires_in: this.lifetimeSeconds,
          access_token: this.sign(claims),
        },
      };
    } catch (err) {
      if (err instanceof TokenRefusal) return { ok: false, error: err.e, clientId };
      throw err;
    }
  }

  sign(claims: AccessTokenClaims): string {
    const h = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: 'dormant-graph-fake' })).toString(
      'base64url',
    );
    const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const s = createHmac('sha256', this.key).update(`${h}.${p}`).digest('base64url');
    return `${h}.${p}.${s}`;
  }

  /**
   * Checks a bearer token as Graph does. Returns the claims, or the 401 message Graph would give.
   */
  verify(token: string): { ok: true; claims: AccessTokenClaims } | { ok: false; message: string } {
    if (token.length === 0) return { ok: false, message: 'Access token is empty.' };
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, message: 'CompactToken parsing failed with error code: 80049217' };
    const [h, p, s] = parts as [string, string, string];
    const expected = createHmac('sha256', this.key).update(`${h}.${p}`).digest();
    const got = Buffer.from(s, 'base64url');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return { ok: false, message: 'Access token validation failure. Invalid signature.' };
    }
    const claims = b64urlJson(p) as AccessTokenClaims | null;
    if (!claims) return { ok: false, message: 'Access token validation failure.' };
    if (claims.aud !== 'https://graph.microsoft.com' && claims.aud !== GRAPH_APP_ID) {
      return { ok: false, message: 'Access token validation failure. Invalid audience.' };
    }
    if (claims.exp <= Math.floor(Date.now() / 1000)) {
      return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
    }
    return { ok: true, claims };
  }

  /**
   * A delegated token as a user signing in to the app would get (idtyp user, oid = the user,
   * upn, scp); Graph honours `roles` as for an app token (the fake does not model scopes).
   */
  mintUser(
    tenant: FakeTenant,
    app: RegisteredApp,
    user: { id: string; userPrincipalName: string },
    options: { roles?: string[]; scp?: string } = {},
  ): string {
    const now = Math.floor(Date.now() / 1000);
    return this.sign({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${tenant.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + this.lifetimeSeconds,
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '0',
      idp: `https://sts.windows.net/${tenant.tenantId}/`,
      idtyp: 'user',
      oid: user.id,
      roles: [...(options.roles ?? app.roles)],
      scp: options.scp ?? 'User.Read.All Directory.Read.All',
      upn: user.userPrincipalName,
      sub: randomBytes(16).toString('base64url'),
      tid: tenant.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    });
  }

  /** Mints a token directly (tests: e.g. an expired one, or one with chosen roles). */
  mint(tenant: FakeTenant, app: RegisteredApp, options: { roles?: string[]; expiresInSeconds?: number } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    return this.sign({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${tenant.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + (options.expiresInSeconds ?? this.lifetimeSeconds),
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '1',
      idp: `https://sts.windows.net/${tenant.tenantId}/`,
      idtyp: 'app',
      oid: app.servicePrincipalId,
      roles: [...(options.roles ?? app.roles)],
      sub: app.servicePrincipalId,
      tid: tenant.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    });
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
