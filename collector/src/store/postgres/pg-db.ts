import pg from 'pg';

/**
 * The pool and the few helpers every PostgreSQL sub-store uses. The SQL is
 * written with SQLite's `?` (positional) and `@name` (named) placeholders,
 * like the SQLite store it mirrors, and turned into `$n` here: the two
 * backends' queries stay side by side readable.
 */

/** A pool or a client inside a transaction: both run queries. */
export interface Queryable {
  query<R extends pg.QueryResultRow = Row>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export type Row = Record<string, unknown>;

// Epoch-ms columns and counts are BIGINT; their values fit a JS number (2^53), so read them as numbers.
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PgOptions {
  url: string;
  password?: string;
  poolSize?: number;
}

export function createPool(o: PgOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    ...(o.password !== undefined ? { password: o.password } : {}),
    max: o.poolSize ?? 10,
    types,
    // A PostgreSQL that went away must fail a query fast (readyz), not hang it.
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its connection (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // A client in use when the server goes away emits 'error' too (its query also rejects, which is what callers see).
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** `?` and `@name` placeholders to `$n`. */
export function bind(sql: string, args: unknown[] | Record<string, unknown> = []): { text: string; values: unknown[] } {
  if (Array.isArray(args)) {
    let i = 0;
    return { text: sql.replace(/\?/g, () => `$${++i}`), values: args };
  }
  const values: unknown[] = [];
  const index = new Map<string, number>();
  const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => {
    let n = index.get(name);
    if (n === undefined) {
      values.push(args[name] === undefined ? null : args[name]);
      n = values.length;
      index.set(name, n);
    }
    return `$${n}`;
  });
  return { text, values };
}

export async function all<R = Row>(db: Queryable, sql: string, args?: unknown[] | Record<string, unknown>): Promise<R[]> {
  const { text, values } = bind(sql, args);
  return (await db.query(text, values)).rows as R[];
}

export async function one<R = Row>(db: Queryable, sql: string, args?: unknown[] | Record<string, unknown>): Promise<R | undefined> {
  return (await all<R>(db, sql, args))[0];
}

/** Rows changed. */
export async function run(db: Queryable, sql: string, args?: unknown[] | Record<string, unknown>): Promise<number> {
  const { text, values } = bind(sql, args);
  return (await db.query(text, values)).rowCount ?? 0;
}

/** One transaction on one pooled connection: committed if `work` resolves, rolled back if it throws. */
export async function tx<T>(pool: pg.Pool, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    // A connection whose rollback failed is in an unknown state: discard it.
    client.release(broken);
  }
}

/** Advisory lock keys (one 64-bit space per database). */
export const LOCKS = {
  migrate: 7_201_301,
  audit: 7_201_302,
  partitions: 7_201_303,
  retention: 7_201_304,
} as const;

/** The URL with its password replaced, for logs. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
