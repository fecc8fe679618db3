/**
 * Slack request signing (v0): `x-slack-signature: v0=HMAC_SHA256(secret, "v0:" + timestamp + ":" + rawBody)`.
 * The HMAC and its constant-time comparison are bolt's (`verifySlackRequest`); this module
 * only adds clear reasons and the replay window in both directions (bolt only rejects the past).
 */
import { verifySlackRequest } from '@slack/bolt';

/** Slack's replay window: a request whose timestamp is further than this from now is refused. */
export const SLACK_MAX_SKEW_SECONDS = 5 * 60;

/** A Node `IncomingHttpHeaders`-like object (any case) or a Fetch `Headers`. */
export type HeaderSource = Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface SignatureInput {
  signingSecret: string;
  /** The body exactly as received, before any parsing. */
  rawBody: string;
  headers: HeaderSource;
  /** The current time (default: now). */
  now?: Date | number;
}

export type SignatureResult = { ok: true } | { ok: false; reason: string };

function header(headers: HeaderSource, name: string): string | null {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name);
  }
  const record = headers as Record<string, string | string[] | undefined>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== name) continue;
    const v = Array.isArray(value) ? value[0] : value;
    return v ?? null;
  }
  return null;
}

/** Check a request that claims to come from Slack. The reason never contains the secret or the signature. */
export function verifySlackSignature(input: SignatureInput): SignatureResult {
  if (!input.signingSecret) return { ok: false, reason: 'no Slack signing secret is configured' };
  const signature = header(input.headers, 'x-slack-signature')?.trim() ?? '';
  const timestamp = header(input.headers, 'x-slack-request-timestamp')?.trim() ?? '';
  if (!signature) return { ok: false, reason: 'missing x-slack-signature header' };
  if (!timestamp) return { ok: false, reason: 'missing x-slack-request-timestamp header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed x-slack-request-timestamp header' };
  const nowMs = input.now === undefined ? Date.now() : new Date(input.now).getTime();
  const ts = Number(timestamp);
  const skew = Math.floor(nowMs / 1000) - ts;
  if (skew > SLACK_MAX_SKEW_SECONDS) {
    return { ok: false, reason: `stale request: timestamp is ${skew} seconds old (limit ${SLACK_MAX_SKEW_SECONDS})` };
  }
  if (-skew > SLACK_MAX_SKEW_SECONDS) {
    return {
      ok: false,
      reason: `request timestamp is ${-skew} seconds in the future (limit ${SLACK_MAX_SKEW_SECONDS}); check the clock`,
    };
  }
  if (!signature.startsWith('v0=')) return { ok: false, reason: 'bad signature: unknown signature version' };
  try {
    verifySlackRequest({
      signingSecret: input.signingSecret,
      body: input.rawBody,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
      nowMilliseconds: nowMs,
    });
  } catch {
    return { ok: false, reason: 'bad signature: it does not match the body and the signing secret' };
  }
  return { ok: true };
}

/** Parse an interactivity request body (`payload=<urlencoded JSON>`, as Slack posts it). */
export function parseInteractionBody(rawBody: string): unknown {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (payload === null) return null;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return null;
  }
}
