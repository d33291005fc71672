/** Loopback ports for the demos, the bench and the tests' throw-away servers. */
import { createServer } from 'node:net';

/** A free loopback port: listen on port 0, read it, close. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The usual port if it is free, else any free one (so a second demo or a busy 8080 does not stop us). */
export function portNear(preferred, host = '127.0.0.1') {
  const tryPort = (port) =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, host, () => {
        const p = server.address().port;
        server.close(() => resolve(p));
      });
    });
  return tryPort(preferred).then((p) => p ?? tryPort(0));
}
