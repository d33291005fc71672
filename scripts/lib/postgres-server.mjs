/**
 * A throw-away PostgreSQL cluster from the Debian server binaries
 * (`apt-get install postgresql-15`): initdb into a temp dir, listening on a
 * free loopback port, trust auth, never the system cluster. Used by the
 * tests (test/postgres-server.ts re-exports it), `npm run demo:cluster` and
 * the bench, so it is written once.
 *
 * initdb and postgres refuse to run as root, so under root they run as the
 * `postgres` system user the Debian package creates, in a directory it owns.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.mjs';

const CANDIDATES = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];
/** $MEDTEL_PG_BIN, else the first Debian PostgreSQL (15, 16, 17) installed; 15 is what CI installs. */
export const PG_BIN = process.env.MEDTEL_PG_BIN ?? CANDIDATES.find((d) => existsSync(join(d, 'initdb'))) ?? CANDIDATES[0];

export function postgresAvailable() {
  return existsSync(join(PG_BIN, 'initdb'));
}

/** Why a throw-away cluster cannot start here, with the fix; undefined when it can. */
export function postgresMissing() {
  if (postgresAvailable()) return undefined;
  return `PostgreSQL server binaries not found in ${PG_BIN}: sudo apt-get install -y postgresql-15 (or set MEDTEL_PG_BIN to a PostgreSQL bin directory)`;
}

const asRoot = process.getuid?.() === 0;

function ids(user) {
  const id = (flag) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

function run(cmd, args) {
  const full = join(PG_BIN, cmd);
  const result = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { encoding: 'utf8', timeout: 120_000 })
    : spawnSync(full, args, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${cmd} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout || result.error?.message}`);
}

/**
 * Starts a cluster; resolves with { port, url(db), database(), stop(), start(), remove() }.
 * `maxConnections`: replicas × poolSize plus tools (default 200).
 */
export async function startPostgres({ maxConnections = 200 } = {}) {
  const missing = postgresMissing();
  if (missing) throw new Error(missing);
  // Its own dir right under the temp dir: the caller's may be root-only (0700) and `postgres` could not enter it.
  const dir = mkdtempSync(join(tmpdir(), 'medtel-pg-'));
  if (asRoot) {
    const { uid, gid } = ids('postgres');
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  // fsync on: a PUBACK means committed, as in production.
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=${maxConnections}`,
      'start',
    ]);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  const url = (db) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  let n = 0;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      stop();
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    port,
    dir,
    url,
    /** postgres://… of a new, empty database (`name`, else a fresh one). */
    database: async (name = `t${process.pid}_${++n}`) => {
      const client = new pg.Client(url('postgres'));
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    /** pg_ctl stop -m fast: the cluster goes down (readiness tests); start() brings it back on the same port. */
    stop,
    start,
    /** Stops the cluster and removes its directory. */
    remove,
  };
}
