import { Type, type Static } from '@sinclair/typebox';

/**
 * Where a serial device is: a local tty (a USB-serial adapter, preferably by its
 * stable /dev/serial/by-id/ name) or a terminal server's raw TCP port
 * (`tcp://host:port`). The line settings matter only for a tty; a terminal
 * server is configured on its own web page.
 */
export const SerialLineFields = {
  /** `/dev/serial/by-id/...`, `/dev/ttyUSB0`, or `tcp://host:port` for a terminal server. */
  path: Type.String({ pattern: '^(/|tcp://).+', expected: 'a tty path such as /dev/serial/by-id/usb-... or tcp://host:port' }),
  baudRate: Type.Integer({ minimum: 50, maximum: 4_000_000, default: 9600 }),
  dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8 }),
  parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], { default: 'none' }),
  stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
  flowControl: Type.Union([Type.Literal('none'), Type.Literal('rtscts'), Type.Literal('xonxoff')], { default: 'none' }),
};

const LineSettings = Type.Object(SerialLineFields);
export type SerialLineSettings = Static<typeof LineSettings>;

export type SerialEndpoint = ({ kind: 'tty' } & SerialLineSettings) | { kind: 'tcp'; path: string; host: string; port: number };

/**
 * Turns validated settings into an endpoint. Returns a message naming the
 * problem instead of throwing, so the driver's config step can attach the field.
 */
export function toEndpoint(settings: SerialLineSettings): SerialEndpoint | string {
  if (!settings.path.startsWith('tcp://')) return { kind: 'tty', ...settings };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(settings.path);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) return `found "${settings.path}", expected tcp://host:port with a port 1-65535`;
  return { kind: 'tcp', path: settings.path, host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** "19200 8E1" style summary for logs and status reasons. */
export function describeEndpoint(e: SerialEndpoint): string {
  if (e.kind === 'tcp') return e.path;
  return `${e.path} ${e.baudRate} ${e.dataBits}${e.parity[0]?.toUpperCase()}${e.stopBits}`;
}

/** Two devices on one line must agree on its settings (a line has one baud rate). */
export function sameLine(a: SerialEndpoint, b: SerialEndpoint): boolean {
  return describeEndpoint(a) === describeEndpoint(b) && (a.kind !== 'tty' || b.kind !== 'tty' || a.flowControl === b.flowControl);
}
