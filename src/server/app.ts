/**
 * The HTTP surface of `dormant serve`: Slack interactivity at /slack/events (every request
 * verified by Slack's v0 signature before anything else), /healthz and /readyz, and, when
 * web.enabled, the dashboard at / (behind its sign-in; the three routes above are not).
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { getItem } from '../store/plans.js';
import type { Store } from '../store/store.js';
import type { WebEnv } from '../web/web-types.js';
import type { ReviewService } from '../workflow/service.js';
import { handleSlackRequest } from '../workflow/slack/slack-http.js';
import type { SlackReview } from '../workflow/slack/slack-review.js';
import { parseInteractionBody } from '../workflow/slack/slack-signature.js';

export interface AppDeps {
  store: Store;
  service: ReviewService;
  slack: SlackReview | null;
  signingSecret: string | null;
  log: Logger;
  /** The dashboard (src/web/web-app.ts), mounted at / after the routes above. */
  web?: Hono<WebEnv> | null;
}

/** The item a click is about, if the body is a block_actions payload (read only after the signature passed). */
function clickedItem(rawBody: string): string | null {
  try {
    const payload = parseInteractionBody(rawBody) as { actions?: { value?: string }[] } | null;
    return payload?.actions?.[0]?.value ?? null;
  } catch {
    return null;
  }
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    if (deps.service.stopping) return c.json({ status: 'stopping' }, 503);
    try {
      await deps.store.ping();
    } catch {
      return c.json({ status: 'store unavailable' }, 503);
    }
    return c.json({ status: 'ready', ...deps.service.health });
  });

  app.post('/slack/events', async (c) => {
    const slack = deps.slack;
    if (!slack || !deps.signingSecret) return c.json({ error: 'Slack over HTTP is not enabled' }, 404);
    const rawBody = await c.req.text();
    const response = handleSlackRequest({
      review: {
        handleAction: async (payload) => {
          const itemId = clickedItem(rawBody);
          const before = itemId ? await getItem(deps.store.db, itemId) : null;
          const outcome = await slack.handleAction(payload);
          if (itemId) await deps.service.afterDecision(itemId, before);
          return outcome;
        },
      },
      signingSecret: deps.signingSecret,
      rawBody,
      headers: c.req.raw.headers,
      log: (line) => deps.log.warn(line),
    });
    // Slack wants an answer within 3 seconds: the click is handled after we reply.
    response.done.catch((err: unknown) => deps.log.error(`Slack click failed: ${(err as Error).message}`));
    return c.body(response.body, response.status as 200, { 'content-type': response.contentType });
  });

  // Registered last: the routes above answer before the dashboard's session middleware runs.
  if (deps.web) app.route('/', deps.web);

  return app;
}
