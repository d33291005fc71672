import { join } from 'node:path';
import { createLogger } from '@medtel/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { createCollectorMetrics, type IngestItem, SqliteStore } from '../dist/index.js';
import { Ingestor } from '../dist/ingest/ingestor.js';
import { tempDir } from '../../test/helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

const data = (seq: number, device = 'pump-1'): IngestItem => ({
  site: 'bench',
  gateway: 'gw-1',
  receivedAt: 1_000 + seq,
  kind: 'data',
  message: { v: 1, seq, sentAt: 1, device, clock: 'agent', readings: [{ metric: 'rate', t: 1_000 + seq, value: seq, quality: 'good' }] },
});

async function open(window: { maxDelayMs: number; flushAt: number }) {
  const dir = tempDir();
  dirs.push(dir);
  const store = new SqliteStore(join(dir.path, 'collector.db'));
  const metrics = createCollectorMetrics();
  const ingestor = new Ingestor(store, metrics, createLogger({ name: 'test', level: 'silent' }), 5000, window);
  const batches = async () => {
    const h = (await metrics.batchSize.get()).values.find((v) => v.metricName === 'medtel_ingest_batch_messages_count');
    return h?.value ?? 0;
  };
  return { store, metrics, ingestor, batches };
}

describe('Ingestor group commit window', () => {
  it('commits messages that arrive a moment apart together, and resolves each only once durable', async () => {
    const { store, ingestor, batches } = await open({ maxDelayMs: 50, flushAt: 500 });
    const first = ingestor.submit(data(1));
    // Later in the window, from another event-loop turn: it still joins the first message's commit.
    await new Promise((r) => setTimeout(r, 5));
    const second = ingestor.submit(data(2));
    expect(await Promise.all([first, second])).toEqual(['stored', 'stored']);
    expect(await batches()).toBe(1);
    expect((await store.counts()).readings).toBe(2);
    await store.close();
  });

  it('does not wait out the window once a batch is full', async () => {
    const { store, ingestor, batches } = await open({ maxDelayMs: 60_000, flushAt: 3 });
    const outcomes = await Promise.all([1, 2, 3].map((seq) => ingestor.submit(data(seq))));
    expect(outcomes).toEqual(['stored', 'stored', 'stored']);
    expect(await batches()).toBe(1);
    await store.close();
  });

  it('commits a waiting small batch at once when the collector shuts down', async () => {
    const { store, ingestor } = await open({ maxDelayMs: 60_000, flushAt: 500 });
    const pending = ingestor.submit(data(1));
    await ingestor.flushed();
    expect(await pending).toBe('stored');
    expect((await store.counts()).readings).toBe(1);
    await store.close();
  });

  it('counts a duplicate as a duplicate in the same batch as its first copy', async () => {
    const { store, ingestor, metrics } = await open({ maxDelayMs: 2, flushAt: 500 });
    expect(await Promise.all([ingestor.submit(data(7)), ingestor.submit(data(7))])).toEqual(['stored', 'duplicate']);
    const values = (await metrics.messages.get()).values;
    expect(values.find((v) => v.labels.outcome === 'stored')?.value).toBe(1);
    expect(values.find((v) => v.labels.outcome === 'duplicate')?.value).toBe(1);
    expect((await metrics.readings.get()).values[0]?.value).toBe(1);
    await store.close();
  });
});
