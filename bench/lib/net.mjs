/** Loopback networking for the bench: everything listens on 127.0.0.1 only, on free ports. */
import { once } from 'node:events';
import { createServer } from 'node:net';

export const HOST = '127.0.0.1';

/** A free loopback port: listen on port 0, read it, close. */
export async function freePort() {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}
