import { afterAll, describe, expect, it } from 'vitest';
import type { CollectorConfig } from '../dist/index.js';
import { waitFor } from '../../test/helpers.js';
import { SECRETS, connectGateway, startTestCollector } from './collector-fixture.js';
import { FakePumpGateway, pressureRule } from './alerts-helpers.js';

/** Open alerts and time-based conditions survive a collector restart, without duplicates. */

type Alert = { id: number; key: string; state: string; count: number; raisedAt: string };
type Collector = Awaited<ReturnType<typeof startTestCollector>>;

const configure = (c: CollectorConfig) => {
  c.alerts.holdOff = '0s';
  c.alerts.connectivityGrace = '5s';
  c.alerts.evaluateEvery = '100ms';
};

let current: Collector | undefined;
afterAll(async () => current?.close());

async function alerts(c: Collector, query: string): Promise<Alert[]> {
  const token = await c.token('viewer');
  return (await c.api.inject({ method: 'GET', url: `/api/v1/alerts${query}`, headers: { authorization: `Bearer ${token}` } })).json().items;
}

describe('collector restart', () => {
  it('keeps open alerts, resumes no-data and grace timing, and raises nothing twice', async () => {
    const first = await startTestCollector({ configure });
    current = first;
    const technician = await first.token('technician');
    const post = (payload: object) =>
      first.api.inject({ method: 'POST', url: '/api/v1/alert-rules', headers: { authorization: `Bearer ${technician}` }, payload });
    expect((await post(pressureRule)).statusCode).toBe(201);
    const silent = { ...pressureRule, name: 'silent', metric: 'line_pressure', condition: { kind: 'no-data', seconds: 2 }, priority: 'medium' };
    expect((await post({ ...silent, scope: { device: 'gw-1.pump-1' } })).statusCode).toBe(201);

    const gw = new FakePumpGateway(await connectGateway(first.mqttPort, 'gw-1', SECRETS['gw-1']));
    await gw.birth();
    await gw.pressure(350);
    const unreachableAt = Date.now();
    await gw.status('unreachable');
    const before = await waitFor('pressure and no-data alerts open', async () => {
      const open = await alerts(first, '?state=open');
      return open.length === 2 ? open : undefined;
    });
    expect(before.map((a) => a.key).sort()).toEqual(['rule:1:gw-1.pump-1', 'rule:2:gw-1.pump-1']);
    await gw.client.endAsync();
    await first.stop();

    const second = await startTestCollector({ configure, dir: first.dir });
    current = second;
    // The grace period counts from the status' own time, not from the restart.
    const conn = await waitFor('connectivity alert', async () => (await alerts(second, '?state=open')).find((a) => a.key === 'conn:device:gw-1.pump-1'));
    expect(Date.parse(conn.raisedAt) - unreachableAt).toBeLessThan(6500);
    const open = await alerts(second, '?state=open');
    expect(
      open
        .filter((a) => a.key.startsWith('rule:'))
        .map((a) => a.id)
        .sort(),
    ).toEqual(before.map((a) => a.id).sort());

    const gw2 = new FakePumpGateway(await connectGateway(second.mqttPort, 'gw-1', SECRETS['gw-1']), 'gw-1', 'pump-1', gw.nextSeq);
    await gw2.pressure(360); // still high: the same alert, not a second one; and data again: no-data resolves
    await waitFor('no-data resolved', async () => (await alerts(second, '?state=resolved')).some((a) => a.key === 'rule:2:gw-1.pump-1'));
    await second.alerts.idle();
    const pressure = (await alerts(second, '')).filter((a) => a.key === 'rule:1:gw-1.pump-1');
    expect(pressure).toHaveLength(1);
    expect(pressure[0]).toMatchObject({ state: 'active', count: 1 });

    await gw2.pressure(60);
    await waitFor('pressure alert resolved', async () => (await alerts(second, '?state=resolved')).some((a) => a.key === 'rule:1:gw-1.pump-1'));
    await gw2.client.endAsync();
  });
});
