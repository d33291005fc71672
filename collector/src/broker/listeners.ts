import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ConfigError, type Logger } from '@medtel/shared';

export interface TlsListenerOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  caFile?: string;
  requireClientCertificate: boolean;
}

function readPem(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      `mqtt.tls.${field}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      '(config)',
      `mqtt.tls.${field}`,
    );
  }
}

/**
 * PUBACKs are small writes sent after each commit: with Nagle's algorithm one
 * may wait for the TCP acknowledgement of the previous one (and the peer's
 * delayed ACK). One back-to-back pair of peers-bench runs at 1,000 devices x
 * 1/s gave PUBACK p99 22.9 -> 15.7 ms with it off (a noisy machine: indicative).
 */
const NO_DELAY = true;

/**
 * MQTT over TLS: TLS 1.2 or newer only, Node's default (modern) cipher list.
 * With a CA, a client certificate is asked for; unless
 * requireClientCertificate, one that is missing or does not verify still
 * completes the handshake so that authenticate can log exactly why it refuses
 * the gateway (and secret-only gateways can share the listener).
 */
export function createTlsListener(options: TlsListenerOptions, onConnection: (socket: TLSSocket) => void, logger: Logger): Server {
  if (options.requireClientCertificate && !options.caFile)
    throw new ConfigError('mqtt.tls.requireClientCertificate: needs mqtt.tls.caFile (the CA that signs gateway certificates)', '(config)', 'mqtt.tls.caFile');
  const server = createTlsServer(
    {
      cert: readPem(options.certFile, 'certFile'),
      key: readPem(options.keyFile, 'keyFile'),
      ...(options.caFile ? { ca: readPem(options.caFile, 'caFile'), requestCert: true, rejectUnauthorized: options.requireClientCertificate } : {}),
      minVersion: 'TLSv1.2',
      // A slow or silent TLS client may hold a socket only this long before the handshake ends.
      handshakeTimeout: 10_000,
      noDelay: NO_DELAY,
    },
    onConnection,
  );
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    logger.warn({ remote: socket.remoteAddress, err: err.message, code: err.code }, 'refused TLS handshake');
  });
  return server;
}

export function createPlainListener(onConnection: (socket: Socket) => void): Server {
  return createTcpServer({ noDelay: NO_DELAY }, onConnection);
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(address && typeof address === 'object' ? address.port : port);
    });
  });
}
