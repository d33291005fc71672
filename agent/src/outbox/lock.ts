import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * One agent per state directory: two agents on one outbox would interleave
 * sequence numbers and each delete the other's rows. SQLite's own locks do not
 * prevent that in WAL mode, so the agent holds a lock file with its pid.
 * A lock left by a process that no longer exists is taken over.
 */
export class StateLock {
  private constructor(private readonly file: string) {}

  static acquire(file: string): StateLock {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return new StateLock(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw Object.assign(new Error(`another medtel-agent (pid ${holder}) is using it; stop that one first, or remove ${file} if no agent runs`), {
        code: 'LOCKED',
      });
    }
    writeFileSync(file, `${process.pid}\n`);
    return new StateLock(file);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
