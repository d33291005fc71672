import type { Random } from '../random.js';

/** Line faults a serial simulator can inject (each a probability per frame, 0..1). */
export interface LineFaults {
  /** Random bytes sent before a frame. */
  garbage?: number;
  /** Frame sent with a wrong checksum. */
  badChecksum?: number;
  /** Frame cut short (its tail never sent). */
  truncate?: number;
  /** Frame never sent at all (ECG: a lost frame; polled: an unanswered request). */
  drop?: number;
}

export interface FaultStats {
  frames: number;
  garbage: number;
  badChecksum: number;
  truncated: number;
  dropped: number;
}

/**
 * Applies LineFaults to outgoing frames, reproducibly from a seeded PRNG, and
 * counts what it did so a test can compare with what the agent counted.
 * `corrupt` flips the frame's checksum; the protocol supplies it.
 */
export class FaultInjector {
  readonly stats: FaultStats = { frames: 0, garbage: 0, badChecksum: 0, truncated: 0, dropped: 0 };

  constructor(
    private readonly faults: LineFaults,
    private readonly random: Random,
  ) {}

  /** The bytes to put on the line for `frame` (possibly none). */
  shape(frame: Buffer, corrupt: (frame: Buffer) => Buffer): Buffer {
    this.stats.frames += 1;
    const f = this.faults;
    if (f.drop && this.random() < f.drop) {
      this.stats.dropped += 1;
      return Buffer.alloc(0);
    }
    const parts: Buffer[] = [];
    if (f.garbage && this.random() < f.garbage) {
      this.stats.garbage += 1;
      parts.push(Buffer.from(Array.from({ length: 1 + Math.floor(this.random() * 16) }, () => Math.floor(this.random() * 256))));
    }
    let out = frame;
    if (f.badChecksum && this.random() < f.badChecksum) {
      this.stats.badChecksum += 1;
      out = corrupt(out);
    } else if (f.truncate && this.random() < f.truncate) {
      this.stats.truncated += 1;
      out = out.subarray(0, Math.max(1, Math.floor(out.length * this.random())));
    }
    parts.push(out);
    return Buffer.concat(parts);
  }
}
