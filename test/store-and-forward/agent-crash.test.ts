import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, countReadings, inspectCollector, seededRandom, sleep, waitFor, expectExactlyOnceInOrder } from './harness.js';

/**
 * The agent SIGKILLed 20 times at random moments while ten pumps stream
 * (~2,400 readings/s), restarted each time on the same state directory.
 * Counted on the collector's own SQLite file: every seq 1..max exactly once,
 * every data message whole, no reading twice, each series stored in time order.
 *
 * Replay a failure with MEDTEL_SAF_SEED=<seed printed below>.
 */
const SEED = Number(process.env.MEDTEL_SAF_SEED ?? 20261126);
const KILLS = 20;
const MIN_READINGS = 50_000;

const bench = new Bench({
  gateway: 'gw-crash',
  pumps: Array.from({ length: 10 }, (_, i) => ({ id: `pump-${i + 1}` })),
  pollInterval: '50ms',
});

beforeAll(async () => {
  await bench.init();
  await bench.startCollector();
  await bench.startPumps();
});

afterAll(async () => {
  await bench.stopAll();
  bench.remove();
});

describe('agent killed (SIGKILL) at random moments while pumps stream', () => {
  it(`loses nothing and stores nothing twice, in order, across ${KILLS} kills (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const phases = { startup: 0, running: 0 };
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        const agent = await bench.startAgent(false);
        // A quarter of the kills land in start-up (before or while the outbox opens and
        // the uplink connects), the rest while polling, committing and publishing.
        const delay = random() < 0.25 ? Math.floor(random() * 600) : 600 + Math.floor(random() * 2400);
        await sleep(delay);
        if (/agent started/.test(agent.output())) phases.running += 1;
        else phases.startup += 1;
        await agent.stop('SIGKILL');
        // Sometimes back at once, sometimes after a pause (the collector meanwhile holds a dead session).
        if (random() < 0.3) await sleep(Math.floor(random() * 500));
      }
      await bench.startAgent();
      await waitFor(`${MIN_READINGS} readings at the collector`, () => countReadings(bench.collectorDb) >= MIN_READINGS || undefined, 60_000, 500);

      // Stop polling, then wait until everything the agent wrote is acknowledged.
      await bench.stopPumps();
      await waitFor('every device seen as unreachable', async () => (await bench.healthz()).devices.every((d) => d.status === 'unreachable') || undefined);
      await bench.waitDrained(60_000);
      expect(await bench.stopAgent()).toBe(0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await bench.diagnose()}\n${bench.outputs()}`);
    }

    const outbox = bench.agentOutbox();
    const got = inspectCollector(bench.collectorDb, 'gw-crash');
    console.log(
      `agent-crash seed ${SEED}: kills in start-up ${phases.startup}, while running ${phases.running}; ` +
        `${got.messages} messages (seq ${got.minSeq}..${got.maxSeq}, agent's last seq ${outbox.maxSeq}), ${got.readings} readings, kinds ${JSON.stringify(got.byKind)}`,
    );
    expect(phases.startup).toBeGreaterThan(0);
    expect(phases.running).toBeGreaterThan(0);
    expectExactlyOnceInOrder(got, outbox);
    expect(got.readings).toBeGreaterThanOrEqual(MIN_READINGS);
    expect(got.readings).toBe((got.byKind.data ?? 0) * 12);
    expect(Object.keys(got.readingsByDevice)).toHaveLength(10);
  }, 150_000);
});
