import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { freePort, tempDir, waitFor } from './helpers.js';

export const REDIS_SERVER = '/usr/bin/redis-server';
/** CI installs it (apt-get install redis-server); tests that need it are skipped where it is missing. */
export const haveRedis = existsSync(REDIS_SERVER);

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (SIGKILL: as if it crashed) and keeps the port for start(). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (no persistence: `--save ''`). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A throw-away redis-server on a free loopback port, in a temp dir, with nothing written to disk. */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir('medtel-redis-');
  let child: ChildProcess | undefined;
  const up = () =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
  const start = async () => {
    child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir.path], {
      stdio: 'ignore',
    });
    await waitFor(`redis-server on port ${port}`, up, 10_000, 50);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    kill,
    start,
    close: async () => {
      await kill();
      dir.remove();
    },
  };
}
