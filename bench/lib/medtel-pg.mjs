/**
 * The `peers` rows of medtel on PostgreSQL: 1 replica, and 2 replicas sharing
 * Redis (issue #13). They appear once the collector supports them: the bench
 * asks `medtel-collector check` whether a config with `store: postgres://…`
 * (and `redis: redis://…`) is valid, and needs the PostgreSQL 15 server
 * binaries (and redis-server). Until then the rows say why they are missing.
 *
 * The bench runs its own throw-away servers in temp dirs, never
 * the system ones (scripts/lib/, shared with the tests and `demo:cluster`):
 * a PostgreSQL cluster (initdb, pg_ctl on a free loopback port, fsync on,
 * trust auth on loopback; as the `postgres` user when the bench runs as
 * root, since initdb refuses root) and redis-server without persistence. The replicas get the gateways dealt round-robin, as a TCP load
 * balancer in front of them would spread them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { postgresMissing, startPostgres } from '../../scripts/lib/postgres-server.mjs';
import { redisMissing, startRedis } from '../../scripts/lib/redis-server.mjs';
import { startCollector } from './collector.mjs';
import { scrape } from './collector-metrics.mjs';

const require = createRequire(import.meta.url);
const COLLECTOR_CLI = join(dirname(require.resolve('@medtel/collector')), 'cli.js');
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
  const noPg = postgresMissing();
  if (noPg) return `not available: ${noPg}`;
  if (replicas === 1) return undefined;
  redisSupported ??= collectorAccepts(['store: "postgres://bench@127.0.0.1:1/medtel"', 'redis: "redis://127.0.0.1:1"']);
  if (!redisSupported) return 'not available: needs Redis replica support in the collector';
  const noRedis = redisMissing();
  return noRedis ? `not available: ${noRedis}` : undefined;
}

async function startMedtelPg(dir, gateways, replicas) {
  const pg = await startPostgres();
  process.once('exit', () => pg.remove());
  const url = await pg.database('medtel');
  const redis = replicas > 1 ? await startRedis() : undefined;
  // A failed run exits without stop(): the server must not outlive the bench.
  process.once('exit', () => {
    const pid = redis?.pid();
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone (stopped by stop())
    }
  });
  const collectors = [];
  for (let i = 1; i <= replicas; i++) {
    const rdir = join(dir, `replica-${i}`);
    mkdirSync(rdir);
    collectors.push(await startCollector(rdir, gateways, { store: url, redis: redis?.url }));
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
      await redis?.close();
      pg.remove();
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
