#!/usr/bin/env node
// A small TCP load balancer for the two-replica test and `demo:cluster`: round-robin over the
// backends that pass their health check, byte-for-byte piping (MQTT, TLS pass through untouched).
// Production uses HAProxy or nginx `stream` (docs/replicas.md); this one is for loopback.
//
//   node scripts/tcp-balancer.mjs --listen 127.0.0.1:1883 \
//     --backend 127.0.0.1:18831=http://127.0.0.1:8081/readyz --backend 127.0.0.1:18832=http://127.0.0.1:8082/readyz
//
// A backend is healthy while its health URL answers 200 (or, without one, while it accepts a TCP
// connection); checked every second. A new connection goes to the next healthy backend; when a
// backend dies its open connections close and the clients reconnect to the others.
import { createConnection, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';

const parseHostPort = (text) => {
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i) || '127.0.0.1', port: Number(text.slice(i + 1)) };
};

async function check(backend) {
  if (backend.health) {
    try {
      const res = await fetch(backend.health, { signal: AbortSignal.timeout(900) });
      return res.status === 200;
    } catch {
      return false;
    }
  }
  return new Promise((resolve) => {
    const socket = createConnection({ host: backend.host, port: backend.port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.setTimeout(900, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts the balancer. `backends`: [{ host, port, health? }]. Resolves with
 * { port, connections(): per-backend counts, close() }.
 */
export async function startBalancer({ host = '127.0.0.1', port = 0, backends, checkEveryMs = 1000 }) {
  const state = backends.map((b) => ({ ...b, healthy: false, opened: 0, sockets: new Set() }));
  let next = 0;
  // Client-side sockets too: server.close() waits for every one of them, so close() must end them.
  const clients = new Set();
  const checkAll = async () => {
    await Promise.all(
      state.map(async (b) => {
        b.healthy = await check(b);
      }),
    );
  };
  await checkAll();
  const timer = setInterval(() => void checkAll(), checkEveryMs);
  timer.unref();

  const server = createServer((client) => {
    const healthy = state.filter((b) => b.healthy);
    if (healthy.length === 0) {
      client.destroy();
      return;
    }
    const backend = healthy[next++ % healthy.length];
    backend.opened++;
    const upstream = createConnection({ host: backend.host, port: backend.port });
    backend.sockets.add(upstream);
    clients.add(client);
    client.on('close', () => clients.delete(client));
    const untrack = () => backend.sockets.delete(upstream);
    // An error on either side (a replica killed: reset) drops both, so the client reconnects.
    const abort = () => {
      untrack();
      client.destroy();
      upstream.destroy();
    };
    client.on('error', abort);
    upstream.on('error', (err) => {
      // Refused: mark it down now rather than at the next check.
      if (err.code === 'ECONNREFUSED') backend.healthy = false;
      abort();
    });
    upstream.on('close', untrack);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: server.address().port,
    connections: () => state.map((b) => ({ backend: `${b.host}:${b.port}`, healthy: b.healthy, opened: b.opened, open: b.sockets.size })),
    close: () =>
      new Promise((resolve) => {
        clearInterval(timer);
        for (const b of state) for (const s of b.sockets) s.destroy();
        for (const c of clients) c.destroy();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  let listen = '127.0.0.1:1883';
  const backends = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--listen') listen = args[++i];
    else if (args[i] === '--backend') {
      const [addr, health] = args[++i].split('=');
      backends.push({ ...parseHostPort(addr), ...(health ? { health } : {}) });
    } else {
      console.error(`tcp-balancer: unknown argument ${args[i]}; use --listen HOST:PORT --backend HOST:PORT[=HEALTH_URL] ...`);
      process.exit(2);
    }
  }
  if (backends.length === 0) {
    console.error('tcp-balancer: give at least one --backend HOST:PORT[=HEALTH_URL]');
    process.exit(2);
  }
  const { host, port } = parseHostPort(listen);
  const lb = await startBalancer({ host, port, backends });
  console.log(JSON.stringify({ msg: 'tcp balancer listening', port: lb.port, backends: backends.length }));
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void lb.close().then(() => process.exit(0)));
}
