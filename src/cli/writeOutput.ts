/** Write a report to stdout or, atomically, to `--output FILE` (never a half-written file). */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UsageError } from '../errors.js';

export function writeOutput(text: string | Iterable<string>, file: string | undefined): void {
  const pieces = typeof text === 'string' ? [text] : text;
  if (file === undefined || file === '-') {
    for (const piece of pieces) process.stdout.write(piece);
    return;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w', 0o600);
    for (const piece of pieces) writeSync(fd, piece);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UsageError(`cannot write --output ${file} (${code}); check the directory exists and is writable`);
  }
}
