import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * The outbox backlog a biomed team sees per gateway (dashboard, GET /gateways):
 * while the collector is down the agent keeps reading into its outbox; when
 * it reconnects, its online state reports what is waiting, before draining it.
 */
type Gateway = { id: string; state: string; outbox: { rows: number; bytes: number; oldestAgeSeconds: number; at: string } | null };

let stack: Stack;
const gateway = async () => (await stack.api<{ items: Gateway[] }>('/api/v1/gateways')).body.items.find((g) => g.id === 'gw-backlog');

beforeAll(async () => {
  const modbus = await freePort();
  stack = await startStack({
    gateway: 'gw-backlog',
    site: 'ward-7',
    devices: [{ id: 'pump-1', profile: 'medtel-mt-lvp-100', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: modbus }, pollInterval: '250ms' }],
    simulators: [['pump', '--modbus-tcp', `127.0.0.1:${modbus}`, '--seed', '11']],
  });
}, 60_000);

afterAll(() => stack?.stop());

describe('gateway outbox backlog', () => {
  it('is reported with the online state, and after an outage shows what waited', async () => {
    const first = await waitFor('the first backlog report', async () => (await gateway())?.outbox ?? undefined, 20_000);
    expect(first).toMatchObject({ rows: expect.any(Number), bytes: expect.any(Number), oldestAgeSeconds: expect.any(Number) });

    await stack.collector.stop('SIGKILL');
    // Readings keep coming into the outbox (4 a second) while nobody acknowledges them.
    await new Promise((r) => setTimeout(r, 3000));
    await stack.startCollector();

    const after = await waitFor(
      'the report made on reconnecting',
      async () => {
        const g = await gateway();
        return g?.outbox && Date.parse(g.outbox.at) > Date.parse(first.at) ? g : undefined;
      },
      20_000,
    );
    expect(after.state).toBe('online');
    expect(after.outbox?.rows).toBeGreaterThan(5);
    expect(after.outbox?.bytes).toBeGreaterThan(0);
    expect(after.outbox?.oldestAgeSeconds).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
