/**
 * A broker fuzzer: malformed MQTT packets over many short TCP connections,
 * and malformed JSON payloads from authenticated gateways, while a
 * well-behaved gateway keeps publishing. Used by collector/test/broker-fuzz.test.ts
 * (small counts) and scripts/fuzz-broker.mjs (the full run). Plain node:net,
 * no MQTT library, so nothing "fixes" a packet on the way out.
 */
import { connect } from 'node:net';
import { seededRandom } from '@medtel/simulators';

/** A deterministic PRNG (the simulators' mulberry32), so a failing run can be replayed with its seed. */
export const rng = seededRandom;

const varint = (n) => {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
};
const str = (s) => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};
const packet = (header, body) => Buffer.concat([Buffer.from([header]), varint(body.length), body]);

export function connectPacket({ clientId, username, password, keepalive = 30 }) {
  let flags = 0x02; // clean session
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const ka = Buffer.alloc(2);
  ka.writeUInt16BE(keepalive);
  const parts = [str('MQTT'), Buffer.from([4, flags]), ka, str(clientId)];
  if (username !== undefined) parts.push(str(username));
  if (password !== undefined) parts.push(str(password));
  return packet(0x10, Buffer.concat(parts));
}

export function publishPacket(topic, payload, qos = 0, id = 1) {
  const idBuf = Buffer.alloc(2);
  idBuf.writeUInt16BE(id);
  return packet(0x30 | (qos << 1), Buffer.concat([str(topic), qos > 0 ? idBuf : Buffer.alloc(0), Buffer.from(payload)]));
}

export function subscribePacket(filter, id = 1) {
  const idBuf = Buffer.alloc(2);
  idBuf.writeUInt16BE(id);
  return packet(0x82, Buffer.concat([idBuf, str(filter), Buffer.from([1])]));
}

/** Valid packets to mutate: what a gateway really sends. */
function seeds(r) {
  return [
    connectPacket({ clientId: `fz-${Math.floor(r() * 1e9)}`, username: 'gw-x', password: 'not-the-secret' }),
    connectPacket({ clientId: '' }),
    publishPacket('medtel/v1/s/gw-x/dev/pump-1/data', '{"v":1,"seq":1,"readings":[]}', 1, 7),
    subscribePacket('medtel/v1/s/gw-x/cmd/#'),
    Buffer.from([0xc0, 0x00]), // PINGREQ
    Buffer.from([0xe0, 0x00]), // DISCONNECT
  ];
}

/** One malformed packet: a mutated real one, random bytes, or an absurd/invalid length field. */
export function malformedPacket(r) {
  const pick = r();
  if (pick < 0.4) {
    const all = seeds(r);
    const p = Buffer.from(all[Math.floor(r() * all.length)]);
    const edits = 1 + Math.floor(r() * 4);
    for (let i = 0; i < edits; i++) {
      const op = r();
      const at = Math.floor(r() * p.length);
      if (op < 0.6) p[at] = Math.floor(r() * 256);
      else if (op < 0.8)
        return p.subarray(0, at); // truncated
      else p[at] ^= 1 << Math.floor(r() * 8);
    }
    return p;
  }
  if (pick < 0.7) {
    const n = 1 + Math.floor(r() * 300);
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
    return b;
  }
  if (pick < 0.85) {
    // Absurd lengths: 256 MiB announced, or a 5-byte varint (invalid), then a little body.
    const header = [0x10, 0x30, 0x32, 0x82][Math.floor(r() * 4)];
    const len = r() < 0.5 ? [0xff, 0xff, 0xff, 0x7f] : [0xff, 0xff, 0xff, 0xff, 0x01];
    return Buffer.concat([Buffer.from([header, ...len]), Buffer.alloc(Math.floor(r() * 64), 0x41)]);
  }
  // Reserved packet types and flags (0x00, 0xf0, PUBLISH with QoS 3).
  return Buffer.from([[0x00, 0xf0, 0x36, 0x83][Math.floor(r() * 4)], 0x02, 0x00, 0x01]);
}

