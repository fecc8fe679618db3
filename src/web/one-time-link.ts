/**
 * `dormant ui`'s sign-in: one random token, printed once in a link (the way Jupyter does it).
 * The first visit with it starts a session; any later visit is told the link was used.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomToken } from './session.js';

export type LinkUse = 'ok' | 'used' | 'invalid';

export class OneTimeLink {
  /** Only the token's digest is kept to compare with. */
  private readonly digest: Buffer;
  private used = false;

  constructor(readonly token: string = randomToken(32)) {
    this.digest = createHash('sha256').update(token).digest();
  }

  /** The link to print: `ORIGIN/auth/link?token=…`. */
  url(origin: string): string {
    return `${origin}/auth/link?token=${encodeURIComponent(this.token)}`;
  }

  use(candidate: string | undefined): LinkUse {
    if (!candidate) return 'invalid';
    // Digests have one length, so the comparison takes the same time whatever was sent.
    const same = timingSafeEqual(createHash('sha256').update(candidate).digest(), this.digest);
    if (!same) return 'invalid';
    if (this.used) return 'used';
    this.used = true;
    return 'ok';
  }
}
