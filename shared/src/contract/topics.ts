/**
 * MQTT topics: `medtel/v1/{site}/{gateway}/...` (see DESIGN.md, MQTT contract).
 * Ids are restricted to letters, digits, `_` and `-` so they can never carry
 * MQTT wildcards or separators, and so `gateway.device` is an unambiguous key.
 */
export const TOPIC_PREFIX = 'medtel/v1';
export const ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
const ID_RE = new RegExp(ID_PATTERN);

export type DeviceTopicKind = 'birth' | 'status' | 'data' | 'alarm';
export type TopicKind = 'state' | 'ports' | 'gap' | DeviceTopicKind | 'cmd' | 'res';

export interface ParsedTopic {
  site: string;
  gateway: string;
  kind: TopicKind;
  device?: string;
  requestId?: string;
}

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

export function gatewayRoot(site: string, gateway: string): string {
  return `${TOPIC_PREFIX}/${site}/${gateway}`;
}

export const topics = {
  state: (site: string, gateway: string) => `${gatewayRoot(site, gateway)}/state`,
  ports: (site: string, gateway: string) => `${gatewayRoot(site, gateway)}/ports`,
  gap: (site: string, gateway: string) => `${gatewayRoot(site, gateway)}/gap`,
  device: (site: string, gateway: string, device: string, kind: DeviceTopicKind) => `${gatewayRoot(site, gateway)}/dev/${device}/${kind}`,
  cmd: (site: string, gateway: string, requestId: string) => `${gatewayRoot(site, gateway)}/cmd/${requestId}`,
  cmdFilter: (site: string, gateway: string) => `${gatewayRoot(site, gateway)}/cmd/#`,
  res: (site: string, gateway: string, requestId: string) => `${gatewayRoot(site, gateway)}/res/${requestId}`,
};

const DEVICE_KINDS = new Set<string>(['birth', 'status', 'data', 'alarm']);

/** Splits a topic into its parts; null for anything outside the contract. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'medtel' || parts[1] !== 'v1' || parts.length < 5) return null;
  const [, , site, gateway, head, ...rest] = parts as [string, string, string, string, string, ...string[]];
  if (!isValidId(site) || !isValidId(gateway)) return null;
  if ((head === 'state' || head === 'ports' || head === 'gap') && rest.length === 0) return { site, gateway, kind: head };
  if (head === 'dev' && rest.length === 2 && isValidId(rest[0] as string) && DEVICE_KINDS.has(rest[1] as string)) {
    return { site, gateway, kind: rest[1] as DeviceTopicKind, device: rest[0] as string };
  }
  if ((head === 'cmd' || head === 'res') && rest.length === 1 && isValidId(rest[0] as string)) {
    return { site, gateway, kind: head, requestId: rest[0] as string };
  }
  return null;
}

/** Registry key of a device across the fleet: `{gateway}.{device}`. */
export function deviceKey(gateway: string, device: string): string {
  return `${gateway}.${device}`;
}

export function splitDeviceKey(key: string): { gateway: string; device: string } | null {
  const dot = key.indexOf('.');
  if (dot < 0) return null;
  const gateway = key.slice(0, dot);
  const device = key.slice(dot + 1);
  return isValidId(gateway) && isValidId(device) ? { gateway, device } : null;
}
