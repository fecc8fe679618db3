/**
 * The page shell every dashboard page shares (navigation, signed-in user, sign-out form)
 * and `errorPage`, the one way to answer with a full HTML error page (403, 404, 503, …).
 */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { WebUser } from '../web-types.js';

export interface NavLink {
  href: string;
  label: string;
}

/** The navigation, in the order the pages appear. */
export const NAV: readonly NavLink[] = [
  { href: '/', label: 'Overview' },
  { href: '/findings', label: 'Findings' },
  { href: '/plans', label: 'Plans' },
  { href: '/history', label: 'History' },
  { href: '/audit', label: 'Audit' },
  { href: '/backups', label: 'Backups' },
];

export interface LayoutProps {
  title: string;
  /** Absent on pages shown before sign-in (errors, "use the link"). */
  user?: WebUser | null;
  /** The current path, to mark the active navigation entry. */
  current?: string;
  children?: Child;
}

function isActive(href: string, current: string | undefined): boolean {
  if (current === undefined) return false;
  if (href === '/') return current === '/';
  return current === href || current.startsWith(`${href}/`);
}

export function Layout({ title, user, current, children }: LayoutProps) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${title} · dormant`}</title>
          <link rel="stylesheet" href="/assets/app.css" />
          <script src="/assets/app.js" defer></script>
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <a class="brand" href="/">
              dormant
            </a>
            {user ? (
              <nav aria-label="Main">
                <ul>
                  {NAV.map((link) => (
                    <li>
                      <a href={link.href} aria-current={isActive(link.href, current) ? 'page' : undefined}>
                        {link.label}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            ) : null}
            {user ? (
              <div class="who">
                <span class="email">{user.email}</span>
                {user.canDecide ? null : <span class="badge">viewer</span>}
                <form method="post" action="/auth/logout" class="inline">
                  <input type="hidden" name="_csrf" value={user.csrf} />
                  <button type="submit" class="link">
                    Sign out
                  </button>
                </form>
              </div>
            ) : null}
          </header>
          <main id="main">{children}</main>
        </body>
      </html>
    </>
  );
}

/** A full HTML error page with `status`; `message` is one sentence saying what happened and what to do. */
export function errorPage(
  c: Context,
  status: ContentfulStatusCode,
  title: string,
  message: string,
): Response | Promise<Response> {
  // Pages shown before sign-in have no user; the shell then shows no navigation.
  const user = (c.get('user' as never) as WebUser | undefined) ?? null;
  return c.html(
    <Layout title={title} user={user}>
      <section class="error" role="alert">
        <h1>{title}</h1>
        <p>{message}</p>
        {user ? (
          <p>
            <a href="/">Back to the overview</a>
          </p>
        ) : null}
      </section>
    </Layout>,
    status,
  );
}
