import type { Logger } from '@medtel/shared';
import type { AgentMetrics } from '../../metrics.js';
import { SerialLine, type SerialEndpoint } from '../../transports/serial/index.js';
import { encodeReadRequest, encodeWriteRequest, type RtuReply, RtuReplyReader } from './rtu-frame.js';

export interface RtuRead {
  unit: number;
  fn: 3 | 4;
  start: number;
  count: number;
  timeoutMs: number;
  /** Device id, for metrics. */
  device: string;
}

/** A single write (a diagnostic test's start step): coil (05, value 0/1) or holding register (06). */
export interface RtuWrite {
  unit: number;
  fn: 5 | 6;
  address: number;
  value: number;
  timeoutMs: number;
  device: string;
}

export interface RtuBusOptions {
  endpoint: SerialEndpoint;
  /** Silence kept between the end of one transaction and the next request (some devices need it). */
  gapMs: number;
  /** Line watchdog: no byte from any unit for this long => reopen. */
  quietMs: number;
  logger: Logger;
  metrics: AgentMetrics;
  label: string;
}

export class RtuTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}
export class RtuLineDown extends Error {}

/**
 * The master of one shared RTU line. Requests from every unit's session are
 * strictly serialised: one in flight, each with its own timeout, and a fixed
 * silence after each transaction. A unit that does not answer costs its own
 * timeout and nothing more; the others keep their turns.
 */
export class RtuBus {
  private readonly line: SerialLine;
  private tail: Promise<unknown> = Promise.resolve();
  private current: { reader: RtuReplyReader; resolve(r: RtuReply): void } | undefined;
  private lastEnd = 0;
  private downReason = 'line not open yet';
  readonly target: string;

  constructor(private readonly o: RtuBusOptions) {
    this.line = new SerialLine(
      { endpoint: o.endpoint, quietMs: o.quietMs, connectTimeoutMs: 3000, logger: o.logger, label: o.label },
      {
        up: () => {
          this.downReason = '';
        },
        down: (reason) => {
          this.downReason = reason;
        },
        data: (bytes) => this.data(bytes),
      },
    );
    this.target = this.line.target;
  }

  start(): void {
    this.line.start();
  }

  stop(): Promise<void> {
    return this.line.stop();
  }

  /** Why the line is down, or '' while it is open. */
  get down(): string {
    return this.line.isOpen ? '' : this.downReason || 'line not open';
  }

  read(req: RtuRead): Promise<RtuReply> {
    return this.enqueue(req);
  }

  /** A write takes its turn on the line like any read: one request in flight per line, diagnostics included. */
  write(req: RtuWrite): Promise<RtuReply> {
    return this.enqueue(req);
  }

  private enqueue(req: RtuRead | RtuWrite): Promise<RtuReply> {
    const run = this.tail.then(() => this.exec(req));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async exec(req: RtuRead | RtuWrite): Promise<RtuReply> {
    // Right after start the port may still be opening: give it the request's timeout before giving up.
    for (let waited = 0; !this.line.isOpen && waited < req.timeoutMs; waited += 20) await new Promise((r) => setTimeout(r, 20));
    if (!this.line.isOpen) throw new RtuLineDown(this.down);
    const wait = this.lastEnd + this.o.gapMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const fault = (kind: string) => this.o.metrics.serialFrameErrors.inc({ device: req.device, protocol: 'modbus-rtu', kind });
    try {
      return await new Promise<RtuReply>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.current = undefined;
          this.o.metrics.serialRequestTimeouts.inc({ device: req.device, protocol: 'modbus-rtu' });
          reject(new RtuTimeout(`unit ${req.unit} on ${this.target} did not answer within ${req.timeoutMs} ms`));
        }, req.timeoutMs);
        this.current = {
          reader: new RtuReplyReader(req.unit, req.fn, fault),
          resolve: (reply) => {
            clearTimeout(timer);
            this.current = undefined;
            this.o.metrics.serialFrames.inc({ device: req.device, protocol: 'modbus-rtu' });
            resolve(reply);
          },
        };
        const frame =
          'count' in req ? encodeReadRequest(req.unit, req.fn, req.start, req.count) : encodeWriteRequest(req.unit, req.fn, req.address, coilValue(req));
        this.line.write(frame).catch((err: Error) => {
          clearTimeout(timer);
          this.current = undefined;
          reject(new RtuLineDown(err.message));
        });
      });
    } finally {
      this.lastEnd = Date.now();
    }
  }

  private data(bytes: Buffer): void {
    const c = this.current;
    if (!c) return; // a reply that came after its timeout: nobody is waiting, drop it
    const reply = c.reader.push(bytes);
    if (reply) c.resolve(reply);
  }
}

/** Function 05 carries ON as 0xFF00 and OFF as 0x0000; function 06 the register value itself. */
function coilValue(req: RtuWrite): number {
  return req.fn === 5 ? (req.value ? 0xff00 : 0x0000) : req.value;
}
