import type { DataGap, WaveformBatch } from '../types.js';
import type { WaveFrame } from './frame.js';

export interface WaveformBatcherOptions {
  periodMs: number;
  /** Samples per lead in one batch (e.g. one second's worth). */
  batchSamples: number;
  /** Device lead index -> metric id, for the leads the profile maps. */
  channels: Map<number, string>;
  emit(batch: WaveformBatch): void;
  gap(gap: DataGap): void;
  /** Samples the device sent twice (dropped, counted). */
  duplicate(samples: number): void;
}

/**
 * Turns waveform frames into contiguous batches. Each sample's time is
 * anchor + index x period, the index being the device's own sample counter, so
 * batches never overlap and a hole in the counter is exactly the number of
 * samples lost: reported as a gap, never filled in, never silently skipped.
 */
export class WaveformBatcher {
  private anchor: number | undefined;
  private next: number | undefined;
  private batchStart = 0;
  private buffers = new Map<string, number[]>();
  private buffered = 0;

  constructor(private readonly o: WaveformBatcherOptions) {}

  private t(index: number): number {
    return Math.round((this.anchor as number) + index * this.o.periodMs);
  }

  push(frame: WaveFrame, now = Date.now()): void {
    const count = frame.samples[0]?.length ?? 0;
    if (count === 0) return;
    let from = 0;
    if (this.anchor === undefined) this.anchor = now - (frame.first + count) * this.o.periodMs;
    if (this.next !== undefined && frame.first !== this.next) {
      if (frame.first > this.next) {
        this.flush();
        const lost = frame.first - this.next;
        this.o.gap({
          from: this.t(this.next),
          to: this.t(frame.first - 1),
          count: lost * this.o.channels.size,
          reason: `${lost} samples per lead lost on the serial line`,
        });
      } else if (this.next - frame.first < count) {
        // Partly seen already (the device re-sent): keep only the new tail.
        from = this.next - frame.first;
        this.o.duplicate(from);
      } else if (this.next - frame.first <= this.o.batchSamples * 10) {
        this.o.duplicate(count);
        return;
      } else {
        // The counter went back far: the device restarted. Start a new time base.
        this.flush();
        this.anchor = now - (frame.first + count) * this.o.periodMs;
      }
    }
    if (this.buffered === 0) this.batchStart = frame.first + from;
    for (const [lead, metric] of this.o.channels) {
      const samples = frame.samples[lead];
      if (!samples) continue;
      let buf = this.buffers.get(metric);
      if (!buf) {
        buf = [];
        this.buffers.set(metric, buf);
      }
      for (let i = from; i < count; i++) buf.push(samples[i] as number);
    }
    this.buffered += count - from;
    this.next = frame.first + count;
    while (this.buffered >= this.o.batchSamples) this.emit(this.o.batchSamples);
  }

  /** Sends whatever is buffered (the line went down, or a gap follows). */
  flush(): void {
    if (this.buffered > 0) this.emit(this.buffered);
  }

  private emit(n: number): void {
    const series = new Map<string, number[]>();
    for (const [metric, buf] of this.buffers) if (buf.length > 0) series.set(metric, buf.splice(0, n));
    if (series.size > 0) this.o.emit({ t0: this.t(this.batchStart), periodMs: this.o.periodMs, clock: 'agent', series });
    this.batchStart += n;
    this.buffered -= n;
  }
}
