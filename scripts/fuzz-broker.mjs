#!/usr/bin/env node
/**
 * The full broker fuzz run (docs/SECURITY.md quotes its figures):
 *   npm run fuzz                      # 100k malformed packets, 10k malformed JSON payloads
 *   npm run fuzz -- --packets 20000 --json 2000 --connections 100 --seed 7
 * A real collector process (`medtel-collector run`) on loopback with a fresh
 * store; its RSS is sampled from /proc while a well-behaved gateway publishes
 * QoS 1 readings every 5 ms. Exit 1 if the good gateway lost a reading, the
 * collector died, or its memory grew past --max-rss-mib.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connectPacket, fuzzJson, fuzzPackets, publishPacket } from './fuzz/mqtt-fuzz.mjs';
import { connect } from 'node:net';

const { values: opts } = parseArgs({
  options: {
    packets: { type: 'string', default: '100000' },
    json: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
    'max-rss-mib': { type: 'string', default: '400' },
  },
});
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'collector', 'package.json'));
const Database = require('better-sqlite3');
const { hashSecret } = await import(join(ROOT, 'collector', 'dist', 'secrets.js'));

const dir = mkdtempSync(join(tmpdir(), 'medtel-fuzz-'));
const SECRET = { good: 'good-secret-0123456789', fuzz: 'fuzz-secret-0123456789' };
const port = 20000 + Math.floor(Math.random() * 20000);
writeFileSync(
  join(dir, 'collector.yaml'),
  [
    `mqtt: { host: 127.0.0.1, port: ${port}, plain: { enabled: true }, limits: { maxConnectionsPerGateway: 200 } }`,
    'http: { host: 127.0.0.1, port: 0 }',
    'store: { path: ./collector.db }',
    'log: { level: error }',
    'gateways:',
    `  - { id: gw-good, secretHash: "${await hashSecret(SECRET.good)}" }`,
    `  - { id: gw-fuzz, site: fz, secretHash: "${await hashSecret(SECRET.fuzz)}" }`,
    '',
  ].join('\n'),
);
const child = spawn(process.execPath, [join(ROOT, 'collector', 'dist', 'cli.js'), 'run', '--config', 'collector.yaml'], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let exited = null;
child.on('exit', (code) => {
  exited = code;
});
let out = '';
child.stdout.on('data', (d) => {
  out += d;
});
child.stderr.on('data', (d) => {
  out += d;
});
const rssMiB = () => {
  try {
    return Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};
// Wait until the broker accepts connections.
for (let i = 0; ; i++) {
  const ok = await new Promise((r) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      r(true);
    });
    s.on('error', () => r(false));
  });
  if (ok) break;
  if (i > 100 || exited !== null) throw new Error(`collector did not start:\n${out}`);
  await new Promise((r) => setTimeout(r, 100));
}

const samples = [];
const sampler = setInterval(() => samples.push(rssMiB()), 250);
const rssStart = rssMiB();

/** The well-behaved gateway: one QoS 1 data message every 5 ms, each waiting for its PUBACK. */
let goodSent = 0;
let goodAcked = 0;
let fuzzing = true;
const good = new Promise((resolve, reject) => {
  const socket = connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  const sendNext = () => {
    if (!fuzzing) {
      socket.end(Buffer.from([0xe0, 0x00]));
      return resolve();
    }
    goodSent++;
    const payload = JSON.stringify({
      v: 1,
      seq: goodSent,
      sentAt: Date.now(),
      device: 'pump-1',
      clock: 'agent',
      readings: [{ metric: 'rate', t: Date.now(), value: goodSent, quality: 'good' }],
    });
    socket.write(publishPacket('medtel/v1/bench/gw-good/dev/pump-1/data', payload, 1, (goodSent % 65535) + 1));
  };
  socket.on('connect', () => socket.write(connectPacket({ clientId: 'gw-good-1', username: 'gw-good', password: SECRET.good })));
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4) {
      const type = buf[0] >> 4;
      buf = buf.subarray(4);
      if (type === 2) sendNext();
      else if (type === 4) {
        goodAcked++;
        setTimeout(sendNext, 5);
      }
    }
  });
  socket.on('error', reject);
  socket.on('close', () => (fuzzing ? reject(new Error('the good gateway was disconnected')) : resolve()));
});

const started = Date.now();
const [packets, json] = await Promise.all([
  fuzzPackets({
    host: '127.0.0.1',
    port,
    packets: Number(opts.packets),
    connections: Number(opts.connections),
    seed: Number(opts.seed),
    authenticated: { share: 0.01, credentials: () => ({ username: 'gw-fuzz', password: SECRET.fuzz }) },
    onProgress: (n) => process.stderr.write(`  ${n} packets, collector RSS ${rssMiB().toFixed(0)} MiB\n`),
  }),
  fuzzJson({
    host: '127.0.0.1',
    port,
    count: Number(opts.json),
    connections: 8,
    seed: Number(opts.seed) + 1,
    credentials: () => ({ username: 'gw-fuzz', password: SECRET.fuzz }),
    topicFor: (gw) => `medtel/v1/fz/${gw}/dev/pump-1/data`,
  }),
]);
const seconds = (Date.now() - started) / 1000;
fuzzing = false;
await good;
clearInterval(sampler);
const rssEnd = rssMiB();
child.kill('SIGTERM');
await new Promise((r) => (exited !== null ? r() : child.once('exit', r)));
const db = new Database(join(dir, 'collector.db'), { readonly: true });
const stored = db.prepare("SELECT count(*) AS n FROM received WHERE gateway = 'gw-good' AND kind = 'data'").get().n;
const quarantined = db.prepare('SELECT count(*) AS n FROM quarantine').get().n;
db.close();
rmSync(dir, { recursive: true, force: true });

const maxRss = Math.max(...samples);
const rows = [
  ['malformed MQTT packets sent', packets.packets],
  ['fuzz TCP connections', packets.sockets],
  ['malformed JSON payloads (QoS 1, acknowledged)', `${json.payloads} (${json.acked})`],
  ['payloads quarantined in the store', quarantined],
  ['duration', `${seconds.toFixed(1)} s`],
  ['good gateway: sent / acknowledged / stored', `${goodSent} / ${goodAcked} / ${stored}`],
  ['collector RSS start / max / end', `${rssStart.toFixed(0)} / ${maxRss.toFixed(0)} / ${rssEnd.toFixed(0)} MiB`],
];
for (const [k, v] of rows) process.stdout.write(`${k.padEnd(48)} ${v}\n`);
const lost = goodAcked !== stored && goodAcked > stored;
if (lost || maxRss > Number(opts['max-rss-mib']) || packets.packets < Number(opts.packets)) {
  process.stdout.write('FAIL\n');
  process.exit(1);
}
process.stdout.write('OK: every acknowledged reading of the good gateway is stored, memory bounded\n');
