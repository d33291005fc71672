/**
 * What a bench run leaves behind, and its removal: every child process it
 * starts (killed on exit, errors and Ctrl-C) and its temp dir (removed on exit
 * unless kept with --keep or after a failure).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const children = new Set();
let tempDir;
let keepTemp = false;

/** Registers a child process to be killed when the bench exits; returns it. */
export function track(child) {
  children.add(child);
  return child;
}

export function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}

/** The run's temp dir (one per run), under the OS temp dir; removed on exit unless `keep`. */
export function createTempDir(prefix, { keep = false } = {}) {
  tempDir = mkdtempSync(join(os.tmpdir(), prefix));
  keepTemp = keep;
  return tempDir;
}

/** Keeps the temp dir after exit (a failed run); returns its path, or undefined if there is none yet. */
export function keepTempDir() {
  if (tempDir) keepTemp = true;
  return tempDir;
}

export const tempDirPath = () => tempDir;

/** Kill children and remove the temp dir on exit; turn SIGINT/SIGTERM/SIGHUP into exit 130. */
export function installCleanup() {
  process.on('exit', () => {
    killAll('SIGKILL');
    if (tempDir && !keepTemp) rmSync(tempDir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping\n`);
      killAll('SIGKILL');
      process.exit(130);
    });
  }
}
