import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';

const dir = tempDir('medtel-agent-');
afterAll(() => dir.remove());

describe('agent process', () => {
  it('keeps readings in its outbox while the collector is unreachable, and stops promptly on SIGTERM', async () => {
    const [mqtt, modbus, http] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      join(dir.path, 'agent.yaml'),
      [
        'gateway: { id: gw-lonely, site: s }',
        `collector: { url: "mqtt://127.0.0.1:${mqtt}", secret: not-used, reconnectMin: 100ms, reconnectMax: 300ms }`,
        'stateDir: ./state',
        `http: { port: ${http} }`,
        'devices:',
        `  - { id: pump-1, profile: medtel-mt-lvp-100, pollInterval: 200ms, connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${modbus} } }`,
      ].join('\n'),
    );
    const sim = startCli('simulators', ['pump', '--modbus-tcp', `127.0.0.1:${modbus}`]);
    await sim.waitForLine(/listening/);
    const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
    await agent.waitForLine(/agent started/);
    await waitFor(
      'data piling up in the outbox',
      async () => (await getJson<{ outbox: { rows: number } }>(`http://127.0.0.1:${http}/readyz`)).body.outbox.rows >= 5,
    );
    const health = await getJson<{ uplink: string; devices: Array<{ id: string; status: string }> }>(`http://127.0.0.1:${http}/healthz`);
    expect(health.body.uplink).toBe('disconnected');
    expect(health.body.devices[0]).toMatchObject({ id: 'pump-1', status: 'connected' });
    const stoppedAt = Date.now();
    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    await sim.stop();
    const db = new Database(join(dir.path, 'state', 'outbox.db'), { readonly: true });
    const kinds = db.prepare('SELECT kind, count(*) AS n FROM outbox GROUP BY kind ORDER BY kind').all();
    db.close();
    expect(kinds).toEqual(expect.arrayContaining([{ kind: 'birth', n: 1 }, { kind: 'status', n: 1 }, expect.objectContaining({ kind: 'data' })]));
  });
});
