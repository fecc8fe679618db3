/**
 * The store: the only module that touches the database. SQLite (better-sqlite3) by default,
 * PostgreSQL for teams and the service; one schema, migrations applied on open.
 */
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { DormantError, UsageError } from '../errors.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import { type AuditEvent, writeAudit } from './audit.js';

export type Db = Kysely<Database> | Transaction<Database>;

/** A store the user pointed at could not be opened or used: exit 3, like any service dormant depends on. */
export class StoreError extends DormantError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 3, options);
  }
}

export interface StoreLocation {
  engine: 'sqlite' | 'postgres';
  /** A file path, `:memory:`, or a postgres:// URL. */
  target: string;
}

export function parseStoreUrl(url: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(url)) return { engine: 'postgres', target: url };
  if (url.startsWith('sqlite:'))
    return { engine: 'sqlite', target: url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') };
  if (/^[a-z]+:\/\//i.test(url)) {
    throw new UsageError(`store url '${redactUrl(url)}' is not supported; use a SQLite path or postgres://…`);
  }
  return { engine: 'sqlite', target: url };
}

/** Never print a password that may sit in a postgres URL. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}

function describeOpenError(location: StoreLocation, err: unknown): DormantError {
  const e = err as { code?: string; message?: string };
  const where = location.engine === 'postgres' ? redactUrl(location.target) : location.target;
  const code = e?.code ?? '';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || /not a database|malformed/i.test(e?.message ?? '')) {
    return new StoreError(
      `store ${where} is not a valid SQLite database (${code || 'corrupt'}); it was left untouched: restore it from a backup or move it aside and pass --db`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') {
    return new StoreError(`cannot open store ${where} (${code}); check the path and its permissions, or pass --db`, {
      cause: err,
    });
  }
  if (location.engine === 'postgres') {
    return new StoreError(
      `cannot use PostgreSQL store ${where} (${code || (e?.message ?? 'error').split('\n')[0]}); check the server is running and the URL`,
      { cause: err },
    );
  }
  return new StoreError(`cannot open store ${where}: ${(e?.message ?? String(err)).split('\n')[0]}`, { cause: err });
}

/**
 * A read-only command found no store: a SQLite file that does not exist yet. Exit 2 (the
 * command asked about something that cannot be there), naming what creates the store.
 */
export class NoStoreError extends UsageError {
  constructor(readonly where: string) {
    super(noStoreYet(where));
  }
}

/** `no store at .dormant/state.db yet; 'dormant plan' creates it (or pass --db …)`. */
export function noStoreYet(where: string): string {
  return `no store at ${where} yet; 'dormant plan' creates it (or pass --db if it is elsewhere)`;
}

export interface OpenOptions {
  /**
   * false: open only a SQLite store that already exists; a missing file throws NoStoreError
   * and nothing is created (no directory, no file, no migrations). PostgreSQL and `:memory:`
   * open as usual. Default true.
   */
  create?: boolean;
}

export class Store {
  private constructor(
    readonly db: Kysely<Database>,
    readonly location: StoreLocation,
  ) {}

  /** A store that exists, or null for a SQLite file that is not there yet (nothing created). */
  static async openExisting(url: string): Promise<Store | null> {
    try {
      return await Store.open(url, { create: false });
    } catch (err) {
      if (err instanceof NoStoreError) return null;
      throw err;
    }
  }

