/**
 * Signed session cookies: who is signed in, until when, and the session's CSRF token. The
 * cookie is HttpOnly, SameSite=Lax, Secure (with the `__Host-` prefix) when the dashboard is
 * served over https, and signed with the session secret (HMAC-SHA256): the browser can change
 * nothing in it. It is not encrypted and holds nothing the user may not see (their email, the
 * groups that matter, the CSRF token every page shows). A sign-out revokes the session id in
 * this process as well as deleting the cookie.
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { CookieOptions } from 'hono/utils/cookie';
import { z } from 'zod';

/** What the session cookie carries (validated on every read). */
const sessionSchema = z.strictObject({
  sid: z.string().min(16),
  email: z.string().min(1),
  /** Only the groups that appear in web.approvers or web.viewers: the cookie stays small. */
  groups: z.array(z.string()),
  csrf: z.string().min(16),
  /** Milliseconds since the epoch. */
  issuedAt: z.number(),
  expiresAt: z.number(),
});
export type Session = z.infer<typeof sessionSchema>;

/** What an OIDC sign-in in progress keeps between /auth/login and /auth/callback. */
const pendingSchema = z.strictObject({
  state: z.string().min(16),
  nonce: z.string().min(16),
  verifier: z.string().min(43),
  next: z.string(),
  expiresAt: z.number(),
});
export type PendingSignIn = z.infer<typeof pendingSchema>;

export type SessionRead =
  | { kind: 'none' }
  | { kind: 'expired'; email: string }
  /** A cookie that does not verify (another secret, tampered with) or was revoked. */
  | { kind: 'invalid' }
  | { kind: 'ok'; session: Session };

export interface SessionOptions {
  /** The key the cookies are signed with: at least 32 characters. */
  secret: string;
  /** https: Secure cookies with the `__Host-` prefix. */
  secure: boolean;
  /**
   * Appended to the cookie names. Cookies ignore ports: two `dormant ui` on 127.0.0.1 would
   * otherwise overwrite each other's session (each with its own random key).
   */
  cookieSuffix?: string;
  /** How long a session lasts from sign-in. */
  ttlMs: number;
  /** How long a started OIDC sign-in may take. Default 10 minutes. */
  pendingTtlMs?: number;
  /** The clock (milliseconds). Default Date.now. */
  clock?: () => number;
}

const SESSION_COOKIE = 'dormant_session';
const PENDING_COOKIE = 'dormant_signin';

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

function decode<T>(schema: z.ZodType<T>, value: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(value, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export class Sessions {
  private readonly revoked = new Map<string, number>();
  private readonly clock: () => number;
  private readonly prefix: 'host' | undefined;
  private readonly sessionCookie: string;
  private readonly pendingCookie: string;

  constructor(private readonly o: SessionOptions) {
    if (o.secret.length < 32) throw new Error('the session secret must be at least 32 characters');
    this.clock = o.clock ?? Date.now;
    this.prefix = o.secure ? 'host' : undefined;
    this.sessionCookie = SESSION_COOKIE + (o.cookieSuffix ?? '');
    this.pendingCookie = PENDING_COOKIE + (o.cookieSuffix ?? '');
  }

  private cookieOptions(maxAgeMs: number): CookieOptions {
    return {
      path: '/',
      httpOnly: true,
      sameSite: 'Lax',
      secure: this.o.secure,
      maxAge: Math.max(1, Math.floor(maxAgeMs / 1000)),
      ...(this.prefix ? { prefix: this.prefix } : {}),
    };
  }

  async read(c: Context): Promise<SessionRead> {
    const raw = await getSignedCookie(c, this.o.secret, this.sessionCookie, this.prefix);
    if (raw === undefined) return { kind: 'none' };
    if (raw === false) return { kind: 'invalid' };
    const session = decode(sessionSchema, raw);
    if (!session || this.revoked.has(session.sid)) return { kind: 'invalid' };
    if (session.expiresAt <= this.clock()) return { kind: 'expired', email: session.email };
    return { kind: 'ok', session };
  }

  /** Starts a session (a new id and CSRF token) and sets its cookie. */
  async start(c: Context, who: { email: string; groups: string[] }): Promise<Session> {
    const now = this.clock();
    const session: Session = {
      sid: randomToken(18),
      email: who.email,
      groups: who.groups,
      csrf: randomToken(24),
      issuedAt: now,
      expiresAt: now + this.o.ttlMs,
    };
    await setSignedCookie(c, this.sessionCookie, encode(session), this.o.secret, this.cookieOptions(this.o.ttlMs));
    return session;
  }

  /** Ends the session: its id is refused from now on (in this process), and the cookie deleted. */
  end(c: Context, session: Session | null): void {
    if (session) {
      this.revoked.set(session.sid, session.expiresAt);
      const now = this.clock();
      for (const [sid, until] of this.revoked) if (until <= now) this.revoked.delete(sid);
    }
    this.clear(c);
  }

  /** Deletes the session cookie (an expired or unreadable one, or at sign-out). */
  clear(c: Context): void {
    deleteCookie(c, this.sessionCookie, {
      path: '/',
      secure: this.o.secure,
      ...(this.prefix ? { prefix: this.prefix } : {}),
    });
  }

  async setPending(c: Context, pending: Omit<PendingSignIn, 'expiresAt'>): Promise<void> {
    const ttl = this.o.pendingTtlMs ?? 10 * 60_000;
    const value = encode({ ...pending, expiresAt: this.clock() + ttl });
    await setSignedCookie(c, this.pendingCookie, value, this.o.secret, this.cookieOptions(ttl));
  }

  /** The sign-in this browser started, if it is still fresh; the cookie is deleted either way. */
  async takePending(c: Context): Promise<PendingSignIn | null> {
    const raw = await getSignedCookie(c, this.o.secret, this.pendingCookie, this.prefix);
    if (raw === undefined) return null;
    deleteCookie(c, this.pendingCookie, {
      path: '/',
      secure: this.o.secure,
      ...(this.prefix ? { prefix: this.prefix } : {}),
    });
    if (raw === false) return null;
    const pending = decode(pendingSchema, raw);
    return pending && pending.expiresAt > this.clock() ? pending : null;
  }
}

/** A path inside the dashboard to return to after sign-in; anything else (another site, `//host`) is `/`. */
export function safeNext(next: string | undefined | null): string {
  if (!next || next.length > 2000) return '/';
  // Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil") and read "\" as "/":
  // no control character or backslash at all.
  for (const ch of next) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || ch === '\\') return '/';
  }
  if (!next.startsWith('/') || next.startsWith('//')) return '/';
  if (next.startsWith('/auth/')) return '/';
  // And it must stay on this site however a browser resolves it.
  const base = 'http://dormant.invalid';
  let resolved: URL;
  try {
    resolved = new URL(next, base);
  } catch {
    return '/';
  }
  if (resolved.origin !== base) return '/';
  return next;
}
