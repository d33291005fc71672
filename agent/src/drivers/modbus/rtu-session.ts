import { Backoff } from '@medtel/shared';
import type { DeviceSession, DeviceSink, DeviceSpec, DiagnosticOutcome, DiagnosticRequest, DriverContext, RawValue } from '../types.js';
import type { PreparedModbusRtu } from './rtu-config.js';
import { type ModbusDiagnosticLink, runModbusDiagnostic } from './diagnostics.js';
import { exceptionName } from './errors.js';
import { decodeRegisters, planReads, type ReadBlock, registerCount } from './registers.js';
import { type RtuBus, RtuLineDown, RtuTimeout } from './rtu-bus.js';
import type { RtuReply } from './rtu-frame.js';

/** A Modbus exception reply met during a diagnostic step (the link works; the unit refused). */
class RtuException extends Error {
  constructor(readonly code: number) {
    super(`Modbus exception ${code} (${exceptionName(code)})`);
  }
}

/**
 * One unit on a shared RTU line. Reads identity, then polls its register map
 * through the line's bus. A unit that stops answering is `unreachable` and is
 * asked again with backoff, so it takes less and less of the line's time; its
 * neighbours are not affected. On its first answer again, identity is re-read
 * (the unit may have been swapped).
 */
export class ModbusRtuSession implements DeviceSession {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly blocks: ReadBlock[];
  private readonly identityBlocks: ReadBlock[];
  private readonly backoff: Backoff;
  private needIdentity = true;
  private nextDue = 0;

