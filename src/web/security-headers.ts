/**
 * Response headers of every dashboard answer: a Content-Security-Policy that allows scripts,
 * styles and forms from the dashboard itself only (no inline script or style), no framing, no
 * referrer sent to other sites (same-origin: with no-referrer at all, Chromium sends form
 * posts with `Origin: null`, which the CSRF check cannot tell from a sandboxed attacker), HSTS
 * over https, and no caching of pages (they carry the session's CSRF token); the static assets
 * may be cached.
 */
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
};

export function securityHeaders(o: { https: boolean }): MiddlewareHandler[] {
  return [
    secureHeaders({
      contentSecurityPolicy: CONTENT_SECURITY_POLICY,
      referrerPolicy: 'same-origin',
      xFrameOptions: 'DENY',
      strictTransportSecurity: o.https ? 'max-age=31536000; includeSubDomains' : false,
      crossOriginResourcePolicy: 'same-origin',
      crossOriginOpenerPolicy: 'same-origin',
    }),
    async (c, next) => {
      await next();
      if (!c.res.headers.has('cache-control') && !c.req.path.startsWith('/assets/')) {
        c.res.headers.set('cache-control', 'no-store');
      }
    },
  ];
}
