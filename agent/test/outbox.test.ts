import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, OutboxOpenError, buildPayload } from '../dist/index.js';
import { tempDir } from '../../test/helpers.js';

const dirs: Array<{ remove(): void }> = [];
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, 'state', 'outbox.db');
};
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const msg = (n: number) => ({ topic: `t/${n}`, kind: 'data' as const, device: 'pump-1', body: { device: 'pump-1', n } });

describe('outbox (SQLite file on disk)', () => {
  it('keeps messages across a reopen until they are acknowledged', () => {
    const file = fresh();
    const a = Outbox.open(file);
    const seqs = a.enqueue([msg(1), msg(2), msg(3)]);
    expect(seqs).toEqual([1, 2, 3]);
    a.ack(1);
    a.close(); // flushes pending acks
    const b = Outbox.open(file);
    expect(b.next(0, 10).map((r) => r.seq)).toEqual([2, 3]);
    expect(b.stats()).toMatchObject({ rows: 2 });
    b.close();
  });

  it('never reuses a sequence number, even after the outbox was emptied and reopened', () => {
    const file = fresh();
    const a = Outbox.open(file);
    a.enqueue([msg(1), msg(2)]);
    a.ack(1);
    a.ack(2);
    a.close();
    const b = Outbox.open(file);
    expect(b.stats().rows).toBe(0);
    expect(b.enqueue([msg(3)])).toEqual([3]);
    b.close();
  });

  it('builds the wire payload with version, seq and send time in front', () => {
    const file = fresh();
    const o = Outbox.open(file);
    o.enqueue([msg(7)]);
    const [row] = o.next(0, 1);
    expect(JSON.parse(buildPayload(row as never, 1234))).toEqual({ v: 1, seq: 1, sentAt: 1234, device: 'pump-1', n: 7 });
    o.close();
  });

  it('reports a damaged file clearly and leaves it in place', () => {
    const file = fresh();
    Outbox.open(file).close();
    writeFileSync(file, 'this is not a database'.repeat(300));
    expect(() => Outbox.open(file)).toThrow(OutboxOpenError);
    expect(() => Outbox.open(file)).toThrow(/damaged; stop the agent, move the file aside/);
  });
});
