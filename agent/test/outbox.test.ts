import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, OutboxOpenError, buildPayload, type OutboxMessage } from '../dist/index.js';
import { tempDir } from '../../test/helpers.js';

const dirs: Array<{ remove(): void }> = [];
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, 'state', 'outbox.db');
};
const opened: Outbox[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) {
    try {
      o.close();
    } catch {
      // already closed by the test
    }
  }
  for (const d of dirs.splice(0)) d.remove();
});
const open = (file: string, extra: Record<string, unknown> = {}) => {
  const o = Outbox.open(file, { site: 's', gateway: 'gw', ...extra });
  opened.push(o);
  return o;
};

const data = (device: string, t: number, count = 10): OutboxMessage => ({
  topic: `medtel/v1/s/gw/dev/${device}/data`,
  kind: 'data',
  device,
  body: { device, clock: 'agent', readings: Array.from({ length: count }, (_, i) => ({ metric: 'rate', t: t + i, value: 1, quality: 'good' })) },
  readings: { count, from: t, to: t + count - 1 },
});
const alarm = (device: string, t: number): OutboxMessage => ({
  topic: `medtel/v1/s/gw/dev/${device}/alarm`,
  kind: 'alarm',
  device,
  body: { device, t, alarm: 'occlusion' },
});

describe('outbox (SQLite file on disk)', () => {
  it('keeps messages across a reopen until they are acknowledged', () => {
    const file = fresh();
    const a = open(file);
    a.enqueue([data('p', 1), data('p', 2), data('p', 3)]);
    expect(a.flush()).toEqual([1, 2, 3]);
    a.claim(1);
    a.ack(1);
    a.close();
    const b = open(file);
    expect(b.claim(10).map((r) => r.seq)).toEqual([2, 3]);
    expect(b.stats()).toMatchObject({ rows: 2, byKind: { data: 2 } });
  });

  it('group-commits telemetry within the commit interval, and alarms at once', async () => {
    const o = open(fresh(), { commitIntervalMs: 200 });
    o.enqueue([data('p', 1)]);
    expect(o.stats().rows).toBe(0);
    o.enqueue([alarm('p', 2)]);
    await new Promise((r) => setImmediate(r));
    expect(o.stats().rows).toBe(2);
  });

  it('never reuses a sequence number, even after the outbox was emptied and reopened', () => {
    const file = fresh();
    const a = open(file);
    a.enqueue([data('p', 1), data('p', 2)]);
    a.flush();
    for (const r of a.claim(10)) a.ack(r.seq);
    a.close();
    const b = open(file);
    expect(b.stats().rows).toBe(0);
    b.enqueue([data('p', 3)]);
    expect(b.flush()).toEqual([3]);
  });

  it('hands out alarms before telemetry, each in order', () => {
    const o = open(fresh());
    o.enqueue([data('p', 1), data('p', 2), alarm('p', 3), data('p', 4), alarm('q', 5)]);
    o.flush();
    expect(o.claim(2).map((r) => [r.seq, r.kind])).toEqual([
      [3, 'alarm'],
      [5, 'alarm'],
    ]);
    o.enqueue([alarm('p', 6)]);
    o.flush();
    expect(o.claim(10).map((r) => r.seq)).toEqual([6, 1, 2, 4]);
  });

  it('when full, evicts the oldest unsent telemetry, keeps alarms, and reports exact gaps', () => {
    const o = open(fresh(), { maxBytes: 20_000 });
    const one = Buffer.byteLength(JSON.stringify(data('p', 0).body)) + data('p', 0).topic.length;
    o.enqueue([alarm('p', 0)]);
    for (let i = 0; i < 60; i++) o.enqueue([data(i % 2 ? 'a' : 'b', 1000 + i * 10)]);
    o.flush();
    const stats = o.stats();
    expect(stats.bytes).toBeLessThanOrEqual(20_000);
    expect(stats.byKind.alarm).toBe(1);
    const kept = stats.byKind.data as number;
    expect(kept).toBeGreaterThan(0);
    expect(kept * one).toBeLessThanOrEqual(20_000);
    const gaps = o
      .claim(100)
      .filter((r) => r.kind === 'gap')
      .map((r) => JSON.parse(r.body));
    const evicted = 60 - kept;
    expect(gaps.reduce((n, g) => n + g.count, 0)).toBe(evicted * 10);
    // The oldest went first: device b's first batch (t=1000) is in its gap's range.
    expect(gaps.find((g) => g.device === 'b')).toMatchObject({ kind: 'data', from: 1000 });
    expect(gaps[0].reason).toMatch(/outbox full/);
  });

  it('extends one unsent gap per device through many eviction rounds, so gaps cannot fill the outbox', () => {
    const o = open(fresh(), { maxBytes: 30_000 });
    o.enqueue([alarm('p', 0)]);
    for (let round = 0; round < 300; round++) {
      o.enqueue([data('a', round * 10), data('b', round * 10)]);
      o.flush();
    }
    const stats = o.stats();
    expect(stats.byKind.gap).toBe(2);
    expect(stats.byKind.alarm).toBe(1);
    expect(stats.bytes).toBeLessThanOrEqual(30_000);
    const gaps = o
      .claim(1000)
      .filter((r) => r.kind === 'gap')
      .map((r) => JSON.parse(r.body));
    expect(gaps.reduce((n, g) => n + g.count, 0)).toBe((600 - (stats.byKind.data as number)) * 10);
    expect(gaps.find((g) => g.device === 'a')).toMatchObject({ from: 0 });
  });

  it('never evicts what was already handed to the uplink', () => {
    const o = open(fresh(), { maxBytes: 5_000 });
    o.enqueue([data('p', 1)]);
    o.flush();
    const [inFlight] = o.claim(1);
    for (let i = 0; i < 30; i++) o.enqueue([data('p', 100 + i)]);
    o.flush();
    expect(o.peek(1000).map((r) => r.seq)).toContain(inFlight?.seq);
  });

  it('evicts messages past the age limit and reports them', async () => {
    const o = open(fresh(), { maxAgeMs: 50 });
    o.enqueue([data('p', 1), alarm('p', 2)]);
    o.flush();
    await new Promise((r) => setTimeout(r, 80));
    o.enforceAge();
    expect(o.stats().byKind).toEqual({ gap: 2 });
  });

  it('purges on request and reports what went', () => {
    const o = open(fresh());
    o.enqueue([data('p', 1, 5), data('p', 2, 5)]);
    o.flush();
    expect(o.purgeOlderThan(Date.now() + 1)).toEqual({ messages: 2, readings: 10 });
    expect(JSON.parse(o.claim(1)[0]?.body as string)).toMatchObject({ device: 'p', kind: 'data', count: 10, reason: 'purged by an operator' });
  });

  it('keeps cheap counters for readiness, and gives space back once drained', () => {
    const file = fresh();
    const o = open(file);
    for (let i = 0; i < 3000; i++) o.enqueue([data('p', i, 20)]);
    o.flush();
    const quick = o.quickStats();
    const full = o.stats();
    expect([quick.rows, quick.bytes, quick.oldestCreatedAt]).toEqual([full.rows, full.bytes, full.oldestCreatedAt]);
    for (const r of o.claim(5000)) o.ack(r.seq);
    o.close();
    opened.pop();
    const again = open(file);
    expect(again.quickStats()).toMatchObject({ rows: 0, bytes: 0, oldestCreatedAt: null });
    const size = () => statSync(file).size;
    const before = size();
    again.reclaimSpace(100_000);
    again.close();
    opened.pop();
    expect(size()).toBeLessThan(before / 2);
  });

  it('builds the wire payload with version, seq and send time in front', () => {
    const o = open(fresh());
    o.enqueue([alarm('p', 7)]);
    o.flush();
    const [row] = o.claim(1);
    expect(JSON.parse(buildPayload(row as never, 1234))).toEqual({ v: 1, seq: 1, sentAt: 1234, device: 'p', t: 7, alarm: 'occlusion' });
  });

  it('refuses a second agent on the same state directory, and takes over a stale lock', () => {
    const file = fresh();
    open(file).close();
    opened.pop();
    const lock = join(file, '..', 'agent.lock');
    writeFileSync(lock, `${process.ppid}\n`); // a live process
    expect(() => open(file)).toThrow(/another medtel-agent \(pid \d+\) is using it; stop that one first/);
    writeFileSync(lock, '999999999\n'); // no such process
    expect(() => open(file)).not.toThrow();
  });

  it('reports a damaged file clearly and leaves it in place', () => {
    const file = fresh();
    open(file).close();
    opened.pop();
    writeFileSync(file, 'this is not a database'.repeat(300));
    expect(() => open(file)).toThrow(OutboxOpenError);
    expect(() => open(file)).toThrow(/damaged; stop the agent, move outbox.db .* aside/);
  });
});
