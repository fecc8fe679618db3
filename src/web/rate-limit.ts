/**
 * Sign-in attempts limited per client address: a sliding window of `attempts` per `windowMs`.
 * Memory is bounded: at most `maxKeys` addresses are tracked, the least recently seen dropped.
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';

export interface RateLimitOptions {
  /** Attempts allowed per address in the window. Default 10. */
  attempts?: number;
  /** The window. Default one minute. */
  windowMs?: number;
  /** Addresses tracked at once. Default 10,000. */
  maxKeys?: number;
  /** The clock (milliseconds). Default Date.now. */
  clock?: () => number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  readonly attempts: number;
  readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly clock: () => number;

  constructor(o: RateLimitOptions = {}) {
    this.attempts = o.attempts ?? 10;
    this.windowMs = o.windowMs ?? 60_000;
    this.maxKeys = o.maxKeys ?? 10_000;
    this.clock = o.clock ?? Date.now;
  }

  /** Counts one attempt from `key`, unless it is over the limit already. */
  take(key: string): Take {
    const now = this.clock();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    // Re-inserted: the map's order is then least recently seen first.
    this.hits.delete(key);
    if (recent.length >= this.attempts) {
      this.hits.set(key, recent);
      const retryAfterSeconds = Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
      return { ok: false, retryAfterSeconds };
    }
    recent.push(now);
    this.hits.set(key, recent);
    while (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
    return { ok: true };
  }
}

/**
 * The address the connection comes from. Forwarded headers are not trusted (anyone can send
 * them); behind a reverse proxy every client shares the proxy's address and its limit.
 */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // Not served by @hono/node-server (app.request in tests): one shared bucket.
    return 'unknown';
  }
}
