/**
 * One of our CLIs as a supervised child: its log captured, ready when it logs
 * `readyMsg`, an early exit turned into an error, and a SIGTERM stop that
 * falls back to SIGKILL. Shared by the collector and the agent.
 */
import { join } from 'node:path';
import { track } from './cleanup.mjs';
import { captureLog } from './process-log.mjs';
import { withTimeout } from './timing.mjs';

export async function supervise(child, { name, dir, readyMsg, readyTimeoutMs, onEntry }) {
  track(child);
  let onReady;
  const log = captureLog(child, join(dir, `${name}.log`), {
    onEntry: (entry) => {
      onEntry?.(entry);
      if (entry.msg === readyMsg) onReady();
    },
  });
  const tail = () => log.stderr.trim().slice(-2000);
  const ready = new Promise((resolveReady, rejectReady) => {
    onReady = resolveReady;
    child.once('exit', (code, signal) => rejectReady(new Error(`${name} exited before it was ready (code ${code}, signal ${signal}): ${tail()}`)));
  });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  await withTimeout(ready, readyTimeoutMs, `waiting for the ${name} to start`);

  let stopping = false;
  let exitedEarly = false;
  const unexpectedExit = exited.then(({ code, signal }) => {
    if (stopping) return undefined;
    exitedEarly = true;
    return new Error(`${name} exited during the run (code ${code}, signal ${signal}): ${tail()}`);
  });
  return {
    child,
    pid: child.pid,
    log,
    exited,
    unexpectedExit,
    get exitedEarly() {
      return exitedEarly;
    },
    /** SIGTERM, then SIGKILL after 10 s; resolves to {code, signal, timedOut?}. */
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let result;
      try {
        result = await withTimeout(exited, 10_000, `waiting for the ${name} to stop on SIGTERM`);
      } catch {
        child.kill('SIGKILL');
        result = { ...(await exited), timedOut: true };
      }
      await log.end();
      return result;
    },
  };
}
