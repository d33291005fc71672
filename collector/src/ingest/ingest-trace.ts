import { SpanKind, SpanStatusCode, contextFromTraceparent, medtelTracer, nowMs, otelTrace, type Span } from '@medtel/shared';
import type { ApplyOutcome, IngestItem } from '../store/store.js';

/**
 * The collector's half of a reading's trace, continued from the payload's
 * traceparent (MQTT 3.1.1 has no message properties):
 *
 *   broker.authorize      PUBLISH received .. PUBACK released (CONSUMER)
 *   ├─ ingest.classify    parse + contract validation
 *   └─ store.commit       queued for the group commit .. committed (outcome)
 *
 * Spans exist only for messages that arrive with a sampled traceparent, and
 * store.commit is a child span per such message rather than one span per
 * group commit with links: at the default ratio 1 message in 100 carries a
 * trace, so the cost follows the sample rate, not the message rate (a span
 * per commit would be made ~500 times a second whatever is sampled), and the
 * commit stays inside the reading's own trace where a trace view shows it,
 * instead of in a separate trace reached through links.
 */
export class IngestTrace {
  private constructor(
    private readonly root: Span,
    private readonly commit: Span,
  ) {}

  /** undefined unless the message carries a usable traceparent. `receivedAt` from nowMs() when the PUBLISH arrived. */
  static begin(item: IngestItem, receivedAt: number, client: string | undefined): IngestTrace | undefined {
    if (item.kind === 'quarantine') return undefined;
    const parent = contextFromTraceparent((item.message as { traceparent?: string }).traceparent);
    if (!parent) return undefined;
    const tracer = medtelTracer();
    const message = item.message as { seq?: number; device?: string };
    const root = tracer.startSpan(
      'broker.authorize',
      {
        kind: SpanKind.CONSUMER,
        startTime: receivedAt,
        attributes: {
          'messaging.system': 'mqtt',
          'messaging.operation.type': 'process',
          'medtel.gateway': item.gateway,
          'medtel.site': item.site,
          'medtel.kind': item.kind,
          ...(message.seq !== undefined ? { 'medtel.seq': message.seq } : {}),
          ...(message.device !== undefined ? { 'medtel.device': message.device } : {}),
          ...(client ? { 'messaging.client.id': client } : {}),
        },
      },
      parent,
    );
    const ctx = otelTrace.setSpan(parent, root);
    const validated = nowMs();
    tracer.startSpan('ingest.classify', { startTime: receivedAt }, ctx).end(validated);
    const commit = tracer.startSpan('store.commit', { startTime: validated }, ctx);
    return new IngestTrace(root, commit);
  }

  /** Committed (or a known duplicate): the PUBACK goes out now. */
  stored(outcome: ApplyOutcome): void {
    this.commit.setAttribute('medtel.outcome', outcome);
    this.commit.end();
    this.root.end();
  }

  /** Commit failed (or the device was refused): no PUBACK, the gateway sends it again. */
  failed(err: Error): void {
    this.commit.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    this.commit.end();
    this.root.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    this.root.end();
  }
}
