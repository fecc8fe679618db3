/**
 * CSRF checks of every POST: the session's token in the form field `_csrf` (or the header
 * `x-csrf-token`), compared in constant time; and, when the browser says where the request
 * comes from (Origin, Sec-Fetch-Site), it must be the dashboard itself.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';

export type CsrfVerdict = { ok: true } | { ok: false; why: string };

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token the request carries: the header, else the form field (the parsed body is cached for the handler). */
async function sentToken(c: Context): Promise<string | null> {
  const header = c.req.header('x-csrf-token');
  if (header) return header;
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const field = (body as Record<string, unknown>)['_csrf'];
  return typeof field === 'string' && field ? field : null;
}

/**
 * Checks an unsafe request against the session's token. `origin` is the dashboard's own
 * origin (`https://dormant.example.com`); a request the browser marks as coming from
 * elsewhere is refused even with a token.
 */
export async function checkCsrf(c: Context, expected: string, origin: string): Promise<CsrfVerdict> {
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return { ok: false, why: `sent from another site (${site})` };
  const from = c.req.header('origin');
  if (from && from !== 'null' && from !== origin) return { ok: false, why: `sent from ${from}` };
  // Browsers send `Origin: null` from sandboxed frames and data: pages, and under some referrer
  // policies; only a browser that also says the request is same-origin is believed then.
  if (from === 'null' && site !== 'same-origin') return { ok: false, why: 'sent from an opaque origin' };
  const token = await sentToken(c);
  if (!token) return { ok: false, why: 'no CSRF token' };
  if (!sameToken(token, expected)) return { ok: false, why: 'a wrong CSRF token' };
  return { ok: true };
}
