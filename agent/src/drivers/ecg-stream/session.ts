import { parseDuration } from '@medtel/shared';
import { SerialLine } from '../../transports/serial/index.js';
import type { DeviceSession, DeviceSink, DeviceSpec, DriverContext, RawValue } from '../types.js';
import { WaveformBatcher } from './batcher.js';
import type { PreparedEcg } from './config.js';
import { decodeInfo, decodeNumerics, decodeWave, type EcgFault, EcgStreamParser, FrameType, PayloadError } from './frame.js';

const PROTOCOL = 'medtel-ecg';

/**
 * One streaming ECG / patient monitor: listens only (it never sends a byte).
 * Info frames give the birth and the sample rate; waveform frames go through
 * the batcher; numerics become readings once a second. Silence past the
 * device timeout means the line is gone: `unreachable`, reopen with backoff.
 */
export class EcgSession implements DeviceSession {
  private readonly line: SerialLine;
  private readonly parser: EcgStreamParser;
  private batcher: WaveformBatcher | undefined;
  private rateHz: number | undefined;
  private readonly waveChannels = new Map<number, string>();
  private readonly numerics = new Map<number, string>();
  /** Patient-frame key -> metric id (PHI: handed to the sink, which seals it). */
  private readonly patientKeys = new Map<string, string>();
  private identitySent = false;
  private connected = false;
  /** Waveform readings received before the first info frame gave the sample rate (reported as a gap then). */
  private beforeRate: { from: number; to: number; count: number } | undefined;

  constructor(
    private readonly spec: DeviceSpec<PreparedEcg>,
    private readonly sink: DeviceSink,
    private readonly ctx: DriverContext,
  ) {
    for (const { id, read } of spec.connection.metrics) {
      if ('wave' in read) this.waveChannels.set(read.wave, id);
      else if ('numeric' in read) this.numerics.set(read.numeric, id);
      else this.patientKeys.set(read.patient, id);
    }
    this.parser = new EcgStreamParser((fault) => this.fault(fault));
    this.line = new SerialLine(
      { endpoint: spec.connection.endpoint, quietMs: spec.timeoutMs, connectTimeoutMs: spec.timeoutMs * 3, logger: ctx.logger, label: spec.id },
      {
        up: () => this.parser.reset(),
        down: (reason) => {
          this.batcher?.flush();
          this.identitySent = false;
          this.connected = false;
          this.sink.status('unreachable', reason);
        },
        data: (bytes) => this.data(bytes),
      },
    );
  }

  start(): void {
    this.line.start();
  }

  async stop(): Promise<void> {
    await this.line.stop();
    this.batcher?.flush();
  }

  private fault(kind: EcgFault | 'malformed' | 'duplicate'): void {
    this.ctx.metrics.serialFrameErrors.inc({ device: this.spec.id, protocol: PROTOCOL, kind });
  }

  private data(bytes: Buffer): void {
    for (const frame of this.parser.push(bytes)) {
      try {
        if (frame.type === FrameType.info) this.info(decodeInfo(frame.payload));
        else if (frame.type === FrameType.wave) {
          const wave = decodeWave(frame.payload);
          if (this.batcher) this.batcher.push(wave);
          else this.heldBeforeRate(wave);
        } else if (frame.type === FrameType.numerics) this.numeric(decodeNumerics(frame.payload));
        else if (frame.type === FrameType.patient) this.patient(decodeInfo(frame.payload));
        this.ctx.metrics.serialFrames.inc({ device: this.spec.id, protocol: PROTOCOL });
        if (!this.connected) {
          this.connected = true;
          this.sink.status('connected');
        }
      } catch (err) {
        if (!(err instanceof PayloadError)) throw err;
        this.fault('malformed');
      }
    }
  }

  /**
   * Samples before the first info frame have no known rate, so no times: they
   * cannot be stored, but they are counted and reported as a gap once the
   * rate is known (a monitor sends its info every few seconds).
   */
  private heldBeforeRate(wave: ReturnType<typeof decodeWave>): void {
    const perLead = wave.samples[0]?.length ?? 0;
    const readings = perLead * [...this.waveChannels.keys()].filter((lead) => wave.samples[lead] !== undefined).length;
    if (readings === 0) return;
    const now = Date.now();
    this.beforeRate ??= { from: now, to: now, count: 0 };
    this.beforeRate.to = now;
    this.beforeRate.count += readings;
  }

  private info(info: Map<string, string>): void {
    const rate = Number(info.get('rate'));
    if (!(rate > 0 && rate <= 10_000)) throw new PayloadError(`info frame: bad rate "${info.get('rate')}"`);
    if (rate !== this.rateHz) {
      this.batcher?.flush();
      this.rateHz = rate;
      const periodMs = 1000 / rate;
      const batchMs = parseDuration(this.spec.connection.connection.batch);
      this.batcher = new WaveformBatcher({
        periodMs,
        batchSamples: Math.max(1, Math.round(batchMs / periodMs)),
        channels: this.waveChannels,
        emit: (batch) => this.sink.waveform?.(batch),
        gap: (gap) => {
          this.ctx.metrics.serialLostSamples.inc({ device: this.spec.id }, gap.count);
          this.sink.gap?.(gap);
        },
        duplicate: () => this.fault('duplicate'),
      });
      if (this.beforeRate) {
        this.ctx.metrics.serialLostSamples.inc({ device: this.spec.id }, this.beforeRate.count);
        this.sink.gap?.({ ...this.beforeRate, reason: 'waveform samples received before the monitor announced its sample rate' });
        this.beforeRate = undefined;
      }
    }
    if (!this.identitySent) {
      const identity: Record<string, string> = {};
      for (const { field, read } of this.spec.connection.identity) {
        const value = info.get(read.info);
        if (value) identity[field] = value;
      }
      this.sink.identity(identity);
      this.identitySent = true;
    }
  }

  /** Every patient key gets a value ('' when absent): an empty frame is a discharge, not "unknown". */
  private patient(info: Map<string, string>): void {
    if (this.patientKeys.size === 0) return;
    const values = new Map<string, RawValue>();
    for (const [key, metric] of this.patientKeys) values.set(metric, info.get(key) ?? '');
    this.sink.sample({ t: Date.now(), clock: 'agent', values });
  }

  private numeric(values: Map<number, number | null>): void {
    const out = new Map<string, RawValue>();
    const failed = new Map<string, string>();
    for (const [id, metric] of this.numerics) {
      if (!values.has(id)) continue;
      const v = values.get(id);
      if (v === null || v === undefined) failed.set(metric, 'not measured');
      else out.set(metric, v);
    }
    if (out.size + failed.size > 0) this.sink.sample({ t: Date.now(), clock: 'agent', values: out, failed });
  }
}
