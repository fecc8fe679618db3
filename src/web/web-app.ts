/**
 * The dashboard as one Hono app: security headers, the session, CSRF and access checks that run
 * before every page, the /auth/* routes (OIDC sign-in for `dormant serve`, the one-time link for
 * `dormant ui`), the pages, and the error pages (404, 503 when the store is gone, 500).
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { authPage } from './auth-pages.js';
import { type AccessLists, type Role, relevantGroups, roleOf, webUser } from './access.js';
import { checkCsrf } from './csrf.js';
import { type OidcClient, SignInRefused, SignInUnavailable } from './oidc.js';
import type { OneTimeLink } from './one-time-link.js';
import { errorPage } from './pages/layout.js';
import { type RateLimitOptions, RateLimiter, clientAddress } from './rate-limit.js';
import { registerPages } from './routes.js';
import { securityHeaders } from './security-headers.js';
import { type Session, type SessionRead, Sessions, safeNext } from './session.js';
import type { PageDeps, WebEnv } from './web-types.js';

/** How people sign in: OIDC with access lists (serve), or the one-time link for one local user (ui). */
export type WebAuth =
  | ({ kind: 'oidc'; oidc: OidcClient } & AccessLists)
  | { kind: 'link'; link: OneTimeLink; /** Who the local user is recorded as (`web:NAME`). */ name: string };

export interface WebLog {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export interface WebAppOptions {
  deps: PageDeps;
  auth: WebAuth;
  /** Signs the cookies; at least 32 characters. */
  sessionSecret: string;
  /** The public URL (https: Secure cookies, HSTS); POSTs must come from its origin. null: the request's own origin (`dormant ui`). */
  baseUrl: string | null;
  /** How long a session lasts. Default 8 hours. */
  sessionTtlMs?: number;
  /** Appended to the cookie names (`dormant ui`: one per process, as cookies ignore ports). */
  cookieSuffix?: string;
  /** Sign-in attempts per client address. Default 10 a minute. */
  signInLimit?: RateLimitOptions;
  /** The sessions' and the limiter's clock (milliseconds); the pages use deps.now. Default Date.now. */
  clock?: () => number;
  log?: WebLog;
  /**
   * Host names the dashboard answers to (the Host header, without its port); others get a 421
   * page. `dormant ui` sets the loopback names: a web page that rebinds its own DNS name to
   * 127.0.0.1 then cannot reach it. Default: any.
   */
  hosts?: string[];
}

const SILENT: WebLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Form posts are small (item ids and a reason); anything bigger is refused before it is read. */
const MAX_BODY_BYTES = 256 * 1024;

export function createWebApp(o: WebAppOptions): Hono<WebEnv> {
  const log = o.log ?? SILENT;
  const https = o.baseUrl !== null && new URL(o.baseUrl).protocol === 'https:';
  const sessions = new Sessions({
    secret: o.sessionSecret,
    secure: https,
    ttlMs: o.sessionTtlMs ?? 8 * 3_600_000,
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.cookieSuffix ? { cookieSuffix: o.cookieSuffix } : {}),
  });
  const limiter = new RateLimiter({ ...(o.clock ? { clock: o.clock } : {}), ...o.signInLimit });
  const auth = o.auth;
  const originOf = (c: Context) => (o.baseUrl ? new URL(o.baseUrl).origin : new URL(c.req.url).origin);
  const roleFor = (s: Session): Role | null => (auth.kind === 'link' ? 'approver' : roleOf(s.email, s.groups, auth));

