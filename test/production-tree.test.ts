import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT, freePort, getJson, tempDir, waitFor } from './helpers.js';

/**
 * What the collector image contains, without a container engine: the build
 * stage of collector/Dockerfile runs scripts/production-tree.mjs, so this test
 * runs the same script into a temporary directory and starts the collector
 * from there — nothing from the checkout, no development dependencies.
 */

const dir = tempDir('medtel-tree-');
afterAll(() => dir.remove());

describe('the collector production tree (as in the image)', () => {
  it('holds production dependencies only and serves /healthz and /readyz when started on its own', async () => {
    const tree = join(dir.path, 'app');
    execFileSync(process.execPath, [join(ROOT, 'scripts/production-tree.mjs'), '--workspaces', 'shared,collector', '--out', tree], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const absent of ['vitest', 'typescript', '@biomejs', 'kubernetes-models', 'serialport', 'node-opcua-client', 'mqtt'])
      expect(existsSync(join(tree, 'node_modules', absent)), absent).toBe(false);
    for (const absent of ['agent', 'simulators', 'collector/src', 'shared/src']) expect(existsSync(join(tree, absent)), absent).toBe(false);

    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const config = join(dir.path, 'collector.yaml');
    writeFileSync(
      config,
      stringify({
        mqtt: { port: mqttPort, plain: { enabled: true } },
        http: { port: httpPort },
        store: { path: join(dir.path, 'state', 'collector.db') },
        auth: { keyFile: join(dir.path, 'state', 'token-signing.key') },
      }),
    );
    // As the image's ENTRYPOINT does: node on the tree's cli.js, from a directory outside the checkout.
    const child = spawn(process.execPath, [join(tree, 'collector/dist/cli.js'), 'run', '--config', config], {
      cwd: dir.path,
      env: { ...process.env, NODE_ENV: 'production', NODE_PATH: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const base = `http://127.0.0.1:${httpPort}`;
      const health = await waitFor(
        '/healthz',
        async () => {
          if (child.exitCode !== null) throw new Error(`collector exited: ${output}`);
          const r = await getJson<{ status: string }>(`${base}/healthz`);
          return r.status === 200 ? r.body : undefined;
        },
        30_000,
      );
      expect(health.status).toBe('ok');
      expect((await getJson(`${base}/readyz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  }, 120_000);
});
