/**
 * A throw-away redis-server from the Debian binary (`apt-get install
 * redis-server`) on a free loopback port, in a temp dir, with nothing written
 * to disk. Used by the tests (test/redis-server.ts re-exports it),
 * `npm run demo:cluster` and the bench.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.mjs';

export const REDIS_SERVER =
  process.env.MEDTEL_REDIS_SERVER ?? ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((f) => existsSync(f)) ?? '/usr/bin/redis-server';
export const haveRedis = existsSync(REDIS_SERVER);

/** Why a throw-away redis-server cannot start here, with the fix; undefined when it can. */
export function redisMissing() {
  return haveRedis ? undefined : `redis-server not found at ${REDIS_SERVER}: sudo apt-get install -y redis-server (or set MEDTEL_REDIS_SERVER)`;
}

/** Whether redis on `port` answers PING. */
function pong(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Starts it; resolves with { url, port, kill(), start(), close() }. */
export async function startRedis() {
  const missing = redisMissing();
  if (missing) throw new Error(missing);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'medtel-redis-'));
  let child;
  const start = async () => {
    child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await pong(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (code ${child.exitCode}) on port ${port}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (signal = 'SIGKILL') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    pid: () => child?.pid,
    /** Stops the server (SIGKILL by default: as if it crashed) and keeps the port for start(). */
    kill,
    /** Starts it again on the same port, empty (no persistence). */
    start,
    /** Stops it and removes its directory. */
    close: async () => {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
