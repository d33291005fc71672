import type { GapMessage } from '@medtel/shared';

export type GapBody = Omit<GapMessage, 'v' | 'seq' | 'sentAt' | 'traceparent'>;

/**
 * Adds up what had to be dropped, per device and kind, so the collector can be
 * told exactly what is missing: how many readings (or messages), over which
 * time range, and why.
 */
export class GapTally {
  private readonly byKey = new Map<string, GapBody>();

  add(device: string | null, kind: string, count: number, from: number, to: number, reason: string): void {
    if (!device) return; // gateway-level messages (command results) have no device to report against
    const key = `${device}\u0000${kind}\u0000${reason}`;
    const gap = this.byKey.get(key);
    if (gap) {
      gap.count += count;
      gap.from = Math.min(gap.from, from);
      gap.to = Math.max(gap.to, to);
    } else {
      this.byKey.set(key, { device, kind: kind as GapBody['kind'], count, from, to, reason });
    }
  }

  get empty(): boolean {
    return this.byKey.size === 0;
  }

  drain(): GapBody[] {
    const gaps = [...this.byKey.values()];
    this.byKey.clear();
    return gaps;
  }
}
