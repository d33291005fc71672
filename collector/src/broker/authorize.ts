import type { Client, PublishPacket, Subscription } from 'aedes';
import { nowMs, parseTopic, topics, tracingActive, type Logger } from '@medtel/shared';
import { classify, GATEWAY_PUBLISHED_KINDS } from '../ingest/classify.js';
import type { Ingestor } from '../ingest/ingestor.js';
import { IngestTrace } from '../ingest/ingest-trace.js';
import type { CollectorMetrics } from '../metrics.js';
import type { IngestItem } from '../store/store.js';
import type { DeviceCap } from './device-cap.js';
import type { Sessions } from './gateway-auth.js';

/**
 * authorizePublish is where a PUBLISH becomes durable: aedes sends the QoS 1
 * PUBACK only after this callback (and before handing the packet to
 * subscribers), so calling back after the store commit makes a PUBACK mean
 * "stored". Calling back with an error closes the connection; that is kept
 * for ACL violations. An invalid payload is quarantined and acknowledged.
 */
export function createAuthorizePublish(sessions: Sessions, ingestor: Ingestor, metrics: CollectorMetrics, logger: Logger, deviceCap?: DeviceCap) {
  return (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void => {
    // 0 when tracing is off: the only cost then is this branch.
    const receivedAt = tracingActive() ? nowMs() : 0;
    const parsed = parseTopic(packet.topic);
    const entry = client ? sessions.get(client) : undefined;
    // client is null only for wills aedes replays from persistence after a broker restart;
    // such a will was authorised with its client when it was first published.
    const allowed =
      parsed &&
      GATEWAY_PUBLISHED_KINDS.has(parsed.kind) &&
      (client === null ? parsed.kind === 'state' : entry && parsed.gateway === entry.id && (!entry.site || parsed.site === entry.site));
    if (!parsed || !allowed) {
      metrics.aclViolations.inc({ action: 'publish' });
      logger.warn(
        { gateway: entry?.id, clientId: client?.id, topic: packet.topic.slice(0, 256) },
        "publish outside the gateway's own topics: connection closed",
      );
      done(new Error('publish not allowed'));
      return;
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const item = classify(parsed, packet.topic, payload, Date.now());
    const trace = receivedAt ? IngestTrace.begin(item, receivedAt, client?.id) : undefined;
    const submit = (item: IngestItem) =>
      ingestor.submit(item).then(
        (outcome) => {
          trace?.stored(outcome);
          done(null);
        },
        (err: Error) => {
          trace?.failed(err);
          done(err);
        },
      );
    if (item.kind === 'quarantine') {
      logger.warn({ gateway: parsed.gateway, topic: packet.topic, reason: item.reason, bytes: payload.length }, 'payload quarantined');
      void submit(item);
      return;
    }
    const device = parsed.device;
    if (!deviceCap || device === undefined) {
      void submit(item);
      return;
    }
    deviceCap.admit(parsed.gateway, device).then(
      (admitted) => {
        if (admitted) return submit(item);
        metrics.limitRejections.inc({ limit: 'devices_per_gateway' });
        const reason = `limit: gateway ${parsed.gateway} already has ${deviceCap.limit} devices (mqtt.limits.devicesPerGateway); device "${device}" refused`;
        if (deviceCap.firstRefusal(parsed.gateway, device)) logger.warn({ gateway: parsed.gateway, device }, reason);
        // Quarantined and acknowledged, like any refused payload, so the agent does not send it forever.
        return submit({ site: parsed.site, gateway: parsed.gateway, receivedAt: Date.now(), kind: 'quarantine', topic: packet.topic, reason, payload });
      },
      (err: Error) => {
        trace?.failed(err);
        done(err);
      },
    );
  };
}

/** A gateway may subscribe only to its own commands. */
export function createAuthorizeSubscribe(sessions: Sessions, metrics: CollectorMetrics, logger: Logger) {
  return (client: Client | null, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void => {
    const entry = client ? sessions.get(client) : undefined;
    const parsedFilter = sub.topic.match(/^medtel\/v1\/([^/]+)\/([^/]+)\/cmd\/#$/);
    const ok =
      entry &&
      parsedFilter &&
      parsedFilter[2] === entry.id &&
      (!entry.site || parsedFilter[1] === entry.site) &&
      sub.topic === topics.cmdFilter(parsedFilter[1] as string, entry.id);
    if (!ok) {
      metrics.aclViolations.inc({ action: 'subscribe' });
      logger.warn({ gateway: entry?.id, topic: sub.topic.slice(0, 256) }, "subscription outside the gateway's own cmd/#: refused");
      done(new Error('subscription not allowed'));
      return;
    }
    done(null, sub);
  };
}
