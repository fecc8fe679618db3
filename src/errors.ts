/**
 * Errors that carry the documented exit code (DESIGN §3) and a one-line message that
 * names the problem and the fix. Anything else that escapes is a bug (exit 70).
 */
export const EXIT = {
  ok: 0,
  findings: 1,
  usage: 2,
  cloud: 3,
  guard: 4,
} as const;

export class DormantError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad usage, bad config or bad input file: exit 2. */
export class UsageError extends DormantError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/** The cloud refused or failed (credentials, access denied, throttled, unreachable): exit 3. */
export class CloudError extends DormantError {
  constructor(
    message: string,
    readonly code: string = 'CloudError',
    options?: { cause?: unknown },
  ) {
    super(message, EXIT.cloud, options);
  }
}

/** A safety guard refused to act: exit 4. */
export class GuardError extends DormantError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.guard, options);
  }
}
