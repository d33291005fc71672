/**
 * A throw-away redis-server on a free loopback port (scripts/lib/redis-server.mjs,
 * shared with `npm run demo:cluster` and the bench). CI installs it
 * (apt-get install redis-server); tests that need it are skipped where it is missing.
 */
export { haveRedis, REDIS_SERVER, startRedis, type ThrowAwayRedis as TestRedis } from '../scripts/lib/redis-server.mjs';
