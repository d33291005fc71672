import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { writePumpAgentConfig } from './pump-agent.js';
import { getJson, startCli, tempDir, waitFor } from './helpers.js';

const dir = tempDir('medtel-agent-');
afterAll(() => dir.remove());

describe('agent process', () => {
  it('keeps readings in its outbox while the collector is unreachable, and stops promptly on SIGTERM', async () => {
    const { file, ports } = await writePumpAgentConfig(dir.path, 'gw-lonely');
    const { modbus, http } = ports;
    const sim = startCli('simulators', ['pump', '--modbus-tcp', `127.0.0.1:${modbus}`]);
    await sim.waitForLine(/listening/);
    const agent = startCli('agent', ['run', '--config', file], dir.path);
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
