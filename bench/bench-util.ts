// Shared helpers for the benchmarks (bench/run.ts calls one exported function per benchmark):
// a deterministic PRNG, timing and medians, the goal type every benchmark reports, plain-text
// tables, and peak-RSS measurement of a child process with /usr/bin/time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** mulberry32: small, fast, deterministic; good enough to shape a synthetic account. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

export interface Sample<T> {
  ms: number;
  /** CPU time of this process (the SDK and dormant) during the run. */
  nodeCpuMs: number;
  /** CPU time of the server process (moto) during the run; null when unknown. */
  serverCpuMs: number | null;
  value: T;
}

export interface Measured<T> {
  warmup: Sample<T> | null;
  runs: Sample<T>[];
  medianMs: number;
  /** Why the measured runs stopped: all were done, or the time budget was spent. */
  stoppedBy: 'runs' | 'budget';
}

export interface MeasureOptions {
  runs: number;
  /** Run once first and discard it. */
  warmup: boolean;
  /** Stop adding measured runs (after at least one) once the approach has used this long; null: no limit. */
  budgetMs: number | null;
  /** A process whose CPU time to sample around each run (moto). */
  serverPid?: number | null;
  log?: (line: string) => void;
}

async function sample<T>(fn: () => Promise<T>, serverPid: number | null): Promise<Sample<T>> {
  const cpu0 = process.cpuUsage();
  const server0 = serverPid === null ? null : processCpuSeconds(serverPid);
  const { ms, value } = await timed(fn);
  const cpu = process.cpuUsage(cpu0);
  const server1 = serverPid === null ? null : processCpuSeconds(serverPid);
  return {
    ms,
    nodeCpuMs: (cpu.user + cpu.system) / 1000,
    serverCpuMs: server0 === null || server1 === null ? null : (server1 - server0) * 1000,
    value,
  };
}

/** An optional warm-up run (discarded), then up to `runs` measured runs, one after the other. */
export async function measure<T>(label: string, fn: () => Promise<T>, options: MeasureOptions): Promise<Measured<T>> {
  const log = options.log ?? (() => {});
  const serverPid = options.serverPid ?? null;
  const started = performance.now();
  let warmup: Sample<T> | null = null;
  if (options.warmup) {
    warmup = await sample(fn, serverPid);
    log(`  ${label}: warm-up ${fmtMs(warmup.ms)}`);
  }
  const runs: Sample<T>[] = [];
  let stoppedBy: Measured<T>['stoppedBy'] = 'runs';
  for (let i = 0; i < options.runs; i++) {
    if (runs.length > 0 && options.budgetMs !== null && performance.now() - started >= options.budgetMs) {
      stoppedBy = 'budget';
      break;
    }
    const s = await sample(fn, serverPid);
    runs.push(s);
    log(`  ${label}: run ${i + 1}/${options.runs} ${fmtMs(s.ms)}`);
  }
  return { warmup, runs, medianMs: median(runs.map((r) => r.ms)), stoppedBy };
}

/** A goal from the issue next to what was measured. */
export interface Goal {
  benchmark: string;
  goal: string;
  measured: string;
  pass: boolean;
}

/** What every benchmark function returns to bench/run.ts. */
export interface BenchOutcome {
  name: string;
  goals: Goal[];
  /** Where the benchmark wrote its JSON results. */
  resultsFile: string | null;
  elapsedMs: number;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
}

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

/** A plain-text table; numeric-looking cells are right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[\d.,×x%<>≤≥ -]*(ms|s|MB)?$/.test(r[i] ?? '')),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface RssResult {
  /** Peak resident set size in KB, as GNU time's %M reports it. */
  peakKb: number;
  exitCode: number | null;
  wallMs: number;
  stderr: string;
}

/**
 * Run `node ARGS` under `/usr/bin/time -f %M` and read the peak RSS (KB). The figure goes to
 * a file (-o) so the child's own stderr stays separate.
 */
export async function peakRss(
  nodeArgs: string[],
  options: { env: Record<string, string>; cwd: string; timeoutMs?: number },
): Promise<RssResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dormant-bench-rss-'));
  const out = join(dir, 'rss.txt');
  try {
    const start = process.hrtime.bigint();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, ...nodeArgs], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-8192)));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node ${nodeArgs.join(' ')} did not finish in ${options.timeoutMs ?? 180_000} ms\n${err}`));
      }, options.timeoutMs ?? 180_000);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, stderr: err });
      });
    });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    // GNU time writes "Command exited with non-zero status N" before the figure on failure.
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const peakKb = Number(lines[lines.length - 1]);
    if (!Number.isFinite(peakKb)) throw new Error(`/usr/bin/time printed no peak RSS: ${lines.join(' | ')}`);
    return { peakKb, exitCode: code, wallMs, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU seconds (user + system) of a process, from /proc (Linux); null elsewhere. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime), in clock ticks (USER_HZ, 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The pid of this process's child whose command line contains `needle` (Linux); null if none. */
export function findChildPid(needle: string): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) return Number(entry);
    } catch {
      // The process went away while we looked.
    }
  }
  return null;
}
