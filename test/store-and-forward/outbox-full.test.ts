import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, type Metric, metricValue, sleep, waitFor } from './harness.js';

/**
 * The collector is down and the agent's outbox is small (64 KiB, ~40 data
 * messages): the oldest telemetry is evicted and reported in gap messages,
 * while a pump's occlusion alarm (start and end) must survive. Once the
 * collector is up and everything is delivered, every reading the agent took is
 * accounted for: stored at the collector, or counted in a gap.
 */
const DOWN_MS = 20_000;
const PUMPS = ['pump-1', 'pump-2', 'pump-3', 'pump-occl'];

const bench = new Bench({
  gateway: 'gw-full',
  pumps: PUMPS.map((id) => (id === 'pump-occl' ? { id, scenario: { kind: 'occlusion' as const, occlusionAfterS: 1, occlusionDurationS: 8 } } : { id })),
  pollInterval: '100ms',
  outbox: { maxBytes: '64KiB' },
});

beforeAll(async () => {
  await bench.init();
  await bench.startPumps();
  await bench.startAgent(); // the collector is not started yet
});

afterAll(async () => {
  await bench.stopAll();
  bench.remove();
});

type Alarm = { alarm: string; phase: string; t: string };
type Gap = { from: string; to: string; count: number; kind: string; reason: string };

