import M from 'modbus-serial';
import { Backoff } from '@medtel/shared';
import type { DeviceSession, DeviceSink, DeviceSpec, DiagnosticOutcome, DiagnosticRequest, DriverContext, RawValue } from '../types.js';
import type { PreparedModbus } from './config.js';
import { runModbusDiagnostic, type ModbusDiagnosticLink } from './diagnostics.js';
import { describeLinkError, exceptionName, modbusExceptionCode } from './errors.js';
import { decodeRegisters, planReads, registerCount, type ReadBlock } from './registers.js';

// modbus-serial is CommonJS; under NodeNext its class is the default export's `default`.
const ModbusRTU = M.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

/**
 * One Modbus TCP device: connect, read identity, poll on a fixed schedule.
 * A link failure (timeout, refused, reset) marks the device unreachable and
 * reconnects with backoff; a Modbus exception marks it `error` but keeps
 * polling, since the link itself works. Nothing a device does ends the agent.
 */
export class ModbusTcpSession implements DeviceSession {
  private client: ModbusClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly backoff: Backoff;
  private readonly blocks: ReadBlock[];
  private readonly identityBlocks: ReadBlock[];
  private readonly target: string;
  private nextDue = 0;
  /** Requests on the link, chained: a Modbus link serves one transaction at a time, polls and diagnostics alike. */
  private link: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly spec: DeviceSpec<PreparedModbus>,
    private readonly sink: DeviceSink,
    private readonly ctx: DriverContext,
  ) {
    const { host, port, unitId } = spec.connection.connection;
    this.target = `modbus-tcp ${host}:${port} unit ${unitId}`;
    this.blocks = planReads(spec.connection.metricPoints);
    this.identityBlocks = planReads(spec.connection.identityPoints);
    this.backoff = new Backoff({ initialMs: Math.max(250, spec.pollIntervalMs), maxMs: 30_000 });
  }

  start(): void {
    this.schedule(0, () => this.connect());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    await this.closeClient();
  }

  /** Runs `step` after `delayMs`, one step at a time, so stop() can wait for the current one. */
  private schedule(delayMs: number, step: () => Promise<void>): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = step().catch((err) => this.ctx.logger.error({ err, device: this.spec.id }, 'modbus session step failed'));
    }, delayMs);
  }

  private async connect(): Promise<void> {
    const { host, port, unitId } = this.spec.connection.connection;
    const client = new ModbusRTU();
    this.client = client;
    try {
      await client.connectTCP(host, { port, timeout: this.spec.timeoutMs } as Parameters<ModbusClient['connectTCP']>[1]);
      client.setID(unitId);
      client.setTimeout(this.spec.timeoutMs);
      if (this.stopped) return;
      if (this.identityBlocks.length > 0) {
        const identity = await this.readBlocks(this.identityBlocks);
        this.sink.identity(Object.fromEntries([...identity.values].map(([k, v]) => [k, String(v)])));
      }
      this.backoff.reset();
      this.nextDue = Date.now();
      this.schedule(0, () => this.poll());
    } catch (err) {
      await this.linkFailed(err);
    }
  }

  private async poll(): Promise<void> {
    const started = Date.now();
    let result: { values: Map<string, RawValue>; failed: Map<string, string>; exception?: string; bytes: number };
    try {
      result = await this.readBlocks(this.blocks);
    } catch (err) {
      this.ctx.metrics.devicePolls.inc({ device: this.spec.id, result: 'link_error' });
      await this.linkFailed(err);
      return;
    }
    if (this.stopped) return;
    this.ctx.metrics.devicePolls.inc({ device: this.spec.id, result: result.exception ? 'exception' : 'ok' });
    this.ctx.metrics.devicePollSeconds.observe({ protocol: 'modbus-tcp' }, (Date.now() - started) / 1000);
    this.sink.sample({ t: Date.now(), clock: 'agent', values: result.values, failed: result.failed, read: { startedAt: started, bytes: result.bytes } });
    this.sink.status(result.exception ? 'error' : 'connected', result.exception);
    // Fixed-rate schedule: a slow poll does not shift every later one; missed slots are skipped.
    const interval = this.spec.pollIntervalMs;
    this.nextDue += interval;
    const now = Date.now();
    if (this.nextDue < now) this.nextDue = now + interval - ((now - this.nextDue) % interval);
    this.schedule(this.nextDue - now, () => this.poll());
  }

  /**
   * Reads the planned blocks one request at a time (a Modbus link serves one
   * transaction at a time). Exceptions fail only their block's metrics; a
   * link error is thrown to the caller.
   */
  private readBlocks(blocks: ReadBlock[]) {
    return this.exclusive(() => this.readBlocksNow(blocks));
  }

  private async readBlocksNow(blocks: ReadBlock[]) {
    const client = this.client as ModbusClient;
    const values = new Map<string, RawValue>();
    const failed = new Map<string, string>();
    let exception: string | undefined;
    let bytes = 0;
    for (const block of blocks) {
      try {
        const res =
          block.table === 'input' ? await client.readInputRegisters(block.start, block.count) : await client.readHoldingRegisters(block.start, block.count);
        bytes += block.count * 2;
        for (const point of block.points) {
          values.set(point.key, decodeRegisters(res.data, point.address - block.start, point.type, this.spec.connection.wordOrder, point.length));
        }
      } catch (err) {
        const code = modbusExceptionCode(err);
        if (code === undefined) throw err;
        this.ctx.metrics.modbusExceptions.inc({ device: this.spec.id, code: String(code) });
        exception = `Modbus exception ${code} (${exceptionName(code)}) reading ${block.table} registers ${block.start}-${block.start + block.count - 1}`;
        for (const point of block.points) failed.set(point.key, exception);
      }
    }
    return exception ? { values, failed, exception, bytes } : { values, failed, bytes };
  }

  /** Runs `fn` once every earlier request on the link has settled. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.link.then(fn, fn);
    this.link = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs a profile-defined test between polls, on the same connection. A link
   * error ends the test with the reason in words; the poll loop notices the
   * broken link by itself and reconnects.
   */
  async diagnose(request: DiagnosticRequest): Promise<DiagnosticOutcome> {
    const test = this.spec.connection.diagnostics.get(request.test);
    if (!test) return { ok: false, error: `profile "${this.spec.profile.profile}" defines no test "${request.test}"` };
    if (!this.client || this.stopped) return { ok: false, error: `${this.target} is not connected; the test was not started` };
    const io = <T>(op: (client: ModbusClient) => Promise<T>) =>
      this.exclusive(async () => {
        const client = this.client;
        if (!client || this.stopped) throw Object.assign(new Error('Port Not Open'), { code: 'ECONNRESET' });
        return op(client);
      });
    const link: ModbusDiagnosticLink = {
      read: (p) =>
        io(async (c) => {
          const count = registerCount(p.type, p.length);
          const res = p.table === 'input' ? await c.readInputRegisters(p.address, count) : await c.readHoldingRegisters(p.address, count);
          return decodeRegisters(res.data, 0, p.type, this.spec.connection.wordOrder, p.length);
        }),
      writeCoil: (address, value) => io(async (c) => void (await c.writeCoil(address, value))),
      writeRegister: (address, value) => io(async (c) => void (await c.writeRegister(address, value))),
    };
    try {
      return await runModbusDiagnostic(test, link, request.timeoutMs);
    } catch (err) {
      const code = modbusExceptionCode(err);
      if (code !== undefined) return { ok: false, error: `${request.test}: the device refused a step with Modbus exception ${code} (${exceptionName(code)})` };
      return { ok: false, error: `${request.test} interrupted: ${describeLinkError(err, this.target, this.spec.timeoutMs)}` };
    }
  }

  private async linkFailed(err: unknown): Promise<void> {
    if (this.stopped) return;
    const reason = describeLinkError(err, this.target, this.spec.timeoutMs);
    this.sink.status('unreachable', reason);
    await this.closeClient();
    const delay = this.backoff.next();
    this.ctx.logger.debug({ device: this.spec.id, reason, retryInMs: delay }, 'device link failed');
    this.schedule(delay, () => this.connect());
  }

  private closeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return Promise.resolve();
    return new Promise((resolve) => {
      const done = setTimeout(resolve, 1000);
      try {
        client.close(() => {
          clearTimeout(done);
          resolve();
        });
      } catch {
        clearTimeout(done);
        resolve();
      }
    });
  }
}
