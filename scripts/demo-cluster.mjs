#!/usr/bin/env node
// npm run demo:cluster: the scale-out topology on loopback (docs/scale-out.md).
// A throw-away PostgreSQL cluster and redis-server (Debian binaries), two
// collector replicas sharing them, scripts/tcp-balancer.mjs in front (one
// port for MQTT, one for HTTP), and two gateways (an agent + a pump simulator
// each) connecting through the balancer. Ctrl-C stops everything and removes
// the PostgreSQL and Redis data; configs and logs stay in the demo directory.
//
//   node scripts/demo-cluster.mjs [--dir DIR]     (default .demo-cluster/)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecret, hashSecret, issueToken, loadOrCreateSigningKey } from '@medtel/collector';
import { createProcessGroup } from './lib/demo-processes.mjs';
import { freePort, portNear } from './lib/free-port.mjs';
import { postgresMissing, startPostgres } from './lib/postgres-server.mjs';
import { redisMissing, startRedis } from './lib/redis-server.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dirArg = process.argv.indexOf('--dir');
const dir = dirArg > 0 ? resolve(process.argv[dirArg + 1]) : join(root, '.demo-cluster');
const shown = (path) => (isAbsolute(path) && path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path);
const say = (line) => process.stdout.write(`${line}\n`);
const cli = (workspace) => join(root, workspace, 'dist', 'cli.js');

const REPLICAS = ['a', 'b'];
const GATEWAYS = ['gw-north', 'gw-south'];

const group = createProcessGroup({ cwd: dir, logDir: join(dir, 'logs'), say, onUnexpectedExit: () => shutdown(1) });
let pg;
let redis;