  constructor(
    private readonly spec: DeviceSpec<PreparedModbusRtu>,
    private readonly sink: DeviceSink,
    private readonly ctx: DriverContext,
    private readonly bus: RtuBus,
    private readonly release: () => Promise<void>,
  ) {
    this.blocks = planReads(spec.connection.metricPoints);
    this.identityBlocks = planReads(spec.connection.identityPoints);
    this.backoff = new Backoff({ initialMs: Math.max(250, spec.pollIntervalMs), maxMs: 15_000 });
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    await this.release();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().catch((err) => this.ctx.logger.error({ err, device: this.spec.id }, 'modbus rtu step failed'));
    }, delayMs);
  }

  private async poll(): Promise<void> {
    const started = Date.now();
    try {
      if (this.needIdentity && this.identityBlocks.length > 0) {
        const identity = await this.readBlocks(this.identityBlocks);
        this.sink.identity(Object.fromEntries([...identity.values].map(([k, v]) => [k, String(v)])));
      }
      this.needIdentity = false;
      const result = await this.readBlocks(this.blocks);
      if (this.stopped) return;
      this.ctx.metrics.devicePolls.inc({ device: this.spec.id, result: result.exception ? 'exception' : 'ok' });
      this.ctx.metrics.devicePollSeconds.observe({ protocol: 'modbus-rtu' }, (Date.now() - started) / 1000);
      this.sink.sample({ t: Date.now(), clock: 'agent', values: result.values, failed: result.failed });
      this.sink.status(result.exception ? 'error' : 'connected', result.exception);
      this.backoff.reset();
    } catch (err) {
      if (this.stopped) return;
      this.ctx.metrics.devicePolls.inc({ device: this.spec.id, result: 'link_error' });
      this.needIdentity = true;
      this.sink.status('unreachable', (err as Error).message);
      const delay = this.backoff.next();
      this.nextDue = Date.now() + delay;
      this.schedule(delay);
      return;
    }
    const interval = this.spec.pollIntervalMs;
    const now = Date.now();
    this.nextDue = Math.max(this.nextDue + interval, now);
    if (this.nextDue - now > interval) this.nextDue = now + interval;
    this.schedule(this.nextDue - now);
  }

  /**
   * Runs a profile-defined test (the same steps as over Modbus TCP) through the
   * line's bus: every step waits its turn behind the polls of every unit on the
   * line, so the line still carries one request at a time and this unit's
   * neighbours keep their turns while the test runs.
   */
  async diagnose(request: DiagnosticRequest): Promise<DiagnosticOutcome> {
    const test = this.spec.connection.diagnostics.get(request.test);
    if (!test) return { ok: false, error: `profile "${this.spec.profile.profile}" defines no test "${request.test}"` };
    const { unitId } = this.spec.connection.connection;
    const target = `modbus-rtu ${this.bus.target} unit ${unitId}`;
    if (this.stopped) return { ok: false, error: `${target} is stopping; the test was not started` };
    if (this.bus.down) return { ok: false, error: `${target}: the line is down (${this.bus.down}); the test was not started` };
    const base = { unit: unitId, timeoutMs: this.spec.timeoutMs, device: this.spec.id };
    const answer = (reply: RtuReply): RtuReply => {
      if ('exception' in reply) {
        this.ctx.metrics.modbusExceptions.inc({ device: this.spec.id, code: String(reply.exception) });
        throw new RtuException(reply.exception);
      }
      return reply;
    };
    const link: ModbusDiagnosticLink = {
      read: async (p) => {
        const req = { ...base, fn: p.table === 'input' ? (4 as const) : (3 as const), start: p.address, count: registerCount(p.type, p.length) };
        // A read may be repeated once after a lost or corrupted reply, as polls are; a write is not (it could start a test twice).
        const reply = answer(await this.bus.read(req).catch((err: unknown) => (err instanceof RtuTimeout ? this.bus.read(req) : Promise.reject(err))));
        if (!('registers' in reply)) throw new Error(`unexpected reply to a read of ${p.table} register ${p.address}`);
        return decodeRegisters(reply.registers, 0, p.type, this.spec.connection.wordOrder, p.length);
      },
      writeCoil: async (address, value) => void answer(await this.bus.write({ ...base, fn: 5, address, value: value ? 1 : 0 })),
      writeRegister: async (address, value) => void answer(await this.bus.write({ ...base, fn: 6, address, value })),
    };
    try {
      return await runModbusDiagnostic(test, link, request.timeoutMs);
    } catch (err) {
      if (err instanceof RtuException) return { ok: false, error: `${request.test}: the device refused a step with ${err.message}` };
      if (err instanceof RtuTimeout) return { ok: false, error: `${request.test} interrupted: ${err.message}` };
      if (err instanceof RtuLineDown) return { ok: false, error: `${request.test} interrupted: ${target}: the line went down (${err.message})` };
      return { ok: false, error: `${request.test} interrupted: ${target}: ${(err as Error).message}` };
    }
  }

  private async readBlocks(blocks: ReadBlock[]) {
    const { unitId } = this.spec.connection.connection;
    const values = new Map<string, RawValue>();
    const failed = new Map<string, string>();
    let exception: string | undefined;
    for (const block of blocks) {
      const request = {
        unit: unitId,
        fn: block.table === 'input' ? (4 as const) : (3 as const),
        start: block.start,
        count: block.count,
        timeoutMs: this.spec.timeoutMs,
        device: this.spec.id,
      };
      // One retry: a single corrupted reply costs a repeat, not an `unreachable` and a backoff.
      const reply = await this.bus.read(request).catch((err: unknown) => {
        if (err instanceof RtuTimeout) return this.bus.read(request);
        throw err;
      });
      if ('exception' in reply) {
        const code = reply.exception;
        this.ctx.metrics.modbusExceptions.inc({ device: this.spec.id, code: String(code) });
        exception = `Modbus exception ${code} (${exceptionName(code)}) reading ${block.table} registers ${block.start}-${block.start + block.count - 1}`;
        for (const point of block.points) failed.set(point.key, exception);
        continue;
      }
      if (!('registers' in reply)) throw new Error(`unexpected reply to a read of ${block.table} registers ${block.start}-${block.start + block.count - 1}`);
      for (const point of block.points) {
        values.set(point.key, decodeRegisters(reply.registers, point.address - block.start, point.type, this.spec.connection.wordOrder, point.length));
      }
    }
    return exception ? { values, failed, exception } : { values, failed };
  }
}
