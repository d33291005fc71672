import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers.js';
import { Bench, type OutboxStats, sleep, waitFor } from './harness.js';

/**
 * `medtel-agent outbox stats|peek|purge` on a real state directory: an agent
 * ran with the collector down (nothing ever delivered), then stopped. Also the
 * refusals: purge while the agent runs (lock), and a damaged outbox.db.
 */
const bench = new Bench({
  gateway: 'gw-cli',
  pumps: [{ id: 'pump-1' }, { id: 'pump-2' }],
  pollInterval: '100ms',
});

async function cli(...args: string[]): Promise<{ code: number | null; out: string }> {
  const p = startCli('agent', [...args, '--config', bench.agentConfig], bench.dir.path);
  const code = await p.exited();
  return { code, out: p.output() };
}

function rowsInDb(): Array<{ seq: number; kind: string; priority: number; readings: number; device: string | null }> {
  const db = new Database(join(bench.stateDir, 'outbox.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT seq, kind, priority, readings, device FROM outbox ORDER BY seq').all() as never;
  } finally {
    db.close();
  }
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
let pristine = '';

beforeAll(async () => {
  await bench.init(); // the collector is never started: everything stays queued
  await bench.startPumps();
  await bench.startAgent();
  await waitFor('data in the outbox', () => (bench.agentOutbox().byKind.data ?? 0) >= 20 || undefined);
  // pump-2 goes away: a status (priority 0) committed after plenty of data, which peek must list first.
  await bench.simulators[1]?.close();
  await waitFor('pump-2 unreachable', async () => (await bench.healthz()).devices.find((d) => d.id === 'pump-2')?.status === 'unreachable' || undefined);
  await sleep(300);
  expect(await bench.stopAgent()).toBe(0);
  await bench.stopPumps();
  pristine = join(bench.dir.path, 'outbox-copy.db');
  copyFileSync(join(bench.stateDir, 'outbox.db'), pristine);
}, 60_000);

afterAll(async () => {
  await bench.stopAll();
  bench.remove();
});

describe('medtel-agent outbox (agent stopped)', () => {
  it('stats shows what waits, as text and as JSON', async () => {
    const rows = rowsInDb();
    const byKind: Record<string, number> = {};
    for (const r of rows) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    expect(byKind).toMatchObject({ birth: 2, status: 3 }); // connected x2, then pump-2 unreachable
    expect(byKind.data).toBeGreaterThanOrEqual(20);

    const json = await cli('outbox', 'stats', '--json');
    expect(json.code, json.out).toBe(0);
    const stats = JSON.parse(json.out) as OutboxStats;
    expect(stats.rows).toBe(rows.length);
    expect(stats.byKind).toEqual(byKind);
    expect(stats.bytes).toBeGreaterThan(0);

    const text = await cli('outbox', 'stats');
    expect(text.code, text.out).toBe(0);
    expect(text.out).toMatch(new RegExp(`messages waiting: ${rows.length} \\(`));
    for (const [kind, n] of Object.entries(byKind)) expect(text.out).toContain(`${kind} ${n}`);
  });

  it('peek lists the messages in sending order: births and statuses before data, each by seq', async () => {
    const rows = rowsInDb();
    const res = await cli('outbox', 'peek', '-n', '100000');
    expect(res.code, res.out).toBe(0);
    const listed = res.out
      .trim()
      .split('\n')
      .map((line) => line.match(/^\s*(\d+)\s+p(\d)\s+(\w+)/))
      .filter((m): m is RegExpMatchArray => m !== null)
      .map((m) => ({ seq: Number(m[1]), priority: Number(m[2]), kind: m[3] as string }));
    const expected = [...rows].sort((a, b) => a.priority - b.priority || a.seq - b.seq).map((r) => ({ seq: r.seq, priority: r.priority, kind: r.kind }));
    expect(listed).toEqual(expected);
    // The unreachable status was committed after data, yet is listed before all data.
    const lateStatus = rows.filter((r) => r.kind === 'status').at(-1) as { seq: number };
    expect(rows.some((r) => r.kind === 'data' && r.seq < lateStatus.seq)).toBe(true);
    expect(listed.findIndex((r) => r.seq === lateStatus.seq)).toBeLessThan(listed.findIndex((r) => r.kind === 'data'));

    const few = await cli('outbox', 'peek', '-n', '3');
    expect(few.out.trim().split('\n')).toHaveLength(3);
  });

  it('purge removes old messages and queues gap messages that say what went', async () => {
    const before = rowsInDb();
    const readings = before.filter((r) => r.kind === 'data').reduce((a, r) => a + r.readings, 0);
    // Nothing is older than an hour: nothing goes.
    const none = await cli('outbox', 'purge', '--older-than', '1h');
    expect(none.code, none.out).toBe(0);
    expect(none.out).toMatch(/purged 0 messages/);
    expect(rowsInDb()).toHaveLength(before.length);

    await sleep(1100); // every row is now older than 1 s
    const res = await cli('outbox', 'purge', '--older-than', '1s');
    expect(res.code, res.out).toBe(0);
    expect(res.out.trim()).toBe(
      `purged ${before.length} messages (${readings} readings) older than 1s; gap messages queued so the collector records what is missing`,
    );
    const stats = JSON.parse((await cli('outbox', 'stats', '--json')).out) as OutboxStats;
    // One gap per device and kind: pump-1 and pump-2 each had birth, status and data.
    expect(stats.byKind).toEqual({ gap: 6 });
    const db = new Database(join(bench.stateDir, 'outbox.db'), { readonly: true });
    const gaps = (db.prepare("SELECT body FROM outbox WHERE kind = 'gap'").all() as Array<{ body: string }>).map((r) => JSON.parse(r.body));
    db.close();
    const dataGaps = gaps.filter((g) => g.kind === 'data');
    expect(dataGaps.reduce((a, g) => a + g.count, 0)).toBe(readings);
    expect(gaps.every((g) => /purged/.test(g.reason))).toBe(true);
  });
});

describe('medtel-agent outbox: refusals', () => {
  it('refuses to purge while the agent runs (exit 1, one line), and deletes nothing', async () => {
    const agent = await bench.startAgent();
    try {
      const before = rowsInDb().length;
      const res = await cli('outbox', 'purge', '--older-than', '1s');
      expect(res.code).toBe(1);
      const lines = res.out.trim().split('\n');
      expect(lines, res.out).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^medtel-agent: outbox .*outbox\\.db: cannot open: another medtel-agent \\(pid ${agent.child.pid}\\) is using it`));
      expect(rowsInDb().length).toBeGreaterThanOrEqual(before);
      // stats and peek still work beside a running agent.
      expect((await cli('outbox', 'stats', '--json')).code).toBe(0);
    } finally {
      expect(await bench.stopAgent()).toBe(0);
    }
  });

  it('takes over the lock a killed agent left behind', async () => {
    const agent = await bench.startAgent();
    await agent.stop('SIGKILL');
    expect(existsSync(join(bench.stateDir, 'agent.lock'))).toBe(true);
    const res = await cli('outbox', 'purge', '--older-than', '1h');
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(/^purged 0 messages/);
    expect(existsSync(join(bench.stateDir, 'agent.lock'))).toBe(false);
  });

  it.each([
    ['garbage', () => randomBytes(64 * 1024)],
    [
      'a real outbox with damaged pages',
      () => {
        const bytes = readFileSync(pristine);
        const pageSize = bytes.readUInt16BE(16) || 65536;
        // Keep the header page; scramble the start of every later page (b-tree headers and cell pointers).
        for (let page = 1; page * pageSize < bytes.length; page++) randomBytes(64).copy(bytes, page * pageSize);
        return bytes;
      },
    ],
  ])('a damaged outbox.db (%s): run exits 1 with one line saying "damaged", and nothing is deleted', async (_, garbage) => {
    const file = join(bench.stateDir, 'outbox.db');
    writeFileSync(file, garbage());
    const files = readdirSync(bench.stateDir).sort();
    const hash = sha(file);
    const res = await cli('run');
    expect(res.code, res.out).toBe(1);
    const lines = res.out.trim().split('\n');
    expect(lines, res.out).toHaveLength(1);
    expect(lines[0]).toMatch(/^medtel-agent: outbox .*outbox\.db: cannot open: the file is damaged/);
    expect(existsSync(file)).toBe(true);
    expect(sha(file)).toBe(hash);
    // Nothing deleted or added beside it (no lock file left behind either).
    expect(readdirSync(bench.stateDir).sort()).toEqual(files.filter((f) => f !== 'agent.lock'));
    // The operator commands say the same.
    const stats = await cli('outbox', 'stats');
    expect(stats.code).toBe(1);
    expect(stats.out).toMatch(/damaged/);
    expect(sha(file)).toBe(hash);
  });
});
