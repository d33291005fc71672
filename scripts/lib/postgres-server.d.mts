/** Types of postgres-server.mjs, for the tests. */
export const PG_BIN: string;
export function postgresAvailable(): boolean;
export function postgresMissing(): string | undefined;
export interface ThrowAwayPostgres {
  port: number;
  dir: string;
  url(db: string): string;
  database(name?: string): Promise<string>;
  stop(): void;
  start(): void;
  remove(): void;
}
export function startPostgres(options?: { maxConnections?: number }): Promise<ThrowAwayPostgres>;