  const app = new Hono<WebEnv>();
  app.use('*', ...securityHeaders({ https }));
  if (o.hosts) {
    const hosts = new Set(o.hosts);
    app.use('*', async (c, next) => {
      const host = c.req.header('host') ?? '';
      const name = host.replace(/:\d+$/, '');
      if (hosts.has(name)) return next();
      log.warn(`web: refused a request for host ${host.slice(0, 100) || '(none)'}`);
      return errorPage(c, 421, 'Wrong address', `This dashboard answers only at ${[...hosts].join(' or ')}.`);
    });
  }
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        errorPage(c, 413, 'Request too large', 'That form sent more than the dashboard accepts; nothing was changed.'),
    }),
  );

  /** No usable session: a page asks to sign in; a POST is refused (nothing changes). */
  const notSignedIn = (c: Context, read: Exclude<SessionRead, { kind: 'ok' }>) => {
    if (read.kind !== 'none') sessions.clear(c);
    const expired = read.kind === 'expired';
    if (UNSAFE.has(c.req.method)) {
      log.warn(
        `web: refused ${c.req.method} ${c.req.path}: ${expired ? `the session of ${read.email} expired` : 'not signed in'}`,
      );
      return errorPage(
        c,
        403,
        expired ? 'Session expired' : 'Not signed in',
        `${expired ? 'Your session has expired' : 'You are not signed in'}, so nothing was changed: sign in again, then repeat what you did.`,
      );
    }
    if (auth.kind === 'oidc') {
      const url = new URL(c.req.url);
      return c.redirect(`/auth/login?next=${encodeURIComponent(safeNext(url.pathname + url.search))}`, 302);
    }
    return authPage(c, 401, {
      title: expired ? 'Session expired' : 'Sign in with your link',
      message: expired
        ? 'Your session has expired. Stop dormant ui (Ctrl-C) and start it again: it prints a new sign-in link.'
        : 'Open the sign-in link dormant ui printed in your terminal. It works once; start dormant ui again for a new one.',
    });
  };

  // Every page and every POST: who is signed in, whether they may be here, and (POST) CSRF and the right to decide.
  app.use('*', async (c, next) => {
    const path = c.req.path;
    if (path.startsWith('/assets/') || path.startsWith('/auth/')) return next();
    const read = await sessions.read(c);
    if (read.kind !== 'ok') return notSignedIn(c, read);
    const { session } = read;
    const role = roleFor(session);
    if (!role) {
      sessions.end(c, session);
      return notAllowed(c, session.email);
    }
    const user = webUser(session.email, session.groups, role, session.csrf);
    c.set('user', user);
    if (UNSAFE.has(c.req.method)) {
      const csrf = await checkCsrf(c, session.csrf, originOf(c));
      if (!csrf.ok) {
        log.warn(`web: refused ${c.req.method} ${path} by ${user.email}: ${csrf.why}`);
        return errorPage(
          c,
          403,
          'Request refused',
          'This form did not carry the page’s security token (it may be old, or come from another site), so nothing was changed: reload the page and try again.',
        );
      }
      if (!user.canDecide) {
        log.warn(`web: refused ${c.req.method} ${path} by ${user.email}: a viewer, not an approver`);
        return errorPage(
          c,
          403,
          'Viewers cannot decide',
          `You (${user.email}) may look at the dashboard but not decide, so nothing was changed; ask to be added to web.approvers.`,
        );
      }
    }
    return next();
  });

  const notAllowed = (c: Context, email: string) => {
    log.warn(`web: refused ${email}: neither in web.approvers nor in web.viewers`);
    return errorPage(
      c,
      403,
      'Not allowed',
      `You signed in as ${email}, who is not allowed to use this dashboard: ask its administrator to add you (or one of your groups) to web.approvers or web.viewers.`,
    );
  };

  /** Counts a sign-in attempt; over the limit, the page to answer with. */
  const overLimit = (c: Context) => {
    const take = limiter.take(clientAddress(c));
    if (take.ok) return null;
    log.warn(`web: too many sign-in attempts from ${clientAddress(c)}`);
    c.header('retry-after', String(take.retryAfterSeconds));
    return errorPage(
      c,
      429,
      'Too many sign-in attempts',
      `Too many sign-in attempts from your address; wait ${take.retryAfterSeconds} seconds and try again.`,
    );
  };

  const unavailable = (c: Context, err: SignInUnavailable) => {
    log.error(`web: sign-in unavailable: ${err.message}`);
    const host = auth.kind === 'oidc' ? new URL(auth.oidc.settings.issuer).host : 'the provider';
    return errorPage(
      c,
      503,
      'Sign-in unavailable',
      `The sign-in provider (${host}) cannot be reached or failed, so nobody can sign in right now; try again in a minute. If it persists, check that it is up and that web.oidc.issuer is right.`,
    );
  };

  // Starting a sign-in holds no secret and is not limited: every expired tab of an office behind
  // one address comes here. What is limited is finishing one (the callback, the one-time link).
  app.get('/auth/login', async (c) => {
    if (auth.kind !== 'oidc') return notSignedIn(c, { kind: 'none' });
    try {
      const start = await auth.oidc.start();
      await sessions.setPending(c, {
        state: start.state,
        nonce: start.nonce,
        verifier: start.verifier,
        next: safeNext(c.req.query('next')),
      });
      return c.redirect(start.url, 302);
    } catch (err) {
      if (err instanceof SignInUnavailable) return unavailable(c, err);
      throw err;
    }
  });

  app.get('/auth/callback', async (c) => {
    if (auth.kind !== 'oidc') return notSignedIn(c, { kind: 'none' });
    const limited = overLimit(c);
    if (limited) return limited;
    const pending = await sessions.takePending(c);
    if (!pending) {
      return authPage(c, 400, {
        title: 'Sign-in expired',
        message: 'This sign-in took too long, or was started in another browser; start it again.',
        action: { href: '/auth/login', label: 'Sign in' },
      });
    }
    let who;
    try {
      who = await auth.oidc.finish(new URL(c.req.url).search, pending);
    } catch (err) {
      if (err instanceof SignInUnavailable) return unavailable(c, err);
      if (!(err instanceof SignInRefused)) throw err;
      log.warn(`web: sign-in failed: ${err.message}`);
      return authPage(c, 400, {
        title: 'Sign-in failed',
        message: `Sign-in failed: ${err.message}. Try again.`,
        action: { href: '/auth/login', label: 'Sign in again' },
      });
    }
    const role = roleOf(who.email, who.groups, auth);
    if (!role) return notAllowed(c, who.email);
    await sessions.start(c, { email: who.email, groups: relevantGroups(who.groups, auth) });
    log.info(`web: ${who.email} signed in (${role})`);
    return c.redirect(pending.next, 302);
  });

  app.get('/auth/link', async (c) => {
    if (auth.kind !== 'link')
      return errorPage(c, 404, 'Not found', 'This dashboard signs you in through your OIDC provider.');
    const limited = overLimit(c);
    if (limited) return limited;
    const use = auth.link.use(c.req.query('token'));
    if (use === 'ok') {
      await sessions.start(c, { email: auth.name, groups: [] });
      log.info(`web: ${auth.name} signed in with the one-time link`);
      return c.redirect('/', 302);
    }
    log.warn(`web: ${use === 'used' ? 'the one-time link was used again' : 'a wrong sign-in link was tried'}`);
    if (use === 'used') {
      return authPage(c, 410, {
        title: 'This link was already used',
        message:
          'The sign-in link works once, and it has been used. If that was not you, stop dormant ui now (Ctrl-C). Start dormant ui again for a new link.',
      });
    }
    return authPage(c, 403, {
      title: 'This link is not valid',
      message: 'Open the sign-in link exactly as dormant ui printed it in your terminal.',
    });
  });

  app.post('/auth/logout', async (c) => {
    const read = await sessions.read(c);
    if (read.kind === 'ok') {
      const csrf = await checkCsrf(c, read.session.csrf, originOf(c));
      if (!csrf.ok) {
        log.warn(`web: refused a sign-out of ${read.session.email}: ${csrf.why}`);
        return errorPage(
          c,
          403,
          'Request refused',
          'This sign-out did not carry the page’s security token; reload the page and use its Sign out button.',
        );
      }
      sessions.end(c, read.session);
      log.info(`web: ${read.session.email} signed out`);
    } else {
      sessions.clear(c);
    }
    return c.redirect('/auth/signed-out', 303);
  });

  app.get('/auth/signed-out', (c) =>
    auth.kind === 'oidc'
      ? authPage(c, 200, {
          title: 'Signed out',
          message: 'You are signed out of the dashboard.',
          action: { href: '/auth/login', label: 'Sign in again' },
        })
      : authPage(c, 200, {
          title: 'Signed out',
          message: 'You are signed out. Start dormant ui again for a new sign-in link.',
        }),
  );

  registerPages(app, o.deps);

  app.all('*', (c) => errorPage(c, 404, 'Not found', 'There is no page at this address.'));

  app.onError(async (err, c) => {
    try {
      await o.deps.store.ping();
    } catch (pingErr) {
      log.error(`web: the store is unavailable: ${(pingErr as Error).message.split('\n')[0]}`);
      return errorPage(
        c,
        503,
        'Store unavailable',
        'dormant cannot read its store right now, so nothing can be shown or changed; try again in a minute, and check the database if it persists.',
      );
    }
    log.error(`web: ${c.req.method} ${c.req.path} failed: ${err.message.split('\n')[0]}`);
    return errorPage(
      c,
      500,
      'Something went wrong',
      'This page could not be shown; the error was logged. Try again, and report it if it persists.',
    );
  });

  return app;
}
