import type { Client } from 'aedes';

/**
 * Per-connection limits that aedes does not offer itself.
 *
 * Packet size: aedes's mqtt-packet parser would buffer a packet of any
 * announced length (up to 256 MiB). We look at the length field as soon as
 * the parser has read it and close the connection if it is too large, so the
 * body is never buffered. `maxBytes` is asked per packet: a client that has
 * not authenticated yet gets a much smaller limit than a gateway.
 */
export function guardPacketSize(client: Client, maxBytes: () => number, onOversize: (length: number, max: number) => void): void {
  // Not in aedes's types: the parser is a private field (aedes 1.x lib/client.js), checked by the limits test.
  const parser = (client as unknown as { _parser?: ParserInternals })._parser;
  if (!parser || typeof parser._parseLength !== 'function') throw new Error('aedes internals changed: cannot guard the packet size');
  const parseLength = parser._parseLength;
  parser._parseLength = function guardedParseLength(this: ParserInternals): boolean {
    const done = parseLength.call(this);
    const max = done ? maxBytes() : 0;
    if (done && this.packet.length > max) {
      onOversize(this.packet.length, max);
      // Stop parsing what is buffered: the state machine ends when a state returns false.
      this._list.consume(this._list.length);
      client.conn.destroy();
      return false;
    }
    return done;
  };
}

interface ParserInternals {
  _parseLength: () => boolean;
  packet: { length: number };
  _list: { length: number; consume(bytes: number): void };
}

/**
 * A token bucket that goes into debt: a publish over the rate is not refused
 * but delayed by the time its token takes to accrue. Delaying the callback of
 * authorizePublish delays the PUBACK, and aedes reads no more from that socket
 * until the callbacks of the current read are done, so a fast sender is slowed
 * by TCP back-pressure, not buffered. `take` answers how long to wait (ms), or
 * -1 if the wait would exceed maxDelayMs (a flood: disconnect).
 */
export class PublishRateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxDelayMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000);
    this.last = t;
    const waitMs = this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.ratePerSecond;
    if (waitMs > this.maxDelayMs) return -1;
    this.tokens -= 1;
    return waitMs;
  }
}
