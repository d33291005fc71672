/**
 * The child processes of `npm run demo` and `npm run demo:cluster`: each a
 * Node script with its output in `logDir/<name>.log`, started when its ready
 * line appears, stopped in a given order (SIGTERM, SIGKILL after 5 s). If one
 * exits while the demo runs, `onUnexpectedExit` is called (the demo stops).
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join, relative } from 'node:path';

export function createProcessGroup({ cwd, logDir, say, onUnexpectedExit }) {
  const children = [];
  let stopping = false;
  const logName = (name) => relative(process.cwd(), join(logDir, `${name}.log`)) || `${name}.log`;

  /** Runs `node script ...args` and resolves with the child once `ready` matches its output. */
  function start(name, script, args, ready, { env } = {}) {
    const log = createWriteStream(join(logDir, `${name}.log`));
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.push({ name, child });
    let buffered = '';
    let pattern = ready;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s; see ${logName(name)}`)), 30_000);
      const onData = (chunk) => {
        log.write(chunk);
        if (!pattern) return;
        buffered += chunk.toString();
        if (pattern.test(buffered)) {
          clearTimeout(timer);
          buffered = '';
          pattern = undefined; // only once
          resolve(child);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (!stopping) {
          say(`demo: ${name} exited (code ${code}); see ${logName(name)}`);
          reject(new Error(`${name} exited`));
          onUnexpectedExit?.(name);
        }
      });
    });
  }

  /** Stops the named children in this order, then any others, newest first. */
  async function stopAll(order = []) {
    stopping = true;
    const rest = children.filter((c) => !order.includes(c.name)).reverse();
    const ordered = [...order.flatMap((name) => children.filter((c) => c.name === name)), ...rest];
    for (const { child } of ordered) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  }

  /** { name: pid } of every child started (the demo:cluster test checks none is left). */
  const pids = () => Object.fromEntries(children.map((c) => [c.name, c.child.pid]));

  return { start, stopAll, pids, isStopping: () => stopping };
}
