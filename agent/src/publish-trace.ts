import { SpanKind, SpanStatusCode, contextFromTraceparent, medtelTracer, traceparentOf, type Span } from '@medtel/shared';

const FIELD = '"traceparent":"';
/** `00-` + 32 + `-` + 16 + `-` + 2 hex digits. */
const TRACEPARENT_LENGTH = 55;

/**
 * The mqtt.publish span of a traced outbox row: one per send attempt, from
 * PUBLISH to PUBACK (which the collector sends only after its store commit).
 * The row keeps the batch's traceparent; the payload on the wire carries this
 * span's instead, so the collector's spans hang under the publish that
 * delivered them (W3C: each hop names itself as the parent).
 */
export class PublishTrace {
  private constructor(
    private readonly span: Span,
    /** The row's body with this span as the parent. */
    readonly body: string,
  ) {}

  /** undefined for a row that carries no trace (the common case: unsampled batches). Call only with tracing on. */
  static start(row: { seq: number; topic: string; kind: string; body: string }, attempt: { session: number }): PublishTrace | undefined {
    const at = row.body.indexOf(FIELD);
    if (at < 0) return undefined;
    const from = at + FIELD.length;
    const stored = row.body.slice(from, from + TRACEPARENT_LENGTH);
    const parent = contextFromTraceparent(stored);
    if (!parent) return undefined;
    const span = medtelTracer().startSpan(
      'mqtt.publish',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'mqtt',
          'messaging.operation.type': 'send',
          'messaging.destination.name': row.topic,
          'medtel.kind': row.kind,
          'medtel.seq': row.seq,
          'medtel.uplink.session': attempt.session,
        },
      },
      parent,
    );
    const own = traceparentOf(span) ?? stored;
    return new PublishTrace(span, row.body.slice(0, from) + own + row.body.slice(from + TRACEPARENT_LENGTH));
  }

  acked(): void {
    this.span.end();
  }

  /** Not acknowledged on this connection: the row stays in the outbox and is sent again (a new publish span). */
  unacked(reason: string): void {
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    this.span.end();
  }
}