  static async open(url: string, options: OpenOptions = {}): Promise<Store> {
    const create = options.create ?? true;
    const location = parseStoreUrl(url);
    let db: Kysely<Database>;
    try {
      if (location.engine === 'sqlite') {
        if (location.target !== ':memory:') {
          if (existsSync(location.target) && statSync(location.target).isDirectory()) {
            throw new UsageError(`store ${location.target} is a directory; pass a file path to --db`);
          }
          if (!create && !existsSync(location.target)) throw new NoStoreError(location.target);
          if (create) mkdirSync(dirname(location.target), { recursive: true });
        }
        // Without create, a file removed since the check above fails to open (SQLITE_CANTOPEN)
        // rather than being created empty.
        const sqlite = new SqliteDatabase(location.target, {
          fileMustExist: !create && location.target !== ':memory:',
        });
        // Refuse a damaged file before anything (WAL, migrations) writes to it.
        const check = sqlite.pragma('quick_check', { simple: true }) as unknown;
        if (check !== 'ok') {
          sqlite.close();
          throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
        }
        // Durability first: a crash mid-apply must never lose a committed journal step.
        sqlite.pragma('busy_timeout = 10000');
        sqlite.pragma('journal_mode = WAL');
        sqlite.pragma('synchronous = FULL');
        sqlite.pragma('foreign_keys = ON');
        db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
      } else {
        const pool = new pg.Pool({ connectionString: location.target, max: 4, connectionTimeoutMillis: 10_000 });
        // An idle client error (the server went away) must not crash the process.
        pool.on('error', () => undefined);
        // Nor may one that dies while checked out between queries (the pool listens only to idle
        // clients): its next query fails with the error, which the caller reports in one line.
        pool.on('connect', (client) => client.on('error', () => undefined));
        db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      }
    } catch (err) {
      if (err instanceof DormantError) throw err;
      throw describeOpenError(location, err);
    }
    const store = new Store(db, location);
    try {
      const migrator = new Migrator({ db, provider: migrationProvider });
      const { error } = await migrator.migrateToLatest();
      if (error) throw error;
    } catch (err) {
      await db.destroy().catch(() => undefined);
      throw describeOpenError(location, err);
    }
    return store;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** Run `fn` in one transaction; any failure rolls everything back (no half-written state). */
  async transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute(fn);
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /** Translate a driver error raised while using the store; anything else (a bug) passes through. */
  wrap(err: unknown): unknown {
    if (err instanceof DormantError) return err;
    if (isDriverError(err)) return describeOpenError(this.location, err);
    return err;
  }

  // ---- locks -------------------------------------------------------------------------

  /**
   * Take a named lock. A lock held by a live process (or, on another host, not yet expired)
   * wins; a lock whose process died on this host, or that expired, is taken over with a
   * compare-and-swap so that two contenders cannot both win.
   */
  async acquireLock(name: string, ttlMs: number): Promise<{ owner: string } | { heldBy: string }> {
    const owner = newId('run');
    const host = hostname();
    const now = Date.now();
    const row = {
      name,
      owner,
      host,
      pid: process.pid,
      acquired_at: new Date(now).toISOString(),
      expires_at: new Date(now + ttlMs).toISOString(),
    };
    try {
      await this.db.insertInto('locks').values(row).execute();
      return { owner };
    } catch {
      // Held already: see whether it is stale.
    }
    const current = await this.db.selectFrom('locks').selectAll().where('name', '=', name).executeTakeFirst();
    if (!current) return this.acquireLock(name, ttlMs);
    const expired = Date.parse(current.expires_at) < now;
    const deadHere = current.host === host && !processAlive(current.pid);
    if (!expired && !deadHere) return { heldBy: `${current.owner} (pid ${current.pid} on ${current.host})` };
    const res = await this.db
      .updateTable('locks')
      .set(row)
      .where('name', '=', name)
      .where('owner', '=', current.owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1 ? { owner } : { heldBy: 'another apply that just took it' };
  }

  async renewLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const res = await this.db
      .updateTable('locks')
      .set({ expires_at: new Date(Date.now() + ttlMs).toISOString() })
      .where('name', '=', name)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /**
   * Remove the locks under `prefix` whose holder is gone: expired, or held by a process of this
   * host that no longer runs (a kill -9 between an item's outcome and its lock's release leaves
   * one that no later run would take over). A live holder's lock is never touched.
   */
  async releaseStaleLocks(prefix: string): Promise<number> {
    const rows = await this.db.selectFrom('locks').selectAll().where('name', 'like', `${prefix}%`).execute();
    const host = hostname();
    const now = Date.now();
    let released = 0;
    for (const row of rows) {
      const stale = Date.parse(row.expires_at) < now || (row.host === host && !processAlive(row.pid));
      if (!stale) continue;
      const res = await this.db
        .deleteFrom('locks')
        .where('name', '=', row.name)
        .where('owner', '=', row.owner)
        .executeTakeFirst();
      released += Number(res.numDeletedRows);
    }
    return released;
  }

  async releaseLock(name: string, owner: string): Promise<void> {
    await this.db.deleteFrom('locks').where('name', '=', name).where('owner', '=', owner).execute();
  }

  /**
   * Run `fn` holding the named lock, renewing it while `fn` runs. `lease.lost()` turns true
   * when another process took the lock over (this one stalled past the TTL); `fn` should stop
   * at the next safe point. Refuses with `held` when a live holder has it.
   */
  async withLock<T>(
    name: string,
    ttlMs: number,
    fn: (lease: { lost(): boolean }) => Promise<T>,
  ): Promise<{ held: string } | { value: T }> {
    const lock = await this.acquireLock(name, ttlMs);
    if ('heldBy' in lock) return { held: lock.heldBy };
    let lost = false;
    const heartbeat = setInterval(
      () =>
        void this.renewLock(name, lock.owner, ttlMs)
          .then((held) => {
            if (!held) lost = true;
          })
          .catch(() => undefined),
      ttlMs / 4,
    );
    try {
      return { value: await fn({ lost: () => lost }) };
    } finally {
      clearInterval(heartbeat);
      await this.releaseLock(name, lock.owner).catch(() => undefined);
    }
  }

  // ---- audit ---------------------------------------------------------------------------

  async audit(db: Db, event: AuditEvent): Promise<void> {
    await writeAudit(db, event);
  }

  /** A health probe: one cheap read. */
  async ping(): Promise<void> {
    await this.db.selectFrom('plans').select('id').limit(1).execute();
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']);

/** Errors from better-sqlite3, pg or the network, as opposed to bugs in the caller. */
function isDriverError(err: unknown): boolean {
  if (err instanceof SqliteDatabase.SqliteError || err instanceof pg.DatabaseError) return true;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('SQLITE_'))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    (err as Error)?.message ?? '',
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
