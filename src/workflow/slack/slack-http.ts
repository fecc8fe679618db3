/**
 * The HTTP side of Slack interactivity, independent of the web framework: verify the v0
 * signature on the raw body, parse `payload=…`, answer at once (Slack wants a reply within
 * 3 seconds) and handle the click in the background (`done`).
 */
import { type HeaderSource, parseInteractionBody, verifySlackSignature } from './slack-signature.js';
import type { ActionOutcome, BlockActionsPayload, SlackReview } from './slack-review.js';

export interface SlackHttpRequest {
  review: Pick<SlackReview, 'handleAction'>;
  signingSecret: string;
  rawBody: string;
  headers: HeaderSource;
  now?: Date | number;
  /** Where a refused request or a failed click is reported (never with the secret or the body). */
  log?: (line: string) => void;
}

export interface SlackHttpResponse {
  status: number;
  contentType: 'text/plain' | 'application/json';
  body: string;
  /** Settles when the click has been handled (or at once when there is nothing to handle). */
  done: Promise<ActionOutcome | null>;
}

function respond(
  status: number,
  body: string,
  json = false,
  done: Promise<ActionOutcome | null> = Promise.resolve(null),
): SlackHttpResponse {
  return { status, body, contentType: json ? 'application/json' : 'text/plain', done };
}

export function handleSlackRequest(req: SlackHttpRequest): SlackHttpResponse {
  const log = req.log ?? (() => undefined);
  const check = verifySlackSignature({
    signingSecret: req.signingSecret,
    rawBody: req.rawBody,
    headers: req.headers,
    ...(req.now !== undefined ? { now: req.now } : {}),
  });
  if (!check.ok) {
    log(`refused a Slack request: ${check.reason}`);
    return respond(401, 'invalid Slack request signature');
  }
  // The Events API URL check, in case the app points its events at the same URL.
  if (req.rawBody.trimStart().startsWith('{')) {
    try {
      const event = JSON.parse(req.rawBody) as { type?: string; challenge?: string };
      if (event.type === 'url_verification' && typeof event.challenge === 'string') {
        return respond(200, JSON.stringify({ challenge: event.challenge }), true);
      }
    } catch {
      return respond(400, 'malformed JSON body');
    }
    return respond(200, '');
  }
  if (new URLSearchParams(req.rawBody).get('ssl_check') === '1') return respond(200, '');
  const payload = parseInteractionBody(req.rawBody) as BlockActionsPayload | null;
  if (!payload || typeof payload !== 'object') return respond(400, 'expected a payload= form field with JSON');
  if (payload.type !== 'block_actions') return respond(200, '');
  const done = req.review.handleAction(payload).catch((err: unknown) => {
    log(`a Slack click could not be handled: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });
  return respond(200, '', false, done);
}
