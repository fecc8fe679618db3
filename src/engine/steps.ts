/**
 * The journaled step runner handed to providers (DESIGN §4.4): an intent before each call and
 * an outcome after it, so a crash is resumed from the journal. Warnings are journaled too.
 */
import { writeJournal } from '../store/journal.js';
import type { Store } from '../store/store.js';
import type { StepRunner } from '../providers/provider.js';

export interface JournaledSteps extends StepRunner {
  /** Wait for warnings still being written, so they precede the item's outcome in the journal. */
  flush(): Promise<void>;
}

export function journaledSteps(
  store: Store,
  at: { planId: string; itemId: string; runId: string },
  onWarning: (message: string) => void,
): JournaledSteps {
  const pending: Promise<void>[] = [];
  return {
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      await writeJournal(store.db, { ...at, step: name, phase: 'intent' });
      try {
        const out = await fn();
        await writeJournal(store.db, { ...at, step: name, phase: 'outcome', status: 'ok' });
        return out;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await writeJournal(store.db, { ...at, step: name, phase: 'outcome', status: 'error', detail: { reason } });
        throw err;
      }
    },
    warn(message: string) {
      onWarning(message);
      pending.push(
        writeJournal(store.db, { ...at, step: 'warning', phase: 'outcome', status: 'warning', detail: { message } }),
      );
    },
    async flush() {
      await Promise.all(pending);
    },
  };
}
