/** Secrets come from an environment variable or a file, never from the YAML, and are never logged. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

export interface SecretRef {
  env: string;
  file: string | null;
}

/** Read a secret; `what` names it in the error ("Slack bot token", "slack.botToken"). */
export function readSecret(ref: SecretRef, what: string, key: string): string {
  if (ref.file) {
    try {
      const value = readFileSync(ref.file, 'utf8').trim();
      if (value) return value;
    } catch (err) {
      throw new UsageError(
        `cannot read the ${what} from ${ref.file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); fix ${key}.file`,
      );
    }
    throw new UsageError(`the ${what} file ${ref.file} is empty; put the secret in it or fix ${key}.file`);
  }
  const value = process.env[ref.env]?.trim();
  if (!value) throw new UsageError(`the ${what} is not set: export ${ref.env} or set ${key}.file`);
  return value;
}
