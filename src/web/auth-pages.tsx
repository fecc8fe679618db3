/**
 * The pages of signing in and out that are not errors: "signed out", "use the link
 * `dormant ui` printed". They use the dashboard's shell without a signed-in user.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { Layout } from './pages/layout.js';

export interface AuthPage {
  title: string;
  /** One or two sentences: what happened and what to do. */
  message: string;
  /** A link to go on with (sign in again). */
  action?: { href: string; label: string };
}

export function authPage(c: Context, status: ContentfulStatusCode, page: AuthPage): Response | Promise<Response> {
  return c.html(
    <Layout title={page.title} user={null}>
      <section class="signin">
        <h1>{page.title}</h1>
        <p>{page.message}</p>
        {page.action ? (
          <p>
            <a class="button" href={page.action.href}>
              {page.action.label}
            </a>
          </p>
        ) : null}
      </section>
    </Layout>,
    status,
  );
}
