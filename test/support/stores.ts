// The both-engines store harness: every store test runs on SQLite (a file in a temp directory)
// and on a real PostgreSQL server (a fresh database per test file, test/support/pg.ts, on
// DORMANT_TEST_PG_URL). `useBothEngines` gives a test file its locations and workspaces on each
// engine; `openTestStore` makes a store for the CLI and reads its tables straight from the
// database, as a test that runs the CLI against it sees them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { Store } from '../../src/store/store.js';
import type { Workspace } from './cli.js';
import { clearPgDatabase, freshPgDatabase, type FreshPgDatabase } from './pg.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

// ------------------------------------------------------------------ a test file on both engines

export interface BothEngines {
  /** The file's temp directory (removed after the file). */
  readonly tmp: string;
  /** The file's PostgreSQL database (made before the file, dropped after it). */
  readonly pg: FreshPgDatabase;
  /** A new SQLite file name in `tmp` (the file is not created). */
  sqliteFile(prefix?: string): string;
  /**
   * Where a test's store goes: on SQLite `sqlite` (by default a new file in `tmp`), on
   * PostgreSQL the file's database, emptied.
   */
  fresh(engine: Engine, sqlite?: string): Promise<string>;
  /** A new working directory in `tmp` with this dormant.yml, and a fresh store (on SQLite, state.db in it). */
  workspace(engine: Engine, config: string): Promise<Workspace>;
}

/** Registers beforeAll/afterAll for the calling test file: a temp directory and a PostgreSQL database. */
export function useBothEngines(prefix = 'dormant-store-'): BothEngines {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  let db: FreshPgDatabase | undefined;
  let seq = 0;
  beforeAll(async () => {
    db = await freshPgDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(tmp, { recursive: true, force: true });
  });
  const harness: BothEngines = {
    tmp,
    get pg() {
      if (!db) throw new Error('the PostgreSQL database is made in beforeAll');
      return db;
    },
    sqliteFile: (name = 'state') => join(tmp, `${name}-${++seq}.db`),
    async fresh(engine, sqlite = harness.sqliteFile()) {
      if (engine === 'sqlite') return sqlite;
      await clearPgDatabase(harness.pg.url);
      return harness.pg.url;
    },
    async workspace(engine, config) {
      const cwd = mkdtempSync(join(tmp, 'ws-'));
      writeFileSync(join(cwd, 'dormant.yml'), config);
      return { cwd, db: await harness.fresh(engine, join(cwd, 'state.db')) };
    },
  };
  return harness;
}

/** Opens the store at `at` (a location, or a workspace's), runs `fn` on it, and closes it. */
export async function withStore<T>(at: string | { db: string }, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(typeof at === 'string' ? at : at.db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

// ------------------------------------------------------------------ tables read straight from the database

/** Runs one query on a SQLite file (waiting up to 10 s for a writer) and closes it. */
export function sqliteQuery<T>(path: string, sql: string, options: { readonly?: boolean } = {}): T[] {
  const db = new SqliteDatabase(path, { readonly: options.readonly ?? false, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

export interface TestStore {
  engine: Engine;
  /** A new working directory with the dormant.yml (and, on SQLite, the store's file). */
  dir: string;
  /** What `--db` gets. */
  db: string;
  /** `select * from <table>` (ordered by `orderBy`), read straight from the database. */
  rows<T>(table: string, orderBy: string): Promise<T[]>;
  /** Drops the PostgreSQL database and removes the directory. */
  drop(): Promise<void>;
}

/**
 * A store for the CLI to use, and a working directory (`prefix…` in the temp directory) with
 * this dormant.yml: on SQLite DIR/state.db, on PostgreSQL a fresh database.
 */
export async function openTestStore(engine: Engine, prefix: string, config: string): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'dormant.yml'), config);
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  if (engine === 'sqlite') {
    const path = join(dir, 'state.db');
    return {
      engine,
      dir,
      db: path,
      rows: async <T>(table: string, orderBy: string) =>
        sqliteQuery<T>(path, `select * from ${table} order by ${orderBy}`),
      drop: async () => removeDir(),
    };
  }
  const fresh = await freshPgDatabase();
  return {
    engine,
    dir,
    db: fresh.url,
    async rows<T>(table: string, orderBy: string): Promise<T[]> {
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        return (await client.query(`select * from ${table} order by ${orderBy}`)).rows as T[];
      } finally {
        await client.end();
      }
    },
    async drop() {
      await fresh.drop();
      removeDir();
    },
  };
}

/** A row of plan_items (the columns every test reads). */
export interface PlanItemRow {
  id: string;
  plan_id: string;
  seq: number;
  identity_name: string;
  action: string;
  status: string;
}

/** A row of the journal (ids as numbers, whatever the engine returns them as). */
export interface JournalRow {
  id: number;
  item_id: string;
  run_id: string;
  step: string;
  phase: 'intent' | 'outcome';
  status: string | null;
}
export async function journalOf(store: TestStore): Promise<JournalRow[]> {
  return (await store.rows<JournalRow>('journal', 'id')).map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * Runs (of `rows`) that journaled at the same time, as sentences about `what`: the spans
 * (first to last entry) of different runs must never interleave. Warnings, written without
 * waiting, are left out of the spans.
 */
export function runOverlaps(rows: JournalRow[], what: string): string[] {
  const problems: string[] = [];
  const spans = new Map<string, [number, number]>();
  for (const row of rows) {
    if (row.step === 'warning') continue;
    const span = spans.get(row.run_id);
    spans.set(row.run_id, span ? [span[0], row.id] : [row.id, row.id]);
  }
  const sorted = [...spans.entries()].sort((a, b) => a[1][0] - b[1][0]);
  for (let i = 1; i < sorted.length; i++) {
    const [prevRun, prev] = sorted[i - 1]!;
    const [run, span] = sorted[i]!;
    if (span[0] < prev[1]) {
      problems.push(`${what}: runs ${prevRun} (${prev.join('–')}) and ${run} (${span.join('–')}) overlap`);
    }
  }
  return problems;
}