describe('outbox full while the collector is down', () => {
  // Regression: each eviction round used to write a new gap message per device; gap rows are never evicted
  // and count against maxBytes, so at 64 KiB they filled the outbox and evicted births, statuses and the
  // alarm. An unsent gap for the same device, kind and reason is now extended instead.
  it('evicts the oldest telemetry, reports it in gaps to the reading, and keeps the alarms', async () => {
    let metrics: Metric[] = [];
    const outboxBytes: number[] = [];
    let collectorAt = 0;
    const startedAt = Date.now();
    try {
      // The occlusion starts ~7 s after the pumps (pressure passes 300 mmHg) and ends ~10 s: both while the collector is down.
      await waitFor(
        'the occlusion alarm to start and end on the agent',
        async () => metricValue(await bench.agentMetrics(), 'medtel_agent_alarms_total', { device: 'pump-occl', phase: 'end' }) >= 1 || undefined,
        30_000,
        250,
      );
      const dropped = metricValue(await bench.agentMetrics(), 'medtel_agent_outbox_dropped_readings_total', { reason: 'max_bytes' });
      expect(dropped, 'telemetry evicted before the collector starts').toBeGreaterThan(0);
      while (Date.now() < startedAt + DOWN_MS) {
        outboxBytes.push((await bench.readyz()).bytes);
        await sleep(250);
      }

      await bench.startCollector();
      collectorAt = Date.now();
      await waitFor(
        'readings taken after the collector started',
        async () => {
          const res = await bench.api<{ readings: Array<{ t: string }> }>('/api/v1/devices/gw-full.pump-1/telemetry?metric=rate&limit=1');
          return Date.parse(res.body.readings?.[0]?.t ?? '0') > collectorAt + 1_000 || undefined;
        },
        60_000,
        250,
      );
      // Stop polling, wait until the agent's reading counter no longer moves, then until all is delivered.
      await bench.stopPumps();
      await waitFor('every device seen as unreachable', async () => (await bench.healthz()).devices.every((d) => d.status === 'unreachable') || undefined);
      let last = -1;
      await waitFor(
        'the readings counter to settle',
        async () => {
          const now = metricValue(await bench.agentMetrics(), 'medtel_agent_readings_total');
          const settled = now === last;
          last = now;
          return settled || undefined;
        },
        30_000,
        1_000,
      );
      await bench.waitDrained(60_000);
      metrics = await bench.agentMetrics();
      expect(await bench.stopAgent()).toBe(0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await bench.diagnose()}\n${bench.outputs(20)}`);
    }

    // Soft from here on: each finding is reported, and the accounting below is checked whatever happened to the alarm.
    // The outbox kept to its limit while the collector was down (each commit evicts in its own transaction).
    expect.soft(Math.max(...outboxBytes), `outbox bytes sampled during the outage: ${outboxBytes.join(' ')}`).toBeLessThanOrEqual(64 * 1024);
    // Both phases of the alarm arrived: alarms are not evicted while there is telemetry to evict.
    const alarms = (await bench.api<{ alarms: Alarm[] }>('/api/v1/devices/gw-full.pump-occl/alarms')).body.alarms;
    expect.soft(alarms.map((a) => `${a.alarm}:${a.phase}`).reverse()).toEqual(['occlusion:start', 'occlusion:end']);

    const db = new Database(bench.collectorDb, { readonly: true });
    try {
      const gapKinds = db.prepare("SELECT kind, sum(count) AS n FROM gaps WHERE device_id LIKE 'gw-full.%' GROUP BY kind").all() as Array<{
        kind: string;
        n: number;
      }>;
      // Only telemetry was evicted: no gap for alarms, births or statuses.
      expect.soft(gapKinds, 'gap counts by kind').toEqual([{ kind: 'data', n: expect.any(Number) }]);
      let gapTotal = 0;
      const report: string[] = [];
      for (const device of PUMPS) {
        const id = `gw-full.${device}`;
        const taken = metricValue(metrics, 'medtel_agent_readings_total', { device });
        const stored = db
          .prepare('SELECT count(*) AS n, min(r.t) AS first FROM readings r JOIN series s ON s.id = r.series_id WHERE s.device_id = ?')
          .get(id) as {
          n: number;
          first: number | null;
        };
        const keptFromOutage = (
          db.prepare('SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id WHERE s.device_id = ? AND r.t < ?').get(id, collectorAt) as {
            n: number;
          }
        ).n;
        // Reported, not asserted: how many outage readings survive depends on how soon after the collector's
        // start the agent's next reconnect attempt falls (up to reconnectMax, 1 s), while the outbox holds only
        // ~1 s of this traffic. That the newest survived is asserted below (every gap ends before the first
        // stored reading).
        const gap = db
          .prepare(
            "SELECT coalesce(sum(count), 0) AS n, min(from_t) AS firstFrom, max(to_t) AS lastTo, count(*) AS messages FROM gaps WHERE device_id = ? AND kind = 'data'",
          )
          .get(id) as { n: number; firstFrom: number | null; lastTo: number | null; messages: number };
        report.push(`${device}: taken ${taken}, stored ${stored.n} (${keptFromOutage} from the outage), in gaps ${gap.n} (${gap.messages} gap messages)`);
        gapTotal += gap.n;
        expect.soft(taken, device).toBeGreaterThan(0);
        expect.soft(gap.n, `${device}: some of its telemetry was evicted`).toBeGreaterThan(0);
        // Every reading accounted for, to the reading.
        expect.soft(stored.n + gap.n, `${device}: stored + gaps == taken`).toBe(taken);
        // The oldest went: the first readings of the outage are in a gap, not stored.
        expect.soft(gap.firstFrom as number, `${device}: the oldest readings were evicted`).toBeLessThan(stored.first as number);
        // Eviction takes the oldest *unsent* telemetry: messages already in flight when the
        // outbox filled again cannot be evicted, so readings older than the last evicted one may be stored,
        // but only from those in-flight messages (at most the agent's inflightWindow, 100 by default).
        const olderThanEvicted = (
          db
            .prepare('SELECT count(DISTINCT r.seq) AS n FROM readings r JOIN series s ON s.id = r.series_id WHERE s.device_id = ? AND r.t < ?')
            .get(id, gap.lastTo ?? 0) as { n: number }
        ).n;
        expect.soft(olderThanEvicted, `${device}: stored messages older than the last evicted reading (in flight at eviction)`).toBeLessThanOrEqual(100);
      }
      console.log(`outbox-full: ${report.join('; ')}`);
      expect.soft(metricValue(metrics, 'medtel_agent_outbox_dropped_readings_total', { reason: 'max_bytes' }), 'dropped readings == gap counts').toBe(gapTotal);
      // The API serves them too, with the reason.
      const gaps = (await bench.api<{ gaps: Gap[] }>('/api/v1/devices/gw-full.pump-1/gaps')).body.gaps;
      expect(gaps.length).toBeGreaterThan(0);
      expect(gaps[0]).toMatchObject({ kind: 'data', reason: expect.stringMatching(/outbox full/) });
    } finally {
      db.close();
    }
  }, 150_000);
});
