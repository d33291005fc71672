import { decodeMessage, type MessageKind, type ParsedTopic } from '@medtel/shared';
import type { IngestItem } from '../store/store.js';

/** Kinds a gateway may publish (cmd goes the other way). */
export const GATEWAY_PUBLISHED_KINDS = new Set<MessageKind>(['state', 'ports', 'birth', 'status', 'data', 'alarm', 'gap', 'res']);

/**
 * Validates a payload against the contract for its topic and turns it into a
 * store item. Anything invalid becomes a quarantine item with the reason:
 * stored and acknowledged, so the agent does not re-send it forever.
 */
export function classify(topic: ParsedTopic, rawTopic: string, payload: Buffer, receivedAt: number): IngestItem {
  const origin = { site: topic.site, gateway: topic.gateway, receivedAt };
  const kind = topic.kind as Exclude<MessageKind, 'cmd'>;
  const decoded = decodeMessage(kind, payload);
  if (!decoded.ok) return { ...origin, kind: 'quarantine', topic: rawTopic, reason: `${kind}: ${decoded.reason}`, payload };
  const message = decoded.message as { device?: string };
  // The payload must speak of the device its topic names; otherwise data could be filed under the wrong device.
  if (topic.device !== undefined && message.device !== topic.device) {
    return {
      ...origin,
      kind: 'quarantine',
      topic: rawTopic,
      reason: `${kind}: payload device "${String(message.device).slice(0, 64)}" does not match topic device "${topic.device}"`,
      payload,
    };
  }
  if (kind === 'data') {
    const bad = (decoded.message as { readings: Array<{ value: unknown; quality: string }> }).readings.findIndex(
      (r) => r.value === null && r.quality !== 'bad',
    );
    if (bad >= 0)
      return { ...origin, kind: 'quarantine', topic: rawTopic, reason: `data: readings[${bad}].value: null is only allowed with quality "bad"`, payload };
  }
  return { ...origin, kind, message: decoded.message } as IngestItem;
}
