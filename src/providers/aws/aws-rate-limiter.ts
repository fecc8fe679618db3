/**
 * A strict sliding-window limiter: never more than `perSecond` starts in any window of one
 * second. CloudTrail LookupEvents allows 2 requests per second per account and region, and
 * AWS measures a sliding window, so a token bucket that lets a burst through is not enough.
 *
 * `take()` counts a start at the moment it is granted. `schedule(fn)` holds its slot until
 * `fn` settles and counts it from then: a request reaches the server somewhere between the
 * moment it is sent and the moment its answer comes back, so measuring the window from the
 * answer keeps the server's view under the limit whatever the network latency.
 */

export interface RateLimiterOptions {
  /** Monotonic clock in milliseconds. Default: performance.now. */
  now?: () => number;
}

interface Slot {
  /** When the slot was used (ms); Infinity while its work is still running. */
  at: number;
}

interface Waiter {
  inFlight: boolean;
  resolve: (slot: Slot) => void;
}

export class RateLimiter {
  /** Starts allowed per window. */
  readonly capacity: number;
  /** Window length in ms: 1000 for a whole `perSecond`, longer for fractions (0.5/s → 1 per 2 s). */
  readonly windowMs: number;
  private readonly now: () => number;
  private slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly perSecond: number,
    options: RateLimiterOptions = {},
  ) {
    if (!Number.isFinite(perSecond) || perSecond <= 0) {
      throw new RangeError(`RateLimiter: perSecond must be a positive number, got ${perSecond}`);
    }
    this.capacity = Math.max(1, Math.floor(perSecond));
    this.windowMs = (1000 * this.capacity) / perSecond;
    this.now = options.now ?? (() => performance.now());
  }

  /** Resolves when a start is allowed; the start is counted from that moment. */
  async take(): Promise<void> {
    await this.acquire(false);
  }

  /** Runs `fn` in a slot that counts from when `fn` settles (see the file comment). */
  async schedule<T>(fn: () => Promise<T>): Promise<T> {
    const slot = await this.acquire(true);
    try {
      return await fn();
    } finally {
      slot.at = this.now();
      this.pump();
    }
  }

  /** Callers waiting for a slot. */
  get pending(): number {
    return this.waiters.length;
  }

  private acquire(inFlight: boolean): Promise<Slot> {
    return new Promise<Slot>((resolve) => {
      this.waiters.push({ inFlight, resolve });
      this.pump();
    });
  }

  private pump(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const now = this.now();
    // A slot used at `at` blocks starts until `at + windowMs`.
    this.slots = this.slots.filter((s) => s.at + this.windowMs > now);
    while (this.waiters.length > 0 && this.slots.length < this.capacity) {
      const waiter = this.waiters.shift()!;
      const slot: Slot = { at: waiter.inFlight ? Infinity : now };
      this.slots.push(slot);
      waiter.resolve(slot);
    }
    if (this.waiters.length === 0) return;
    let oldest = Infinity;
    for (const s of this.slots) oldest = Math.min(oldest, s.at);
    // Every slot still running: the next settle calls pump().
    if (oldest === Infinity) return;
    const wait = Math.max(1, Math.ceil(oldest + this.windowMs - now));
    this.timer = setTimeout(() => this.pump(), wait);
  }
}
