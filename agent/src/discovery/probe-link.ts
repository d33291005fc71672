import type { LineSettings } from '../profiles/identify.js';
import type { ByteLink } from '../transports/serial/index.js';
import { toEndpoint } from '../transports/serial/index.js';
import { openTcpLink } from '../transports/serial/tcp-link.js';
import { openTtyLink } from '../transports/serial/tty-link.js';

/**
 * Opens a port once for one identification attempt, with the settings under
 * test. Unlike the drivers' SerialLine it never reopens: a probe that cannot
 * open the port simply ends with `error`.
 */
export async function openProbeLink(path: string, line: LineSettings, onData: (bytes: Buffer) => void, connectTimeoutMs = 2000): Promise<ByteLink> {
  const endpoint = toEndpoint({ path, ...line, flowControl: 'none' });
  if (typeof endpoint === 'string') throw new Error(endpoint);
  const events = { data: onData, closed: () => undefined };
  return endpoint.kind === 'tcp' ? openTcpLink(endpoint, events, connectTimeoutMs) : openTtyLink(endpoint, events);
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
