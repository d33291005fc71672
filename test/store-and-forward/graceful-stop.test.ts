import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, countReadings, expectExactlyOnceInOrder, inspectCollector, waitFor } from './harness.js';

/**
 * What systemd (and Kubernetes) do at every upgrade and reboot: SIGTERM while pumps stream. Each
 * program must exit 0 well within the unit's TimeoutStopSec (30 s), leave its database consistent,
 * and after the restart every message must be in the collector's store exactly once, in order.
 * SIGKILL is covered by agent-crash and collector-crash; this is the orderly path.
 */
const STOPS = 3;
/** Far below TimeoutStopSec=30s: the agent waits at most 2 s for PUBACKs, the collector for one commit. */
const STOP_BOUND_MS = 10_000;

function quickCheck(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('quick_check', { simple: true }));
  } finally {
    db.close();
  }
}

async function drainAndCount(bench: Bench, gateway: string) {
  await bench.stopPumps();
  await waitFor('every device seen as unreachable', async () => (await bench.healthz()).devices.every((d) => d.status === 'unreachable') || undefined);
  await bench.waitDrained(60_000);
  return { got: inspectCollector(bench.collectorDb, gateway), outbox: bench.agentOutbox() };
}

const agentBench = new Bench({ gateway: 'gw-term', pumps: Array.from({ length: 4 }, (_, i) => ({ id: `pump-${i + 1}` })), pollInterval: '50ms' });

describe('agent stopped with SIGTERM mid-stream and restarted', () => {
  beforeAll(async () => {
    await agentBench.init();
    await agentBench.startCollector();
    await agentBench.startPumps();
  });
  afterAll(async () => {
    await agentBench.stopAll();
    agentBench.remove();
  });

  it(`exits 0 promptly each time, outbox consistent, and nothing is lost or stored twice (${STOPS} stops)`, async () => {
    let counted: Awaited<ReturnType<typeof drainAndCount>>;
    try {
      for (let stop = 0; stop < STOPS; stop++) {
        const agent = await agentBench.startAgent();
        const before = countReadings(agentBench.collectorDb);
        await waitFor('the stream to flow', () => countReadings(agentBench.collectorDb) > before + 500 || undefined, 30_000, 50);
        const started = Date.now();
        expect(await agentBench.stopAgent(STOP_BOUND_MS)).toBe(0);
        expect(Date.now() - started).toBeLessThan(STOP_BOUND_MS);
        // Stopped polling, closed the outbox and the device sessions, said so.
        expect(agent.output()).toMatch(/"msg":"agent stopped"/);
        expect(quickCheck(`${agentBench.stateDir}/outbox.db`)).toBe('ok');
      }
      await agentBench.startAgent();
      counted = await drainAndCount(agentBench, 'gw-term');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await agentBench.diagnose()}\n${agentBench.outputs()}`);
    }
    expectExactlyOnceInOrder(counted.got, counted.outbox);
    expect(Object.keys(counted.got.readingsByDevice)).toHaveLength(4);
  }, 150_000);
});

const collectorBench = new Bench({ gateway: 'gw-cterm', pumps: Array.from({ length: 4 }, (_, i) => ({ id: `pump-${i + 1}` })), pollInterval: '50ms' });

describe('collector stopped with SIGTERM mid-stream and restarted on the same port and store', () => {
  beforeAll(async () => {
    await collectorBench.init();
    await collectorBench.startCollector();
    await collectorBench.startPumps();
    await collectorBench.startAgent();
  });
  afterAll(async () => {
    await collectorBench.stopAll();
    collectorBench.remove();
  });

  it(`exits 0 promptly each time, store consistent, and nothing is lost or stored twice (${STOPS} stops)`, async () => {
    let counted: Awaited<ReturnType<typeof drainAndCount>>;
    try {
      for (let stop = 0; stop < STOPS; stop++) {
        const before = countReadings(collectorBench.collectorDb);
        await waitFor('the stream to flow', () => countReadings(collectorBench.collectorDb) > before + 500 || undefined, 30_000, 50);
        const collector = collectorBench.collector;
        const started = Date.now();
        // Commits in flight finish (their PUBACKs may not go out: the agent re-sends, the store drops the duplicates).
        expect(await collector?.stop('SIGTERM')).toBe(0);
        expect(Date.now() - started).toBeLessThan(STOP_BOUND_MS);
        expect(collector?.output()).toMatch(/"msg":"collector stopped"/);
        expect(quickCheck(collectorBench.collectorDb)).toBe('ok');
        await collectorBench.startCollector();
      }
      counted = await drainAndCount(collectorBench, 'gw-cterm');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await collectorBench.diagnose()}\n${collectorBench.outputs()}`);
    }
    expectExactlyOnceInOrder(counted.got, counted.outbox);
    expect(Object.keys(counted.got.readingsByDevice)).toHaveLength(4);
  }, 150_000);
});
