/** Types of redis-server.mjs, for the tests. */
export const REDIS_SERVER: string;
export const haveRedis: boolean;
export function redisMissing(): string | undefined;
export interface ThrowAwayRedis {
  url: string;
  port: number;
  pid(): number | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}
export function startRedis(): Promise<ThrowAwayRedis>;
