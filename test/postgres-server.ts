import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './helpers.js';

/**
 * A throw-away PostgreSQL 15 cluster for tests: initdb into a temp dir,
 * listening on a free loopback port, never the system cluster. initdb and
 * postgres refuse to run as root, so under root they run as the `postgres`
 * system user the Debian package creates (`apt-get install postgresql-15`).
 * Start one per test file (beforeAll), hand out a fresh database per test
 * (`database()`), stop it in afterAll.
 */
export const PG_BIN = process.env.MEDTEL_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function postgresAvailable(): boolean {
  return existsSync(join(PG_BIN, 'initdb'));
}

export interface TestPostgres {
  port: number;
  /** postgres://… of a new, empty database. */
  database(): Promise<string>;
  /** pg_ctl stop -m fast: the cluster goes down (readiness tests); start() brings it back on the same port. */
  stop(): void;
  start(): void;
  /** Stops the cluster and removes its directory. */
  remove(): void;
}

const asRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[]): void {
  const full = join(PG_BIN, cmd);
  const result = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { encoding: 'utf8' }) : spawnSync(full, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'medtel-pg-'));
  if (asRoot) execFileSync('chown', ['-R', 'postgres', dir]);
  else chownSync(dir, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  const data = join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
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
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200`,
      'start',
    ]);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  let n = 0;
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    database: async () => {
      const name = `t${process.pid}_${++n}`;
      const client = new pg.Client(admin);
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    start,
    remove: () => {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
