import { Backoff } from '@medtel/shared';
import type { DeviceSession, DeviceSink, DeviceSpec, DriverContext, RawValue } from '../types.js';
import type { PreparedModbusRtu } from './rtu-config.js';
import { exceptionName } from './errors.js';
import { decodeRegisters, planReads, type ReadBlock } from './registers.js';
import { type RtuBus, RtuTimeout } from './rtu-bus.js';

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
      for (const point of block.points) {
        values.set(point.key, decodeRegisters(reply.registers, point.address - block.start, point.type, this.spec.connection.wordOrder, point.length));
      }
    }
    return exception ? { values, failed, exception } : { values, failed };
  }
}
