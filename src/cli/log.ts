/**
 * The CLI's logger: pino, writing one human line per record to stderr
 * (`dormant: warning: …`). `--quiet` shows errors only, `--verbose` adds debug lines.
 * `DORMANT_LOG_FORMAT=json` keeps pino's JSON lines, for services and log shippers.
 */
import { pino, type Logger } from 'pino';

export interface LogOptions {
  quiet?: boolean;
  verbose?: boolean;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

export function createLogger(options: LogOptions, stream: NodeJS.WritableStream = process.stderr): Logger {
  const level = options.quiet ? 'error' : options.verbose ? 'debug' : 'info';
  if (process.env.DORMANT_LOG_FORMAT === 'json') return pino({ level, base: null }, stream);
  return pino(
    { level, base: null, timestamp: false },
    {
      write(line: string) {
        try {
          const record = JSON.parse(line) as { level: number; msg?: string };
          stream.write(`dormant: ${LEVEL_NAMES[record.level] ?? 'log'}: ${record.msg ?? ''}\n`);
        } catch {
          stream.write(line);
        }
      },
    },
  );
}
