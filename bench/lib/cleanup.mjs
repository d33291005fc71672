/**
 * What a bench run leaves behind, and its removal: every child process it
 * starts (killed on exit, errors and Ctrl-C) and its temp dirs, one per
 * scenario (removed on exit unless kept with --keep or after a failure).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const children = new Set();
/** Temp dirs of this run (one per scenario), each with whether to keep it on exit. */
const tempDirs = new Map();
let tempDir;

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

/** A temp dir for the current scenario, under the OS temp dir; removed on exit unless `keep`. */
export function createTempDir(prefix, { keep = false } = {}) {
  tempDir = mkdtempSync(join(os.tmpdir(), prefix));
  tempDirs.set(tempDir, keep);
  return tempDir;
}

/** Keeps the current scenario's temp dir after exit (a failed run); returns its path, or undefined if there is none yet. */
export function keepTempDir() {
  if (tempDir) tempDirs.set(tempDir, true);
  return tempDir;
}

/** Removes the current scenario's temp dir now unless it is to be kept (frees the disk before the next scenario). */
export function releaseTempDir() {
  if (!tempDir) return;
  if (!tempDirs.get(tempDir)) {
    rmSync(tempDir, { recursive: true, force: true });
    tempDirs.delete(tempDir);
  }
  tempDir = undefined;
}

export const tempDirPath = () => tempDir;

/** Kill children and remove the temp dir on exit; turn SIGINT/SIGTERM/SIGHUP into exit 130. */
export function installCleanup() {
  process.on('exit', () => {
    killAll('SIGKILL');
    for (const [dir, keep] of tempDirs) if (!keep) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping\n`);
      killAll('SIGKILL');
      process.exit(130);
    });
  }
}
