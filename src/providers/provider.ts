/**
 * The contract every provider implements (one folder per provider, like Kysely's dialects).
 * A provider talks to one cloud, or one kind of file, and nothing else.
 */
import type { Identity, Inventory } from '../model/identity.js';

export interface EnrichRequest {
  /** Identities with findings: fetch their tags (for exemptions and owners). */
  tags: Identity[];
  /** Identities with access-key findings whose keys are known only by report slot: map slots to key ids. */
  keySlots: Identity[];
}

export interface Provider {
  /** Short name for messages: `aws`, `file`. */
  readonly name: string;
  /** Build the whole inventory. Throws rather than return a partial one silently. */
  collect(): Promise<Inventory>;
  /**
   * Fetch what only identities with findings need, so the cost grows with the findings and
   * not with the account. Mutates the identities in place; returns warnings.
   */
  enrich(request: EnrichRequest): Promise<string[]>;
}

/** Progress lines for a human watching; the CLI shows them on stderr only when it is a TTY. */
export type ProgressSink = (message: string) => void;
