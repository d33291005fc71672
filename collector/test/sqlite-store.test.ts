import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, type IngestItem } from '../dist/index.js';
import { tempDir } from '../../test/helpers.js';
import { storeContract } from './store-contract.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

storeContract('SQLite file on disk', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir.path, 'collector.db');
  return { store: new SqliteStore(file), reopen: async () => new SqliteStore(file) };
});

describe('SQLite telemetry rows', () => {
  const reading = (t: number, value: number, unit = 'mL/h') => ({ metric: 'rate', code: 157784, unit, t, value, quality: 'good' as const });
  const data = (seq: number, readings: ReturnType<typeof reading>[]): IngestItem => ({
    site: 'bench',
    gateway: 'gw-1',
    receivedAt: 1_000,
    kind: 'data',
    message: { v: 1, seq, sentAt: 1, device: 'pump-1', clock: 'agent', readings },
  });

  it('keeps every reading of a large message in order, and a changed unit as its own series across a reopen', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir.path, 'collector.db');
    const first = new SqliteStore(file);
    // 70 readings: more than one multi-row INSERT per message.
    await first.apply([
      data(
        1,
        Array.from({ length: 70 }, (_, i) => reading(1_000 + i, i)),
      ),
    ]);
    await first.apply([data(2, [reading(2_000, 5, 'L/h')])]);
    await first.close();

    const store = new SqliteStore(file);
    await store.apply([data(3, [reading(3_000, 7), reading(3_001, 8, 'L/h')])]);
    const rows = await store.queryTelemetry('gw-1.pump-1', { limit: 1000 });
    expect(rows).toHaveLength(73);
    expect(rows.slice(0, 3).map((r) => [r.t, r.value, r.unit])).toEqual([
      [3_001, 8, 'L/h'],
      [3_000, 7, 'mL/h'],
      [2_000, 5, 'L/h'],
    ]);
    expect(rows.slice(3).map((r) => r.value)).toEqual(Array.from({ length: 70 }, (_, i) => 69 - i));
    await store.close();
    // The reopened store found the existing two series instead of creating new ones.
    const db = new Database(file, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n).toBe(2);
    db.close();
  });
});
