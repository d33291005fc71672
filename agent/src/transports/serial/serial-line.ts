import { Backoff, type Logger } from '@medtel/shared';
import type { ByteLink, LinkEvents } from './byte-link.js';
import { describeEndpoint, type SerialEndpoint } from './endpoint.js';
import { describeSerialError } from './link-errors.js';
import { openTcpLink } from './tcp-link.js';
import { openTtyLink } from './tty-link.js';

export interface SerialLineListener {
  /** The link is open (bytes may flow). */
  up(): void;
  /** The link was lost or could not be opened; a reopen is already scheduled. */
  down(reason: string): void;
  data(bytes: Buffer): void;
}

export interface SerialLineOptions {
  endpoint: SerialEndpoint;
  /**
   * Read watchdog: no byte for this long while open => the link is treated as dead,
   * closed and reopened. On Linux a vanished pty or unplugged adapter may raise no
   * event at all, so silence is the only reliable sign. 0 turns it off.
   */
  quietMs: number;
  connectTimeoutMs: number;
  /** Reopen delays (jittered, shared/src/backoff.ts). Defaults 250 ms .. 5 s: a replugged adapter is back quickly. */
  reopenMinMs?: number;
  reopenMaxMs?: number;
  logger: Logger;
  /** Who uses the line, for log lines (device ids). */
  label: string;
}

/**
 * Keeps one serial endpoint open for as long as it runs: opens it, watches that
 * bytes keep coming, and on any failure closes it and tries again with backoff,
 * for ever, without the agent restarting. It knows nothing of protocols.
 */
export class SerialLine {
  private link: ByteLink | undefined;
  private generation = 0;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastByteAt = 0;
  private readonly backoff: Backoff;
  readonly target: string;

  constructor(
    private readonly o: SerialLineOptions,
    private readonly listener: SerialLineListener,
  ) {
    this.target = describeEndpoint(o.endpoint);
    this.backoff = new Backoff({ initialMs: o.reopenMinMs ?? 250, maxMs: o.reopenMaxMs ?? 5000 });
  }

  get isOpen(): boolean {
    return this.link !== undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    this.generation += 1;
    const link = this.link;
    this.link = undefined;
    await link?.close();
  }

  /** Writes to the open link; rejects when there is none (the caller counts it as a failed request). */
  async write(bytes: Buffer): Promise<void> {
    const link = this.link;
    if (!link) throw new Error(`${this.target} is not open`);
    try {
      await link.write(bytes);
    } catch (err) {
      // A write that fails with EIO is the first sign of a vanished far end.
      this.lost(describeSerialError(err, this.target));
      throw err;
    }
  }

  /** The protocol decided the link is dead (e.g. requests keep timing out): close and reopen. */
  restart(reason: string): void {
    if (this.link) this.lost(reason);
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    const events: LinkEvents = {
      data: (bytes) => {
        if (generation !== this.generation) return;
        this.lastByteAt = Date.now();
        this.backoff.reset();
        this.listener.data(bytes);
      },
      closed: (reason) => {
        if (generation === this.generation) this.lost(`${this.target}: ${reason}`);
      },
    };
    let link: ByteLink;
    try {
      const e = this.o.endpoint;
      link = e.kind === 'tcp' ? await openTcpLink(e, events, this.o.connectTimeoutMs) : await openTtyLink(e, events);
    } catch (err) {
      if (generation !== this.generation || this.stopped) return;
      this.scheduleReopen(describeSerialError(err, this.target));
      return;
    }
    if (generation !== this.generation || this.stopped) {
      await link.close();
      return;
    }
    this.link = link;
    this.lastByteAt = Date.now();
    this.o.logger.debug({ devices: this.o.label, line: this.target }, 'serial line open');
    if (this.o.quietMs > 0) {
      this.watchdog = setInterval(() => this.checkQuiet(), Math.max(20, Math.min(250, this.o.quietMs / 4)));
      this.watchdog.unref();
    }
    this.listener.up();
  }

  private checkQuiet(): void {
    const quietFor = Date.now() - this.lastByteAt;
    if (this.link && quietFor > this.o.quietMs) this.lost(`no data from ${this.target} for ${quietFor} ms`);
  }

  private lost(reason: string): void {
    if (!this.link || this.stopped) return;
    const link = this.link;
    this.link = undefined;
    this.generation += 1;
    clearInterval(this.watchdog);
    void link.close();
    this.scheduleReopen(reason);
  }

  private scheduleReopen(reason: string): void {
    const delay = this.backoff.next();
    this.o.logger.debug({ devices: this.o.label, reason, retryInMs: delay }, 'serial line down');
    this.listener.down(reason);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.open(), delay);
  }
}
