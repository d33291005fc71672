import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { hashSecret } from '../dist/index.js';
import { fuzzJson, fuzzPackets } from '../../scripts/fuzz/mqtt-fuzz.mjs';
import { SECRETS, connectGateway, dataPayload, publishAcked, startTestCollector } from './collector-fixture.js';

/**
 * Malformed MQTT packets and JSON payloads from many connections while a
 * well-behaved gateway keeps publishing: every one of its readings must be
 * stored, and the collector must stay up. Small counts here; the full run
 * (100k packets, 10k payloads, a separate collector process with its memory
 * sampled) is `npm run fuzz` (scripts/fuzz-broker.mjs).
 */
const FUZZ_SECRET = 'fuzz-secret-0123456789';
let collector: Awaited<ReturnType<typeof startTestCollector>>;
beforeAll(async () => {
  const fuzzHash = await hashSecret(FUZZ_SECRET);
  collector = await startTestCollector({
    configure: (config) => {
      config.log.level = 'warn';
      config.mqtt.limits.maxConnectionsPerGateway = 200;
      config.gateways.push({ id: 'gw-fuzz', site: 'fz', secretHash: fuzzHash });
    },
  });
});
afterAll(async () => {
  await collector?.close();
});

describe('broker fuzz', () => {
  it('keeps serving a well-behaved gateway through malformed packets and payloads', async () => {
    const good = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    let seq = 0;
    let fuzzing = true;
    const goodPublisher = (async () => {
      while (fuzzing) {
        seq++;
        await publishAcked(good, 'medtel/v1/bench/gw-1/dev/pump-1/data', dataPayload(seq));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const rssBefore = process.memoryUsage().rss;
    const [packets, json] = await Promise.all([
      fuzzPackets({
        host: '127.0.0.1',
        port: collector.mqttPort,
        packets: 5000,
        connections: 20,
        authenticated: { share: 0.02, credentials: () => ({ username: 'gw-fuzz', password: FUZZ_SECRET }) },
      }),
      fuzzJson({
        host: '127.0.0.1',
        port: collector.mqttPort,
        count: 1000,
        connections: 4,
        credentials: () => ({ username: 'gw-fuzz', password: FUZZ_SECRET }),
        topicFor: (gw: string) => `medtel/v1/fz/${gw}/dev/pump-1/data`,
      }),
    ]);
    fuzzing = false;
    await goodPublisher;
    good.end(true);
    expect(packets.packets).toBe(5000);
    expect(json.acked).toBe(1000);
    expect(seq).toBeGreaterThan(10);
    // Every reading of the good gateway is in the store.
    const db = new Database(join(collector.dir, 'collector.db'), { readonly: true });
    const stored = db.prepare("SELECT count(*) AS n FROM received WHERE gateway = 'gw-1' AND kind = 'data'").get() as { n: number };
    db.close();
    expect(stored.n).toBe(seq);
    expect((await fetch(`${collector.httpUrl}/healthz`)).status).toBe(200);
    expect(await collector.metrics.registry.getSingleMetricAsString('medtel_ingest_quarantined_total')).toMatch(/ \d{3,}/);
    // Loose: the test process also holds vitest; the full run measures the collector process alone.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
  }, 120_000);
});