/** A payload that is not a valid message: broken JSON, wrong types, huge numbers, deep nesting. */
export function malformedJson(r, seq) {
  const kinds = [
    () => '{"v":1,"seq":',
    () => `{"v":1,"seq":${seq},"readings":"nope"}`,
    () => `{"v":1,"seq":${seq},"sentAt":"yesterday","device":"pump-1","readings":[{"metric":1e309}]}`,
    () => '['.repeat(2000) + ']'.repeat(2000),
    () => `{"v":99,"seq":-${seq}}`,
    () => Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('latin1'),
    () => `{"__proto__":{"polluted":true},"v":1,"seq":${seq}}`,
    () => `{"v":1,"seq":${seq},"readings":[${'{"metric":"x","t":1,"value":1},'.repeat(200)}null]}`,
    () => '',
    () => JSON.stringify({ v: 1, seq, sentAt: Date.now(), device: 'pump-1', clock: 'agent', readings: [{ metric: 'rate', t: 'x', value: {} }] }),
  ];
  return kinds[Math.floor(r() * kinds.length)]();
}

/**
 * Opens `connections` sockets in parallel; each writes a burst of malformed
 * packets (some after a valid CONNECT, so the post-authentication paths are
 * hit too), waits for the broker to close it (or closes it after a short
 * while) and starts again, until `packets` have been sent.
 */
export async function fuzzPackets({ host, port, packets, connections = 50, seed = 1, authenticated, burst = 8, onProgress }) {
  const r = rng(seed);
  let sent = 0;
  let sockets = 0;
  let closedByBroker = 0;
  const one = () =>
    new Promise((resolve) => {
      const socket = connect(port, host);
      sockets++;
      let done = false;
      const finish = (byBroker) => {
        if (done) return;
        done = true;
        if (byBroker) closedByBroker++;
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(() => finish(false), 2000);
      socket.on('error', () => finish(true));
      socket.on('close', () => finish(true));
      socket.on('connect', () => {
        const chunks = [];
        // A few connections first authenticate (scrypt costs ~50 ms, so not many).
        if (authenticated && r() < authenticated.share) chunks.push(connectPacket({ clientId: `fz-auth-${sockets}`, ...authenticated.credentials() }));
        const n = Math.min(burst, packets - sent);
        for (let i = 0; i < n; i++) chunks.push(malformedPacket(r));
        sent += n;
        socket.write(Buffer.concat(chunks));
        if (sent % 10_000 < n) onProgress?.(sent);
      });
    });
  const worker = async () => {
    while (sent < packets) await one();
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return { packets: sent, sockets, closedByBroker };
}

/**
 * `count` malformed JSON payloads, QoS 1, from `connections` authenticated
 * gateway connections (each waits for its PUBACK: the broker quarantines and
 * acknowledges an invalid payload rather than closing the connection).
 */
export async function fuzzJson({ host, port, count, connections = 10, credentials, topicFor, seed = 2 }) {
  const r = rng(seed);
  let sent = 0;
  let acked = 0;
  const worker = (w) =>
    new Promise((resolve, reject) => {
      const socket = connect(port, host);
      const creds = credentials(w);
      let buf = Buffer.alloc(0);
      let id = 0;
      let connected = false;
      const next = () => {
        if (sent >= count) {
          socket.end(Buffer.from([0xe0, 0x00]));
          resolve();
          return;
        }
        sent++;
        id = (id % 65535) + 1;
        socket.write(publishPacket(topicFor(creds.username), malformedJson(r, sent), 1, id));
      };
      socket.on('connect', () => socket.write(connectPacket({ clientId: `fz-json-${w}-${seed}`, ...creds })));
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2) {
          const type = buf[0] >> 4;
          const len = buf[1];
          if (buf.length < 2 + len) break;
          const body = buf.subarray(2, 2 + len);
          buf = buf.subarray(2 + len);
          if (type === 2) {
            if (body[1] !== 0) return reject(new Error(`CONNACK ${body[1]} for ${creds.username}`));
            connected = true;
            next();
          } else if (type === 4) {
            acked++;
            next();
          }
        }
      });
      socket.on('error', reject);
      socket.on('close', () => (sent >= count ? resolve() : reject(new Error(`json fuzz connection closed by the broker (connected: ${connected})`))));
    });
  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  return { payloads: sent, acked };
}
