import { SerialLine } from '../../transports/serial/index.js';
import type { DeviceSession, DeviceSink, DeviceSpec, DiagnosticOutcome, DiagnosticRequest, DriverContext, RawValue } from '../types.js';
import type { MedibusRead, PreparedMedibus } from './config.js';
import { runMedibusDiagnostic } from './diagnostics.js';
import { Command, encodeResponse, type FrameFault, type MedibusFrame, MedibusParser } from './frame.js';
import { parseAlarms, parseDeviceId, parseValues, RecordError, recordValue } from './records.js';
import { MedibusTransactions } from './transaction.js';

const REQUESTS: Record<MedibusRead['request'], number> = {
  measured: Command.measuredData,
  settings: Command.settings,
  alarms: Command.alarms,
  patient: Command.patient,
};

/**
 * One MEDIBUS-style device (a ventilator): on every (re)open it initialises the
 * link (ICC), asks for the device id (the birth), then polls the requests its
 * profile needs, keeping the link alive with NOPs between polls. An unanswered
 * request means the device or the line is gone: `unreachable`, reopen with backoff.
 */
export class MedibusSession implements DeviceSession {
  private readonly line: SerialLine;
  private readonly parser: MedibusParser;
  private readonly tx: MedibusTransactions;
  private readonly requests: Array<MedibusRead['request']>;
  private generation = 0;
  private running: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /** Transactions on the link, chained: polls, keep-alives and diagnostic checks take turns, one request in flight. */
  private link: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly spec: DeviceSpec<PreparedMedibus>,
    private readonly sink: DeviceSink,
    private readonly ctx: DriverContext,
  ) {
    const c = spec.connection;
    this.parser = new MedibusParser((fault) => this.fault(fault));
    this.requests = [...new Set(c.metrics.map((m) => m.read.request))];
    const keepAlive = c.connection.keepAliveMs;
    this.line = new SerialLine(
      {
        endpoint: c.endpoint,
        // Polled: the device speaks only when asked, and we ask at least every keep-alive period.
        quietMs: Math.min(spec.pollIntervalMs, keepAlive) + spec.timeoutMs * 2,
        connectTimeoutMs: spec.timeoutMs * 3,
        logger: ctx.logger,
        label: spec.id,
      },
      { up: () => this.up(), down: (reason) => this.down(reason), data: (bytes) => this.data(bytes) },
    );
    this.tx = new MedibusTransactions((bytes) => this.line.write(bytes));
  }

  start(): void {
    this.line.start();
  }

  async stop(): Promise<void> {
    this.generation += 1;
    this.wake?.();
    this.tx.fail(new Error('stopping'));
    await this.running.catch(() => undefined);
    await this.line.stop();
  }

  private up(): void {
    const generation = ++this.generation;
    this.running = this.run(generation).catch((err: Error) => {
      if (generation !== this.generation) return;
      if ((err as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
        this.ctx.metrics.serialRequestTimeouts.inc({ device: this.spec.id, protocol: 'medibus' });
      }
      this.line.restart(`${this.line.target}: ${err.message}`);
    });
  }

  private down(reason: string): void {
    this.generation += 1;
    this.wake?.();
    this.tx.fail(new Error(reason));
    this.sink.status('unreachable', reason);
  }

  private data(bytes: Buffer): void {
    for (const frame of this.parser.push(bytes)) {
      this.ctx.metrics.serialFrames.inc({ device: this.spec.id, protocol: 'medibus' });
      if (frame.kind === 'command') {
        // Either side may command; the device's ICC or NOP must get an empty echo.
        this.line.write(encodeResponse(frame.cmd)).catch(() => undefined);
      } else if (!this.tx.answer(frame)) {
        this.fault('unexpected');
      }
    }
  }

  private fault(kind: FrameFault | 'unexpected'): void {
    this.ctx.metrics.serialFrameErrors.inc({ device: this.spec.id, protocol: 'medibus', kind });
  }

  private async run(generation: number): Promise<void> {
    const timeout = this.spec.timeoutMs;
    await this.ask(Command.icc, timeout);
    const id = parseDeviceId((await this.ask(Command.deviceId, timeout)).data);
    if (generation !== this.generation) return;
    const identity: Record<string, string> = {};
    for (const { field, read } of this.spec.connection.identity) {
      const value = id[read.field as keyof typeof id];
      if (value) identity[field] = value;
    }
    this.sink.identity(identity);
    let nextPoll = Date.now();
    let lastSent = Date.now();
    while (generation === this.generation) {
      const now = Date.now();
      if (now >= nextPoll) {
        await this.poll(generation);
        lastSent = Date.now();
        // Fixed rate: a slow poll does not shift the later ones; missed slots are skipped.
        nextPoll += this.spec.pollIntervalMs;
        if (nextPoll < lastSent) nextPoll = lastSent + this.spec.pollIntervalMs - ((lastSent - nextPoll) % this.spec.pollIntervalMs);
      } else if (now - lastSent >= this.spec.connection.connection.keepAliveMs) {
        await this.ask(Command.nop, timeout);
        lastSent = Date.now();
      }
      const until = Math.min(nextPoll, lastSent + this.spec.connection.connection.keepAliveMs);
      await this.sleep(until - Date.now());
    }
  }

  private async poll(generation: number): Promise<void> {
    const answers = new Map<MedibusRead['request'], MedibusFrame>();
    for (const request of this.requests) answers.set(request, await this.ask(REQUESTS[request], this.spec.timeoutMs));
    if (generation !== this.generation) return;
    const values = new Map<string, RawValue>();
    const failed = new Map<string, string>();
    const decoded = new Map<MedibusRead['request'], Map<string, string> | string>();
    for (const [request, frame] of answers) {
      try {
        decoded.set(
          request,
          request === 'alarms' ? new Map(parseAlarms(frame.data).map((a) => [a.code, String(a.priority || 1)])) : parseValues(frame.data, request),
        );
      } catch (err) {
        if (!(err instanceof RecordError)) throw err;
        this.fault('malformed');
        decoded.set(request, err.message);
      }
    }
    for (const { id, read } of this.spec.connection.metrics) {
      const records = decoded.get(read.request);
      if (typeof records === 'string') {
        failed.set(id, records);
        continue;
      }
      if (read.request === 'alarms') {
        // An alarm metric is the device's priority while the alarm is listed, else 0.
        values.set(id, Number(records?.get(read.code) ?? 0));
        continue;
      }
      const text = records?.get(read.code);
      // Patient data answered without this record: no patient (blank), which the transform reads as a discharge.
      if (text === undefined && read.request === 'patient') values.set(id, '');
      if (text === undefined) continue; // not measured right now (e.g. no plateau in this mode)
      const value = recordValue(text);
      if (read.per === undefined) {
        values.set(id, value);
        continue;
      }
      const divisor = recordValue(records?.get(read.per) ?? '');
      if (typeof value === 'number' && typeof divisor === 'number' && divisor !== 0) values.set(id, value / divisor);
    }
    const bad = [...decoded.values()].find((d): d is string => typeof d === 'string');
    this.sink.sample({ t: Date.now(), clock: 'agent', values, failed });
    this.sink.status(bad ? 'error' : 'connected', bad ? `malformed records: ${bad}` : undefined);
  }

  /**
   * Runs a profile-defined read-only check between polls, on the same link. A
   * link error ends it with the reason in words; the session notices a dead
   * line by itself and reopens it.
   */
  async diagnose(request: DiagnosticRequest): Promise<DiagnosticOutcome> {
    const test = this.spec.connection.diagnostics.get(request.test);
    if (!test) return { ok: false, error: `profile "${this.spec.profile.profile}" defines no test "${request.test}"` };
    const target = `medibus ${this.line.target}`;
    if (!this.line.isOpen) return { ok: false, error: `${target} is not open; the test was not started` };
    try {
      return await runMedibusDiagnostic(test, (cmd, timeoutMs) => this.ask(cmd, timeoutMs), {
        timeoutMs: request.timeoutMs,
        requestTimeoutMs: this.spec.timeoutMs,
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ETIMEDOUT') return { ok: false, error: `${request.test} interrupted: ${target}: ${e.message}, asked twice` };
      return { ok: false, error: `${request.test} interrupted: ${target}: ${e.message}` };
    }
  }

  /**
   * One request, asked again once if unanswered: a single corrupted or lost frame
   * costs one retry, not a reopen of the line. Two misses in a row mean it is gone.
   * It waits its turn behind every earlier request on the link.
   */
  private ask(cmd: number, timeoutMs: number): Promise<MedibusFrame> {
    const run = this.link.then(
      () => this.askNow(cmd, timeoutMs),
      () => this.askNow(cmd, timeoutMs),
    );
    this.link = run.catch(() => undefined);
    return run;
  }

  private async askNow(cmd: number, timeoutMs: number): Promise<MedibusFrame> {
    try {
      return await this.tx.request(cmd, timeoutMs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw err;
      this.ctx.metrics.serialRequestTimeouts.inc({ device: this.spec.id, protocol: 'medibus' });
      return await this.tx.request(cmd, timeoutMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
