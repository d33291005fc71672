import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, disconnect, float32At, freePort, portIsFree } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function cli(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Run to completion; stdout, stderr and the exit code. */
async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = cli(args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Resolve with the first JSON log line whose msg matches. */
function waitForLog(child: ChildProcess, msg: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${msg}" log line within ${timeoutMs} ms`)), timeoutMs);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === msg) {
        clearTimeout(timer);
        resolve(entry);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before logging "${msg}"`)));
  });
}

describe('medtel-sim CLI', () => {
  it('rejects a bad flag with one line naming it, exit 2', async () => {
    const { code, stdout, stderr } = await runCli(['pump', '--rate', 'abc']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('medtel-sim: --rate: found "abc", expected a number between 0.1 and 1200\n');
  });

  it('reports commander-level mistakes the same way', async () => {
    for (const args of [['pump', '--modbus-tcp', '127.0.0.1:5020', '--bogus'], ['pump', '--rate'], ['pump'], ['nope']]) {
      const { code, stderr } = await runCli(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(/^medtel-sim: [^\n]+\n$/);
    }
  });

  it('prints help and exits 0', async () => {
    const { code, stdout } = await runCli(['pump', '--help']);
    expect(code).toBe(0);
    for (const flag of ['--modbus-tcp', '--unit-id', '--scenario', '--silent-for', '--seed', '--log-level']) {
      expect(stdout).toContain(flag);
    }
  });

  it('serves, logs "listening", and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = cli(['pump', '--modbus-tcp', `127.0.0.1:${port}`, '--unit-id', '3', '--rate', '250', '--seed', '9']);
    const listening = await waitForLog(child, 'pump simulator listening');
    expect(listening).toMatchObject({ host: '127.0.0.1', port, unitId: 3, seed: 9, level: 'info', name: 'medtel-sim' });

    const c = await connect(port, 3);
    const regs = (await c.readInputRegisters(0, 3)).data;
    expect(regs[0]).toBe(1);
    expect(float32At(regs, 1)).toBe(250);
    await disconnect(c);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(await portIsFree(port)).toBe(true);
  });

  it('stops on SIGINT too, with a client still connected', async () => {
    const port = await freePort();
    const child = cli(['pump', '--modbus-tcp', `127.0.0.1:${port}`, '--log-level', 'warn']);
    // At warn the listening line is not logged: wait for the port instead.
    let c: Awaited<ReturnType<typeof connect>> | undefined;
    for (let i = 0; i < 100 && !c; i++) {
      c = await connect(port).catch(() => undefined);
      if (!c) await new Promise((r) => setTimeout(r, 100));
    }
    expect(c).toBeDefined();
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    expect((await exited)[0]).toBe(0);
    if (c) await disconnect(c);
  });

  it('exits 1 with one line when the port is taken', async () => {
    const port = await freePort();
    const first = cli(['pump', '--modbus-tcp', `127.0.0.1:${port}`]);
    await waitForLog(first, 'pump simulator listening');
    const { code, stderr } = await runCli(['pump', '--modbus-tcp', `127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(stderr).toBe(`medtel-sim: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`);
  });
});
