/**
 * CPU per data message of the collector's ingest path, in this process, without
 * the broker or the network: classify (parse + contract validation) and
 * SqliteStore.apply in group commits of a given size. The store file lives in
 * /dev/shm when it exists so fsync time does not hide the CPU work (this
 * measures work, the peers scenario measures the whole).
 *
 *   node bench/micro-ingest.mjs [--messages 40000] [--batch 200] [--devices 1000] [--readings 10]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTopic } from '@medtel/shared';
import { classify } from '../collector/dist/ingest/classify.js';
import { SqliteStore } from '../collector/dist/store/sqlite/sqlite-store.js';
import { makePayloadBuilder } from './lib/payload.mjs';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '40000' },
    batch: { type: 'string', default: '200' },
    devices: { type: 'string', default: '1000' },
    readings: { type: 'string', default: '10' },
  },
});
const messages = Number(values.messages);
const batch = Number(values.batch);
const devices = Number(values.devices);
const build = makePayloadBuilder(Number(values.readings));
const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'medtel-micro-'));
const store = new SqliteStore(join(dir, 'store.db'));

const gateways = Math.max(1, Math.ceil(devices / 50));
const payloads = [];
const now = Date.now();
for (let i = 0; i < messages; i++) {
  const d = i % devices;
  const gw = `gw-${d % gateways}`;
  const topic = `medtel/v1/bench/${gw}/dev/pump-${d}/data`;
  payloads.push({ topic, parsed: parseTopic(topic), payload: Buffer.from(build(i + 1, now + i, `pump-${d}`)) });
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
// Warm-up: the first pass creates every series and device row.
const warm = Math.min(messages, devices * 2);
for (let i = 0; i < warm; i += batch) await store.apply(payloads.slice(i, i + batch).map((p) => classify(p.parsed, p.topic, p.payload, Date.now())));

let c0 = cpu();
const items = payloads.slice(warm).map((p) => classify(p.parsed, p.topic, p.payload, Date.now()));
const classifyMs = cpu() - c0;
c0 = cpu();
for (let i = 0; i < items.length; i += batch) await store.apply(items.slice(i, i + batch));
const applyMs = cpu() - c0;
const n = items.length;
console.log(
  JSON.stringify({
    messages: n,
    batch,
    classifyUsPerMsg: +((classifyMs * 1000) / n).toFixed(1),
    applyUsPerMsg: +((applyMs * 1000) / n).toFixed(1),
    totalUsPerMsg: +(((classifyMs + applyMs) * 1000) / n).toFixed(1),
  }),
);
await store.close();
rmSync(dir, { recursive: true, force: true });
