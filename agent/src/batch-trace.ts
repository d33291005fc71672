import { SpanKind, SpanStatusCode, medtelTracer, nowMs, otelContext, otelTrace, traceparentOf, tracingActive, type Context, type Span } from '@medtel/shared';
import type { OutboxMessage } from './outbox/index.js';

/**
 * The agent's half of a reading's trace. One trace per sampled batch (one
 * driver read of one device), not per reading: the sampler decides once per
 * batch, so at the default ratio 99 batches in 100 cost one branch.
 *
 *   agent.batch                      read start .. outbox commit
 *   ├─ driver.read                   device, protocol, bytes
 *   ├─ profile.map                   readings, alarms
 *   ├─ phi.seal                      (only when a patient record is sealed)
 *   ├─ outbox.commit                 wait for the group commit + transaction; seq
 *   └─ mqtt.publish (uplink.ts)      one per send attempt, ended at PUBACK
 *
 * The batch's traceparent is written into the payload (stored with it in the
 * outbox row), so a re-send after a restart continues the same trace.
 */
export class BatchTrace {
  private readonly ctx: Context;
  private mapStart: number;
  private pending = 0;

  private constructor(
    private readonly root: Span,
    private readonly device: string,
  ) {
    this.ctx = otelTrace.setSpan(otelContext.active(), root);
    this.mapStart = nowMs();
  }

  /**
   * Starts the trace of one driver read, or returns undefined when tracing is
   * off or the sampler says no (then nothing else is done for this batch).
   */
  static begin(device: string, protocol: string, read: { startedAt: number; bytes?: number } | undefined, sampleT: number): BatchTrace | undefined {
    if (!tracingActive()) return undefined;
    const tracer = medtelTracer();
    const startTime = read?.startedAt ?? sampleT;
    // root: a batch is its own trace, whatever context the driver's callback runs in.
    const root = tracer.startSpan('agent.batch', {
      root: true,
      kind: SpanKind.PRODUCER,
      startTime,
      attributes: { 'medtel.device': device, 'medtel.protocol': protocol },
    });
    if (!root.isRecording()) return undefined;
    const batch = new BatchTrace(root, device);
    const readSpan = tracer.startSpan(
      'driver.read',
      {
        startTime,
        attributes: { 'medtel.device': device, 'medtel.protocol': protocol, ...(read?.bytes !== undefined ? { 'medtel.read.bytes': read.bytes } : {}) },
      },
      batch.ctx,
    );
    readSpan.end(batch.mapStart);
    return batch;
  }

  /** The profile mapping ran from the end of the read until now. */
  mapped(readings: number, alarms: number): void {
    const span = medtelTracer().startSpan(
      'profile.map',
      { startTime: this.mapStart, attributes: { 'medtel.readings': readings, 'medtel.alarms': alarms } },
      this.ctx,
    );
    span.end();
    this.mapStart = nowMs();
  }

  /** A read that produced no message: the trace ends here. */
  end(): void {
    if (this.pending === 0) this.root.end();
  }

  /** The payload field that carries this trace to the collector. */
  field(): { traceparent?: string } {
    const tp = traceparentOf(this.root);
    return tp ? { traceparent: tp } : {};
  }

  /** Wraps an outbox message: its sealing and its commit become spans of this batch. The root ends when all are committed. */
  track(message: OutboxMessage): OutboxMessage {
    this.pending += 1;
    const tracer = medtelTracer();
    const commit = tracer.startSpan('outbox.commit', { attributes: { 'medtel.kind': message.kind, 'medtel.device': this.device } }, this.ctx);
    const seal = message.seal;
    return {
      ...message,
      ...(seal
        ? {
            seal: (seq: number) => {
              const span = tracer.startSpan('phi.seal', { attributes: { 'medtel.seq': seq } }, this.ctx);
              try {
                return seal(seq);
              } finally {
                span.end();
              }
            },
          }
        : {}),
      onStored: (result) => {
        if ('seq' in result) commit.setAttribute('medtel.seq', result.seq);
        else commit.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
        commit.end();
        this.pending -= 1;
        if (this.pending === 0) this.root.end();
      },
    };
  }
}
