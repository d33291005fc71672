/**
 * The `peers` rows of medtel on PostgreSQL: 1 replica, and 2 replicas sharing
 * Redis (issue #13). They appear once the collector supports them: the bench
 * asks `medtel-collector check` whether a config with `store: postgres://…`
 * (and `redis: redis://…`) is valid, and needs the PostgreSQL 15 server
 * binaries (and redis-server). Until then the rows say why they are missing.
 *
 * The bench runs its own throw-away servers in temp dirs, never
 * the system ones: a PostgreSQL cluster (initdb, pg_ctl on a free loopback
 * port, fsync on, trust auth on loopback; as the `postgres` user when the
 * bench runs as root, since initdb refuses root) and redis-server without
 * persistence. The replicas get the gateways dealt round-robin, as a TCP load
 * balancer in front of them would spread them.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { track } from './cleanup.mjs';
import { startCollector } from './collector.mjs';
import { scrape } from './collector-metrics.mjs';
import { freePort, HOST } from './net.mjs';
import { withTimeout } from './timing.mjs';

const require = createRequire(import.meta.url);
const COLLECTOR_CLI = join(dirname(require.resolve('@medtel/collector')), 'cli.js');
const PG_BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) => existsSync(join(d, 'initdb')));
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((f) => existsSync(f));
const NEEDS_PG = 'not available: needs the PostgreSQL store';
const NEEDS_REDIS = 'not available: needs the PostgreSQL store and Redis replicas';

/** Whether `medtel-collector check` accepts a config with these lines (nothing is connected to). */
function collectorAccepts(lines) {
  const dir = join(process.env.TMPDIR ?? '/tmp', `medtel-bench-check-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'check.yaml');
  writeFileSync(file, ['mqtt: { plain: { enabled: true } }', ...lines, 'gateways: []', ''].join('\n'), { mode: 0o600 });
  const r = spawnSync(process.execPath, [COLLECTOR_CLI, 'check', '-c', file], { encoding: 'utf8', timeout: 20_000 });
  spawnSync('rm', ['-rf', dir]);
  return r.status === 0;
}

let pgSupported;
let redisSupported;
function whyNot(replicas) {
  pgSupported ??= collectorAccepts(['store: "postgres://bench@127.0.0.1:1/medtel"']);
  if (!pgSupported) return replicas > 1 ? NEEDS_REDIS : NEEDS_PG;
  if (!PG_BIN) return 'not available: PostgreSQL server binaries missing (apt-get install -y postgresql-15)';
  if (replicas === 1) return undefined;
  redisSupported ??= collectorAccepts(['store: "postgres://bench@127.0.0.1:1/medtel"', 'redis: "redis://127.0.0.1:1"']);
  if (!redisSupported) return 'not available: needs Redis replica support in the collector';
  if (!REDIS_SERVER) return 'not available: redis-server missing (apt-get install -y redis-server)';
  return undefined;
}

/** Runs a PostgreSQL tool, as `postgres` when we are root (initdb and postgres refuse root). */
function pgTool(tool, args, dir) {
  const asRoot = process.getuid?.() === 0;
  if (asRoot)
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const cmd = asRoot ? 'runuser' : join(PG_BIN, tool);
  const argv = asRoot ? ['-u', 'postgres', '--', join(PG_BIN, tool), ...args] : args;
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

/** A throw-away cluster in `dir`; returns {url, stop}. */
export async function startPostgres() {
  // Its own dir right under the temp dir: the scenario's is root-only (0700) and `postgres` could not enter it.
  const pgDir = mkdtempSync(join(os.tmpdir(), 'medtel-bench-pg-'));
  const port = await freePort();
  pgTool('initdb', ['-D', join(pgDir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync'], pgDir);
  pgTool(
    'pg_ctl',
    ['-D', join(pgDir, 'data'), '-l', join(pgDir, 'postgres.log'), '-w', '-o', `-p ${port} -k ${pgDir} -c listen_addresses=${HOST} -c fsync=on`, 'start'],
    pgDir,
  );
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      pgTool('pg_ctl', ['-D', join(pgDir, 'data'), '-m', 'fast', '-w', 'stop'], pgDir);
    } catch {
      // already stopped
    }
    rmSync(pgDir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  pgTool('createdb', ['-h', HOST, '-p', String(port), '-U', 'postgres', 'medtel'], pgDir);
  return { url: `postgres://postgres@${HOST}:${port}/medtel`, stop };
}

async function startRedis(dir) {
  const port = await freePort();
  const child = track(spawn(REDIS_SERVER, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }));
  await withTimeout(
    (async () => {
      const { connect } = await import('node:net');
      for (;;) {
        const ok = await new Promise((r) => {
          const s = connect({ host: HOST, port }, () => r(!s.destroy()));
          s.on('error', () => r(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    })(),
    10_000,
    'waiting for redis-server',
  );
  return {
    url: `redis://${HOST}:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function startMedtelPg(dir, gateways, replicas) {
  const pg = await startPostgres();
  const redis = replicas > 1 ? await startRedis(dir) : undefined;
  const collectors = [];
  for (let i = 1; i <= replicas; i++) {
    const rdir = join(dir, `replica-${i}`);
    mkdirSync(rdir);
    collectors.push(await startCollector(rdir, gateways, { store: pg.url, redis: redis?.url }));
  }
  return {
    pids: collectors.map((c) => c.pid),
    ports: collectors.map((c) => c.mqttPort),
    exited: Promise.race(collectors.map((c) => c.exited)),
    committed: async () => {
      const ms = await Promise.all(collectors.map((c) => scrape(c.httpUrl)));
      const sum = (f) => ms.reduce((n, m) => n + f(m), 0);
      return {
        messages: sum((m) => m.dataStored),
        readings: sum((m) => m.readings),
        duplicates: sum((m) => m.dataDuplicate),
        quarantined: sum((m) => m.quarantined),
        commitErrors: sum((m) => m.commitErrors),
        commits: sum((m) => m.batchCount),
        batchSum: sum((m) => m.batchSum),
        commitSecondsSum: sum((m) => m.commitSecondsSum),
      };
    },
    stop: async () => {
      const results = await Promise.all(collectors.map((c) => c.stop()));
      await redis?.stop();
      pg.stop();
      return results.find((r) => r.code !== 0 || r.timedOut) ?? results[0];
    },
    log: collectors[0].log,
    collectors,
  };
}

export const PG_PEERS = [1, 2].map((replicas) => ({
  name: `medtel-pg-${replicas}`,
  label: `medtel collector, PostgreSQL, ${replicas} replica${replicas > 1 ? 's + Redis' : ''}`,
  durable: true,
  available: () => whyNot(replicas),
  start: (dir, gateways) => startMedtelPg(dir, gateways, replicas),
}));
