import type { ServerResponse } from 'node:http';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AlertChange } from '../alerts/alert-service.js';
import type { LiveFeed } from '../cluster/live-feed.js';
import type { CollectorMetrics } from '../metrics.js';
import { alertView } from './alert-schemas.js';
import { badParameter } from './errors.js';
import { ErrorBody } from './schemas.js';

export interface StreamOptions {
  /** Alert changes and durable readings: this collector's, or every replica's (docs/replicas.md). */
  feed: LiveFeed;
  metrics: CollectorMetrics;
  heartbeatMs: number;
  /**
   * Bytes a client may have unread in the socket's buffer; events beyond it
   * are dropped and counted, so a slow client cannot grow memory without
   * bound. It is told how many with an `event: dropped` once it catches up.
   */
  maxBufferedBytes: number;
}

const TYPES = ['alerts', 'readings'] as const;
type StreamType = (typeof TYPES)[number];

const StreamQuery = Type.Object(
  {
    types: Type.Optional(Type.String({ maxLength: 64, description: 'Comma-separated: alerts, readings (default both)' })),
    device: Type.Optional(Type.String({ maxLength: 4000, description: 'Comma-separated device ids (default every device)' })),
  },
  { additionalProperties: false },
);
type StreamQuery = Static<typeof StreamQuery>;

/** One connected client: event framing, filtering, drop-and-count backpressure. */
class StreamClient {
  private nextId = 1;
  private dropped = 0;

  constructor(
    private readonly raw: ServerResponse,
    private readonly options: StreamOptions,
  ) {}

  send(event: string, data: unknown): void {
    this.write(`id: ${this.nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`, event);
  }

  heartbeat(): void {
    this.write(`: heartbeat ${new Date().toISOString()}\n\n`, 'heartbeat');
  }

  private write(frame: string, type: string): void {
    if (this.raw.destroyed || this.raw.writableEnded) return;
    if (this.raw.writableLength > this.options.maxBufferedBytes) {
      this.dropped++;
      this.options.metrics.streamDropped.inc({ type });
      return;
    }
    if (this.dropped > 0) {
      // The client missed events: it should re-read GET /alerts to resynchronise.
      this.raw.write(`id: ${this.nextId++}\nevent: dropped\ndata: ${JSON.stringify({ count: this.dropped })}\n\n`);
      this.dropped = 0;
    }
    this.raw.write(frame);
  }
}

/**
 * GET /api/v1/stream: Server-Sent Events of alert changes and live readings
 * (docs/alerts.md). Authenticated like every route with the bearer header —
 * browsers read it with fetch() streaming, since EventSource cannot send
 * headers. Last-Event-ID is not honoured: ids are per connection, and a
 * client that reconnects re-reads GET /alerts?state=open.
 */
export const streamRoutes =
  (options: StreamOptions): FastifyPluginAsync =>
  async (app) => {
    const open = new Set<() => void>();
    // Streams never end by themselves: close them before the server waits for its connections.
    app.addHook('preClose', async () => {
      for (const close of [...open]) close();
    });

    app.get<{ Querystring: StreamQuery }>(
      '/stream',
      {
        config: { permission: 'alerts:read' },
        schema: {
          summary: 'Live alerts and readings as Server-Sent Events (text/event-stream)',
          tags: ['alerts'],
          querystring: StreamQuery,
          response: { 400: ErrorBody },
        },
      },
      async (request, reply) => {
        const types = new Set<StreamType>();
        for (const t of (request.query.types ?? TYPES.join(',')).split(',').map((s) => s.trim())) {
          if (!(TYPES as readonly string[]).includes(t)) throw badParameter('types', `"${t.slice(0, 40)}" is not a stream type; use alerts, readings or both`);
          types.add(t as StreamType);
        }
        const devices = request.query.device ? new Set(request.query.device.split(',').map((s) => s.trim())) : null;
        const wanted = (device: string | null) => devices === null || (device !== null && devices.has(device));

        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.socket?.setNoDelay(true);
        const client = new StreamClient(raw, options);
        client.send('hello', { types: [...types], devices: devices ? [...devices] : null, heartbeatSeconds: options.heartbeatMs / 1000 });

        const unsubscribe: Array<() => void> = [];
        if (types.has('alerts')) {
          unsubscribe.push(
            options.feed.onAlert((change: AlertChange) => {
              if (wanted(change.alert.deviceId)) client.send('alert', { change: change.kind, alert: alertView(change.alert) });
            }),
          );
        }
        if (types.has('readings')) {
          unsubscribe.push(
            options.feed.onReadings((batch) => {
              for (const { device, readings } of batch) {
                if (!wanted(device)) continue;
                client.send('readings', { device, readings: readings.map((r) => ({ ...r, t: new Date(r.t).toISOString() })) });
              }
            }),
          );
        }
        const heartbeat = setInterval(() => client.heartbeat(), options.heartbeatMs);
        options.metrics.streamClients.inc();
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          for (const u of unsubscribe) u();
          open.delete(close);
          options.metrics.streamClients.dec();
          if (!raw.writableEnded) raw.end();
          // A client that stopped reading would hold the collector's shutdown: let it go.
          if (raw.writableLength > 0) raw.destroy();
        };
        open.add(close);
        raw.on('close', close);
      },
    );
  };
