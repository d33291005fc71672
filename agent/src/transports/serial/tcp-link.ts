import { connect } from 'node:net';
import type { ByteLink, LinkEvents } from './byte-link.js';
import type { SerialEndpoint } from './endpoint.js';

type TcpEndpoint = Extract<SerialEndpoint, { kind: 'tcp' }>;

/** Opens a terminal server's raw TCP port: the serial bytes, nothing else (no Telnet, no RFC 2217). */
export function openTcpLink(e: TcpEndpoint, events: LinkEvents, timeoutMs: number): Promise<ByteLink> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: e.host, port: e.port });
    socket.setNoDelay(true);
    let open = false;
    let closed = false;
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      open = true;
      resolve({
        write: (bytes) => new Promise<void>((res, rej) => socket.write(bytes, (err) => (err ? rej(err) : res()))),
        close: () =>
          new Promise<void>((res) => {
            closed = true;
            if (socket.destroyed) return res();
            socket.once('close', () => res());
            socket.destroy();
          }),
      });
    });
    socket.on('data', (bytes) => events.data(bytes));
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (!open) reject(err);
      else if (!closed) {
        closed = true;
        events.closed((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? 'connection reset' : err.message);
      }
    });
    socket.on('close', () => {
      if (open && !closed) {
        closed = true;
        events.closed('the terminal server closed the connection');
      }
    });
  });
}
