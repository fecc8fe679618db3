// Test harness: a fresh PostgreSQL database per test file on the server named by
// DORMANT_TEST_PG_URL (default postgres://dormant@127.0.0.1:5432/dormant_test), so
// test files running in parallel never see each other's rows. See DESIGN.md §5.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_TEST_PG_URL = 'postgres://dormant@127.0.0.1:5432/dormant_test';

/** The server the tests use (the role needs CREATEDB). */
export function testPgUrl(): string {
  return process.env.DORMANT_TEST_PG_URL || DEFAULT_TEST_PG_URL;
}

export interface FreshPgDatabase {
  /** postgres:// URL of the new, empty database. */
  url: string;
  /** Drops the database (closing any connection still open to it); safe to call more than once. */
  drop(): Promise<void>;
}

/** The URL of another database on the same server. */
function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `dormant_t_<random>` on the test server. Call `drop()` in afterAll. */
export async function freshPgDatabase(): Promise<FreshPgDatabase> {
  const admin = testPgUrl();
  const name = `dormant_t_${randomBytes(6).toString('hex')}`;
  await withClient(admin, (c) => c.query(`CREATE DATABASE ${name}`));
  let dropping: Promise<void> | undefined;
  return {
    url: withDatabase(admin, name),
    drop(): Promise<void> {
      dropping ??= withClient(admin, async (c) => {
        // PostgreSQL 13+: end the connections a test may have leaked, then drop.
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
      return dropping;
    },
  };
}

/**
 * Empties every table of dormant's schema in a database (keeping Kysely's migration
 * tables), so tests of one file can share its database without seeing each other's rows.
 * Does nothing to a database that has no tables yet.
 */
export async function clearPgDatabase(url: string): Promise<void> {
  await withClient(url, async (c) => {
    const { rows } = await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%'`,
    );
    if (rows.length === 0) return;
    await c.query(`TRUNCATE ${rows.map((r) => `"${r.table_name}"`).join(', ')} RESTART IDENTITY CASCADE`);
  });
}
