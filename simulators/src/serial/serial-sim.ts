import type { Logger } from '@medtel/shared';
import { type Random, randomSeed, seededRandom } from '../random.js';
import { FaultInjector, type FaultStats, type LineFaults } from '../transports/faults.js';
import { openSimSerialLink, type SerialLinkSpec, type SimSerialLink } from '../transports/serial-link.js';

/** What every serial simulator offers: where it listens, line faults, stalls and unplugs. */
export interface SerialSimOptions {
  link: SerialLinkSpec;
  faults?: LineFaults;
  seed?: number;
  /** Seconds after start when the device stops sending anything, and for how long (default: for ever). */
  stallAfterS?: number;
  stallForS?: number;
  /** Seconds after start when the cable is pulled (pty removed / client dropped), and for how long. */
  unplugAfterS?: number;
  unplugForS?: number;
  logger?: Logger;
}

export interface SerialSimStats extends FaultStats {
  /** Frames written to the line (after faults). */
  sent: number;
  unplugs: number;
}

/**
 * The line half of a serial simulator: the link, the fault injector, and the
 * stall and unplug schedule. Device code hands it whole frames.
 */
export class SerialSimRuntime {
  readonly random: Random;
  readonly seed: number;
  private readonly injector: FaultInjector;
  private readonly started = performance.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private unplugs = 0;
  private sent = 0;

  private constructor(
    readonly link: SimSerialLink,
    private readonly o: SerialSimOptions,
    seed: number,
  ) {
    this.seed = seed;
    this.random = seededRandom(seed);
    this.injector = new FaultInjector(o.faults ?? {}, this.random);
    if (o.unplugAfterS !== undefined) {
      const t = setTimeout(() => void this.unplug((o.unplugForS ?? 5) * 1000), o.unplugAfterS * 1000);
      t.unref();
      this.timers.push(t);
    }
  }

  static async open(o: SerialSimOptions): Promise<SerialSimRuntime> {
    const link = await openSimSerialLink(o.link);
    return new SerialSimRuntime(link, o, o.seed ?? randomSeed());
  }

  /** True while the stall scenario keeps the device mute. */
  stalled(now = performance.now()): boolean {
    const { stallAfterS, stallForS } = this.o;
    if (stallAfterS === undefined) return false;
    const t = (now - this.started) / 1000;
    return t >= stallAfterS && (stallForS === undefined || t < stallAfterS + stallForS);
  }

  /** Puts one frame on the line, through the fault injector; nothing while stalled. */
  send(frame: Buffer, corrupt: (f: Buffer) => Buffer): void {
    if (this.stalled()) return;
    const bytes = this.injector.shape(frame, corrupt);
    if (bytes.length === 0) return;
    this.sent += 1;
    this.link.write(bytes);
  }

  async unplug(forMs: number): Promise<void> {
    this.unplugs += 1;
    this.o.logger?.info({ forMs }, 'serial line unplugged');
    await this.link.unplug(forMs);
    this.o.logger?.info('serial line plugged back in');
  }

  stats(): SerialSimStats {
    return { ...this.injector.stats, sent: this.sent, unplugs: this.unplugs };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await this.link.close();
  }
}
