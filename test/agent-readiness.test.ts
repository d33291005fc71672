import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { writePumpAgentConfig } from './pump-agent.js';
import { getJson, startCli, tempDir, waitFor } from './helpers.js';

const dir = tempDir('medtel-agent-ready-');
afterAll(() => dir.remove());

type Ready = { status: string; outbox: { rows: number; writeError?: string } };

/**
 * The agent's /readyz says whether it can keep what it reads: while outbox commits fail (here another
 * process holds the database's write lock, as a full disk or an I/O error would fail them) it is not
 * ready, the agent keeps running and polling, and it is ready again once a commit succeeds.
 */
describe('agent /readyz', () => {
  it('fails while the outbox cannot be written and recovers by itself', async () => {
    const { file, ports } = await writePumpAgentConfig(dir.path, 'gw-ready');
    const { modbus, http } = ports;
    const sim = startCli('simulators', ['pump', '--modbus-tcp', `127.0.0.1:${modbus}`]);
    const agent = startCli('agent', ['run', '--config', file], dir.path);
    const readyz = () => getJson<Ready>(`http://127.0.0.1:${http}/readyz`);
    try {
      await sim.waitForLine(/listening/);
      await agent.waitForLine(/agent started/);
      await waitFor('readings in the outbox', async () => (await readyz()).body.outbox.rows >= 3);
      expect((await readyz()).status).toBe(200);

      const other = new Database(join(dir.path, 'state', 'outbox.db'));
      other.exec('BEGIN IMMEDIATE');
      try {
        const failing = await waitFor('readyz to fail', async () => {
          const r = await readyz();
          return r.status === 503 ? r : undefined;
        });
        expect(failing.body.status).toBe('not ready');
        expect(failing.body.outbox.writeError).toMatch(/database is locked/);
        await agent.waitForLine(/outbox cannot be written/);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      await waitFor('readyz to recover', async () => (await readyz()).status === 200 || undefined);
      await agent.waitForLine(/outbox writable again/);
      // It never stopped: the process is still there and still polling.
      const rows = (await readyz()).body.outbox.rows;
      await waitFor('more readings after recovery', async () => (await readyz()).body.outbox.rows > rows);
      expect(await agent.stop('SIGTERM')).toBe(0);
    } finally {
      await agent.stop('SIGKILL').catch(() => undefined);
      await sim.stop();
    }
  }, 60_000);
});
