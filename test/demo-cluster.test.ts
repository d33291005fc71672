import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir, waitFor } from './helpers.js';

/**
 * `npm run demo:cluster` as a user runs it: PostgreSQL + Redis + two collector
 * replicas + the TCP balancer + two gateways. Readings of both gateways must be
 * readable through both replicas, and Ctrl-C must leave no process and no
 * PostgreSQL data behind. Needs postgresql-15 and redis-server (.ci/run installs both).
 */
interface ClusterInfo {
  balancer: { mqtt: number; http: string };
  replicas: string[];
  gateways: string[];
  postgresDir: string;
  pids: Record<string, number>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Needs postgresql-15 and redis-server (.ci/run installs both); without them the demo says which to install and this fails.
describe('npm run demo:cluster', () => {
  const dir = tempDir('medtel-demo-cluster-');
  let demo: ChildProcess | undefined;
  let output = '';

  afterAll(() => {
    if (demo && demo.exitCode === null) demo.kill('SIGKILL');
    dir.remove();
  });

  it('serves both gateways through both replicas, and Ctrl-C stops everything', async () => {
    demo = spawn(process.execPath, [join(ROOT, 'scripts', 'demo-cluster.mjs'), '--dir', dir.path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = demo;
    child.stdout?.on('data', (d) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor(
      'the demo to say it is running',
      () => (/is running/.test(output) ? true : child.exitCode !== null ? Promise.reject(new Error(output)) : undefined),
      180_000,
      250,
    );

    const info = JSON.parse(readFileSync(join(dir.path, 'cluster.json'), 'utf8')) as ClusterInfo;
    const token = readFileSync(join(dir.path, 'token'), 'utf8').trim();
    expect(info.replicas).toHaveLength(2);
    expect(info.gateways).toHaveLength(2);
    // What the printed curl lines show: each gateway's readings on each replica, and through the HTTP balancer.
    for (const base of [...info.replicas, info.balancer.http])
      for (const gateway of info.gateways) {
        const res = await fetch(`${base}/api/v1/devices/${gateway}.pump-1/telemetry?metric=rate&limit=1`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, `${gateway} on ${base}`).toBe(200);
        const body = (await res.json()) as { count: number; readings: Array<{ metric: string }> };
        expect(body.count, `${gateway} on ${base}`).toBe(1);
        expect(body.readings[0]?.metric).toBe('rate');
      }
    for (const base of info.replicas) {
      const ready = await fetch(`${base}/readyz`);
      expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({ store: 'ok', redis: 'ok' });
    }
    // The gateways went through the balancer: one on each replica (round-robin).
    const connectedOn = ['a', 'b'].map((r) => readFileSync(join(dir.path, 'logs', `collector-${r}.log`), 'utf8').includes('"gateway connected"'));
    expect(connectedOn).toEqual([true, true]);

    const pids = Object.entries(info.pids);
    expect(pids.map(([name]) => name)).toEqual(expect.arrayContaining(['collector-a', 'collector-b', 'balancer-mqtt', 'postgres', 'redis']));
    expect(pids.every(([, pid]) => alive(pid))).toBe(true);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await waitFor('every process of the demo to be gone', () => (pids.every(([, pid]) => !alive(pid)) ? true : undefined), 15_000, 200);
    expect(existsSync(info.postgresDir)).toBe(false);
    expect(existsSync(join(dir.path, 'data'))).toBe(false);
    expect(output).toMatch(/stopped; PostgreSQL, Redis and agent data removed/);
  }, 300_000);
});
