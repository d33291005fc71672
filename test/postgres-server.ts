import { PG_BIN, postgresAvailable, startPostgres, type ThrowAwayPostgres } from '../scripts/lib/postgres-server.mjs';

/**
 * A throw-away PostgreSQL 15 cluster for tests (scripts/lib/postgres-server.mjs,
 * shared with `npm run demo:cluster` and the bench): initdb into a temp dir,
 * listening on a free loopback port, never the system cluster. Start one per
 * test file (beforeAll), hand out a fresh database per test (`database()`),
 * stop it in afterAll.
 */
export { PG_BIN, postgresAvailable };

export type TestPostgres = Pick<ThrowAwayPostgres, 'port' | 'database' | 'stop' | 'start' | 'remove'>;

export function startTestPostgres(): Promise<TestPostgres> {
  return startPostgres();
}