let shuttingDown = false;
async function shutdown(code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('\ndemo:cluster: stopping agents, simulators, balancers, replicas, Redis and PostgreSQL...');
  // Agents first, so their last readings still reach a replica; the balancers before the replicas,
  // so no gateway is sent to a replica that is going away.
  await group.stopAll([
    ...GATEWAYS.map((g) => `agent-${g}`),
    ...GATEWAYS.map((g) => `pump-${g}`),
    'balancer-mqtt',
    'balancer-http',
    ...REPLICAS.map((r) => `collector-${r}`),
  ]);
  await redis?.close();
  pg?.remove();
  rmSync(join(dir, 'data'), { recursive: true, force: true });
  say(`demo:cluster: stopped; PostgreSQL, Redis and agent data removed (configs and logs kept in ${shown(dir)}/).`);
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

function collectorYaml({ mqtt, http, store, redisUrl, gateways }) {
  return [
    '# written by npm run demo:cluster: one of two replicas sharing PostgreSQL and Redis (docs/scale-out.md)',
    `mqtt: { host: 127.0.0.1, port: ${mqtt}, plain: { enabled: true } }`,
    `http: { host: 127.0.0.1, port: ${http} }`,
    `store: ${JSON.stringify(store)}`,
    // A short heartbeat: a replica that dies has its wills published by the other within seconds.
    `redis: { url: ${JSON.stringify(redisUrl)}, brokerHeartbeat: 2s }`,
    // Every replica signs and checks tokens with the same key.
    'auth: { keyFile: ./data/token-signing.key }',
    'gateways:',
    ...gateways.map((g) => `  - { id: ${g.id}, secretHash: ${JSON.stringify(g.secretHash)} }`),
    '',
  ].join('\n');
}

function agentYaml({ gateway, collectorPort, httpPort, modbusPort }) {
  return [
    '# written by npm run demo:cluster: connects through the MQTT balancer, so either replica may hold it',
    `gateway: { id: ${gateway}, site: ${gateway.replace(/^gw-/, '')}-hospital }`,
    `collector: { url: "mqtt://127.0.0.1:${collectorPort}", secretFile: ${gateway}.secret }`,
    `stateDir: ./data/${gateway}`,
    `http: { port: ${httpPort} }`,
    'devices:',
    '  - id: pump-1',
    '    profile: medtel-mt-lvp-100',
    `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${modbusPort}, unitId: 1 }`,
    '    pollInterval: 1s',
    '',
  ].join('\n');
}

/** The PostgreSQL server's pid (first line of postmaster.pid). */
function postmasterPid(pgDir) {
  return Number(readFileSync(join(pgDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Latest readings of `device` through `base` (a replica or the balancer); undefined until there are some. */
async function readings(base, token, device) {
  const res = await fetch(`${base}/api/v1/devices/${device}/telemetry?limit=1`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const body = await res.json();
  return body.count > 0 ? body : undefined;
}

async function main() {
  const missing = [postgresMissing(), redisMissing()].filter(Boolean);
  if (missing.length) {
    say('demo:cluster needs the PostgreSQL and Redis server binaries (Debian packages), and some are missing:');
    for (const m of missing) say(`  - ${m}`);
    say('Install both with: sudo apt-get install -y postgresql-15 redis-server');
    say('(the demo never uses the system services: it starts its own throw-away ones on free loopback ports)');
    process.exit(1);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'data'));

  say('demo:cluster: starting a throw-away PostgreSQL cluster and redis-server...');
  pg = await startPostgres();
  const store = await pg.database('medtel');
  redis = await startRedis();

  const ports = {
    mqtt: await portNear(1883),
    http: await portNear(8080),
    replicas: await Promise.all(REPLICAS.map(async () => ({ mqtt: await freePort(), http: await freePort() }))),
    agents: await Promise.all(GATEWAYS.map(async () => ({ http: await freePort(), modbus: await freePort() }))),
  };
  const gateways = [];
  for (const id of GATEWAYS) {
    const secret = generateSecret();
    writeFileSync(join(dir, `${id}.secret`), `${secret}\n`, { mode: 0o600 });
    gateways.push({ id, secretHash: await hashSecret(secret) });
  }
  // Created before either replica starts, so both read the same key.
  const key = await loadOrCreateSigningKey(join(dir, 'data', 'token-signing.key'));

  for (const [i, name] of REPLICAS.entries()) {
    writeFileSync(join(dir, `collector-${name}.yaml`), collectorYaml({ ...ports.replicas[i], store, redisUrl: redis.url, gateways }));
    say(`demo:cluster: starting collector replica ${name}...`);
    // One after the other: the first migrates the schema, the second finds it done.
    await group.start(`collector-${name}`, cli('collector'), ['run', '--config', `collector-${name}.yaml`], /collector started/);
  }
  say('demo:cluster: starting the TCP balancers (MQTT and HTTP) in front of both replicas...');
  const backends = (port) => ports.replicas.flatMap((r) => ['--backend', `127.0.0.1:${r[port]}=http://127.0.0.1:${r.http}/readyz`]);
  const balancer = join(root, 'scripts', 'tcp-balancer.mjs');
  await group.start('balancer-mqtt', balancer, ['--listen', `127.0.0.1:${ports.mqtt}`, ...backends('mqtt')], /tcp balancer listening/);
  await group.start('balancer-http', balancer, ['--listen', `127.0.0.1:${ports.http}`, ...backends('http')], /tcp balancer listening/);

  for (const [i, gateway] of GATEWAYS.entries()) {
    const { modbus, http } = ports.agents[i];
    say(`demo:cluster: starting ${gateway}: a pump simulator and its agent...`);
    await group.start(
      `pump-${gateway}`,
      cli('simulators'),
      ['pump', '--modbus-tcp', `127.0.0.1:${modbus}`, '--serial', `CLUSTER-${i + 1}`],
      /pump simulator listening/,
    );
    writeFileSync(join(dir, `agent-${gateway}.yaml`), agentYaml({ gateway, collectorPort: ports.mqtt, httpPort: http, modbusPort: modbus }));
    await group.start(`agent-${gateway}`, cli('agent'), ['run', '--config', `agent-${gateway}.yaml`], /agent started/);
  }

  const token = await issueToken(key, { sub: 'demo-technician', role: 'technician', ttl: '8h' });
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const replicaUrls = ports.replicas.map((r) => `http://127.0.0.1:${r.http}`);
  // Wait until each gateway's readings are readable on each replica: the point of the demo.
  const deadline = Date.now() + 60_000;
  for (const gateway of GATEWAYS)
    for (const base of replicaUrls)
      while (!(await readings(base, token, `${gateway}.pump-1`))) {
        if (Date.now() > deadline) throw new Error(`no readings of ${gateway}.pump-1 on ${base} within 60 s; see ${shown(dir)}/logs/`);
        await new Promise((r) => setTimeout(r, 500));
      }
  writeFileSync(
    join(dir, 'cluster.json'),
    `${JSON.stringify({ balancer: { mqtt: ports.mqtt, http: `http://127.0.0.1:${ports.http}` }, replicas: replicaUrls, gateways: GATEWAYS, postgres: store, redis: redis.url, postgresDir: pg.dir, pids: { ...group.pids(), postgres: postmasterPid(pg.dir), redis: redis.pid() } }, null, 2)}\n`,
  );

  const tokenFile = `${shown(dir)}/token`;
  say('');
  say('medtel demo:cluster is running: two collector replicas on PostgreSQL + Redis, behind a TCP balancer.');
  say('');
  say(`  PostgreSQL:  ${store}   (throw-away cluster in ${pg.dir})`);
  say(`  Redis:       ${redis.url}`);
  for (const [i, name] of REPLICAS.entries())
    say(`  Replica ${name}:   MQTT 127.0.0.1:${ports.replicas[i].mqtt}   HTTP ${replicaUrls[i]}   (config ${shown(dir)}/collector-${name}.yaml)`);
  say(`  Balancer:    MQTT mqtt://127.0.0.1:${ports.mqtt}   HTTP http://127.0.0.1:${ports.http}   (round-robin over the replicas whose /readyz is 200)`);
  say(`  Gateways:    ${GATEWAYS.join(', ')}: an agent and a pump simulator each, connected through the MQTT balancer`);
  say(`  Token:       a technician's, valid 8 h, in ${tokenFile}`);
  say('');
  say('  Both replicas serve the same data (one PostgreSQL):');
  say(`    TOKEN=$(cat ${tokenFile})`);
  for (const gateway of GATEWAYS)
    for (const base of replicaUrls)
      say(`    curl -s -H "Authorization: Bearer $TOKEN" '${base}/api/v1/devices/${gateway}.pump-1/telemetry?metric=rate&limit=3'`);
  say('  Readiness of each replica (PostgreSQL, Redis, broker):');
  for (const base of replicaUrls) say(`    curl -s ${base}/readyz`);
  say(`  Through the HTTP balancer: curl -s -H "Authorization: Bearer $TOKEN" 'http://127.0.0.1:${ports.http}/api/v1/devices'`);
  say(`  Lose a replica: kill the pid of collector-a (ps -ef | grep collector-a.yaml); its gateway reconnects to b.`);
  say(`  Logs: ${shown(dir)}/logs/   Configs: ${shown(dir)}/*.yaml   Docs: docs/scale-out.md`);
  say('');
  say('Press Ctrl-C to stop (removes the PostgreSQL and Redis data).');
}

main().catch((err) => {
  say(`demo:cluster: ${err.message}`);
  shutdown(1);
});
