import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, initKeyring, startTracing, type Tracing } from '@medtel/shared';
import { startPumpSimulator } from '@medtel/simulators';
import { Agent, loadAgentConfig } from '../dist/index.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';

/**
 * The agent's spans with the real SDK (in-memory exporter, every batch
 * sampled): a pump read becomes one trace — driver read, profile mapping,
 * sealing, outbox commit — and its traceparent is stored in the outbox row
 * with the payload, so a re-send after a restart continues it. No collector
 * listens: the messages stay in the outbox, where the test reads them.
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let agent: Agent;
let stateDir = '';
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  tracing = await startTracing({ serviceName: 'agent-test', exporter, env: { OTEL_TRACES_SAMPLER: 'always_on' } });
  const dir = tempDir('medtel-trace-agent-');
  cleanups.push(() => dir.remove());
  const sim = await startPumpSimulator({ port: await freePort(), seed: 1, patient: { seed: 4 } });
  cleanups.push(() => sim.close());
  initKeyring(join(dir.path, 'keyring.json'));
  writeFileSync(join(dir.path, 'gateway.secret'), 'unused-secret-0123456789\n');
  const configFile = join(dir.path, 'agent.yaml');
  writeFileSync(
    configFile,
    [
      'gateway: { id: gw-t, site: ward }',
      `collector: { url: "mqtt://127.0.0.1:${await freePort()}", secretFile: gateway.secret, reconnectMin: 5s, reconnectMax: 5s }`,
      'stateDir: ./state',
      'http: { enabled: false }',
      'phi: { keyring: keyring.json }',
      'devices:',
      '  - id: pump-1',
      '    profile: medtel-mt-lvp-100',
      `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${sim.port} }`,
      '    pollInterval: 200ms',
    ].join('\n'),
  );
  agent = new Agent({ config: loadAgentConfig(configFile), configFile, logger: createLogger({ name: 'agent', level: 'silent' }) });
  await agent.start();
  cleanups.push(() => agent.stop());
  stateDir = join(dir.path, 'state');
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await tracing?.shutdown();
});

const children = (spans: ReadableSpan[], root: ReadableSpan) => spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId);

describe('agent tracing', () => {
  it('makes one trace per pump read: driver.read, profile.map, phi.seal, outbox.commit under agent.batch', async () => {
    const sealedRoot = await waitFor('a traced batch that sealed the patient record', () => {
      const spans = exporter.getFinishedSpans();
      return spans.find((s) => s.name === 'agent.batch' && children(spans, s).some((c) => c.name === 'phi.seal'));
    });
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === sealedRoot.spanContext().traceId);
    expect(sealedRoot.parentSpanContext).toBeUndefined();
    expect(sealedRoot.attributes).toMatchObject({ 'medtel.device': 'pump-1', 'medtel.protocol': 'modbus-tcp' });
    expect(
      children(spans, sealedRoot)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['driver.read', 'outbox.commit', 'phi.seal', 'profile.map']);
    const read = spans.find((s) => s.name === 'driver.read') as ReadableSpan;
    expect(read.attributes['medtel.read.bytes']).toBeGreaterThan(0);
    expect((spans.find((s) => s.name === 'profile.map') as ReadableSpan).attributes['medtel.readings']).toBeGreaterThan(0);
    const commit = spans.find((s) => s.name === 'outbox.commit') as ReadableSpan;
    expect(commit.attributes['medtel.seq']).toBe((spans.find((s) => s.name === 'phi.seal') as ReadableSpan).attributes['medtel.seq']);
  });

  it("stores the batch's traceparent with the payload in the outbox row", async () => {
    const root = await waitFor('a traced batch', () => exporter.getFinishedSpans().find((s) => s.name === 'agent.batch'));
    const commit = exporter
      .getFinishedSpans()
      .find((s) => s.name === 'outbox.commit' && s.parentSpanContext?.spanId === root.spanContext().spanId) as ReadableSpan;
    const db = new Database(join(stateDir, 'outbox.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT body FROM outbox WHERE seq = ?').get(commit.attributes['medtel.seq']) as { body: string };
      const { traceId, spanId } = root.spanContext();
      expect(JSON.parse(row.body).traceparent).toBe(`00-${traceId}-${spanId}-01`);
    } finally {
      db.close();
    }
  });
});
