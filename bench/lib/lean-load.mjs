/**
 * The lean load generator of the `peers` scenario: one process, many gateway
 * connections (plain `net` sockets, mqtt-packet for CONNECT and for parsing
 * what the broker sends back, PUBLISH frames encoded by hand), QoS 1 `data`
 * messages with a fixed in-flight window per connection. mqtt.js saturates
 * one core near 60k msg/s, below what raw Aedes and mosquitto absorb, so the
 * peer rows need a generator that costs less per message than the broker.
 *
 * Two load shapes:
 *   saturated  every connection keeps `window` PUBLISHes unacknowledged; the
 *              next goes out as a PUBACK comes in
 *   rate       every device sends one message per `1 / ratePerDevice` s,
 *              devices spread evenly over the second; a message that finds
 *              the window full waits in a queue, and its latency counts from
 *              when it was due (no coordinated omission: a slow broker cannot
 *              hide its queue by slowing the generator down)
 *
 * Forked by lib/lean-fleet.mjs; config in MEDTEL_BENCH_LEAN (JSON, it carries
 * secrets), IPC as lib/gateway-load.mjs: ready, start, measure, progress,
 * stop, result, error.
 */
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { Histogram } from './histogram.mjs';
import { makePayloadBuilder } from './payload.mjs';

/** A QoS 1 PUBLISH frame: fixed header 0x32, remaining length, topic (Buffer), packet id, payload (string, written in place). */
function publishFrame(topic, packetId, payload) {
  const payloadBytes = Buffer.byteLength(payload);
  const remaining = 2 + topic.length + 2 + payloadBytes;
  let lenBytes = 1;
  for (let r = remaining; r >= 128; r = Math.floor(r / 128)) lenBytes += 1;
  const buf = Buffer.allocUnsafe(1 + lenBytes + remaining);
  let o = 0;
  buf[o++] = 0x32;
  let r = remaining;
  do {
    let byte = r % 128;
    r = Math.floor(r / 128);
    if (r > 0) byte |= 0x80;
    buf[o++] = byte;
  } while (r > 0);
  buf.writeUInt16BE(topic.length, o);
  o += 2;
  o += topic.copy(buf, o);
  buf.writeUInt16BE(packetId, o);
  o += 2;
  buf.write(payload, o);
  return buf;
}

/** One gateway connection and its counters; `onReady` once CONNACK 0 came. */
function createConnection(cfg, gw, shared) {
  const { build, hist, fail } = shared;
  const devices = Array.from({ length: cfg.devicesPerGateway }, (_, i) => `pump-${i + 1}`);
  const topics = devices.map((d) => Buffer.from(`medtel/v1/${cfg.site}/${gw.id}/dev/${d}/data`));
  // Packet ids 1..65535 in order; at most `window` (< 65535) in flight, so a slot per id is enough.
  const sentAt = new Float64Array(65536);
  const seqOf = new Float64Array(65536);
  const c = { id: gw.id, ready: false, seq: 0, inFlight: 0, published: 0, acked: 0, outOfOrder: 0, lastAckedId: 0, queue: [], closed: false };
  let nextId = 0;
  const socket = connect({ host: cfg.host, port: gw.port });
  socket.setNoDelay(true);
  const parser = mqttPacket.parser({ protocolVersion: 4 });

  c.publish = (dueAt) => {
    c.seq += 1;
    const s = c.seq;
    nextId = nextId === 65535 ? 1 : nextId + 1;
    const d = s % devices.length;
    sentAt[nextId] = dueAt;
    seqOf[nextId] = s;
    c.inFlight += 1;
    c.published += 1;
    socket.write(publishFrame(topics[d], nextId, build(s, Date.now(), devices[d])));
  };

  parser.on('packet', (p) => {
    if (p.cmd === 'connack') {
      if (p.returnCode !== 0) return fail(`${gw.id}: CONNACK return code ${p.returnCode}`);
      c.ready = true;
      shared.onReady(c);
      return;
    }
    if (p.cmd !== 'puback') return;
    const now = performance.now();
    const id = p.messageId;
    // PUBACKs must come in PUBLISH order (MQTT-4.6.0-2): ids are sequential, wrapping at 65535.
    const expected = c.lastAckedId === 65535 ? 1 : c.lastAckedId + 1;
    if (id !== expected) c.outOfOrder += 1;
    c.lastAckedId = id;
    c.inFlight -= 1;
    c.acked += 1;
    const s = seqOf[id];
    if (s >= shared.measureFromSeq(c) && s < shared.measureToSeq(c)) hist.recordMs(now - sentAt[id]);
    if (shared.measuring) shared.ackedInWindow += 1;
    shared.onAck(c, now);
  });
  parser.on('error', (err) => fail(`${gw.id}: bad packet from the broker: ${err.message}`));
  socket.on('data', (chunk) => {
    // Everything this chunk's PUBACKs trigger goes out in one write.
    socket.cork();
    parser.parse(chunk);
    socket.uncork();
  });
  socket.on('error', (err) => fail(`${gw.id}: ${err.message}`));
  socket.on('close', () => {
    c.closed = true;
    if (!shared.finished) fail(`${gw.id}: connection closed by the broker (published ${c.published}, acked ${c.acked}, in flight ${c.inFlight})`);
  });
  socket.on('connect', () =>
    socket.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 120,
        clientId: `bench-${gw.id}-${process.pid}`,
        username: gw.id,
        password: Buffer.from(gw.secret),
      }),
    ),
  );
  c.end = () => socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
  c.destroy = () => socket.destroy();
  return c;
}

async function main() {
  const cfg = JSON.parse(process.env.MEDTEL_BENCH_LEAN ?? 'null');
  if (!cfg || !process.send) {
    process.stderr.write('lean-load.mjs is started by bench/lib/lean-fleet.mjs (needs MEDTEL_BENCH_LEAN and an IPC channel)\n');
    process.exit(2);
  }
  const send = (msg) => {
    if (process.connected) process.send(msg);
  };
  process.on('disconnect', () => process.exit(0));

  const hist = new Histogram();
  const measureFrom = new Map();
  const measureTo = new Map();
  let publishing = false;
  let stopping = false;
  let measureStart = 0;
  let measureEnd = 0;
  let cpuStart;
  let cpuInWindow;
  let dueInWindow = 0;
  const shared = {
    build: makePayloadBuilder(cfg.readings),
    hist,
    measuring: false,
    finished: false,
    ackedInWindow: 0,
    measureFromSeq: (c) => measureFrom.get(c) ?? Number.POSITIVE_INFINITY,
    measureToSeq: (c) => measureTo.get(c) ?? Number.POSITIVE_INFINITY,
    fail: (message) => {
      if (shared.finished) return;
      shared.finished = true;
      send({ type: 'error', message });
      setTimeout(() => process.exit(1), 50);
    },
    onReady: () => {
      if (conns.every((c) => c.ready)) send({ type: 'ready' });
    },
    onAck: (c, now) => {
      if (cfg.shape === 'saturated') {
        if (publishing && !stopping) c.publish(now);
      } else if (c.queue.length > 0) {
        c.publish(c.queue.shift());
      }
      if (stopping) maybeFinish();
    },
  };
  const conns = cfg.gateways.map((gw) => createConnection(cfg, gw, shared));

  // Fixed rate: each connection's devices are due evenly over the period, phase-shifted per connection.
  const periodMs = 1000 / cfg.ratePerDevice;
  let rateStart = 0;
  const issued = new Float64Array(conns.length);
  const tick = () => {
    const now = performance.now();
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i];
      const phase = (i / conns.length) * (periodMs / cfg.devicesPerGateway);
      const due = Math.floor(((now - rateStart + phase) / periodMs) * cfg.devicesPerGateway);
      for (let k = issued[i]; k < due; k++) {
        // Message k falls due when `due` passes k, i.e. at the end of its slot.
        const dueAt = rateStart + ((k + 1) * periodMs) / cfg.devicesPerGateway - phase;
        if (shared.measuring) dueInWindow += 1;
        if (c.inFlight < cfg.window && c.queue.length === 0) c.publish(dueAt);
        else c.queue.push(dueAt);
      }
      if (due > issued[i]) issued[i] = due;
    }
  };
  let rateTimer;

  const progressTimer = setInterval(() => send({ type: 'progress', acked: conns.reduce((n, c) => n + c.acked, 0) }), 250);
  let drainTimer;
  const maybeFinish = () => {
    if (conns.every((c) => c.inFlight === 0 && c.queue.length === 0)) finish();
  };
  const finish = () => {
    if (shared.finished) return;
    shared.finished = true;
    clearInterval(progressTimer);
    clearInterval(rateTimer);
    clearTimeout(drainTimer);
    const sum = (f) => conns.reduce((n, c) => n + f(c), 0);
    send({
      type: 'result',
      connections: conns.length,
      published: sum((c) => c.published),
      acked: sum((c) => c.acked),
      inFlightAtEnd: sum((c) => c.inFlight),
      queuedAtEnd: sum((c) => c.queue.length),
      outOfOrderAcks: sum((c) => c.outOfOrder),
      measured: {
        acked: shared.ackedInWindow,
        due: dueInWindow,
        seconds: (measureEnd - measureStart) / 1000,
        cpuUserMs: cpuInWindow ? cpuInWindow.user / 1000 : 0,
        cpuSystemMs: cpuInWindow ? cpuInWindow.system / 1000 : 0,
        latency: hist.toJSON(),
      },
    });
    for (const c of conns) c.end();
    setTimeout(() => process.exit(0), 100);
  };

  process.on('message', (msg) => {
    switch (msg?.type) {
      case 'start':
        publishing = true;
        if (cfg.shape === 'saturated') {
          const now = performance.now();
          for (const c of conns) for (let i = 0; i < cfg.window; i++) c.publish(now);
        } else {
          rateStart = performance.now();
          rateTimer = setInterval(tick, 2);
        }
        break;
      case 'measure':
        shared.measuring = true;
        shared.ackedInWindow = 0;
        dueInWindow = 0;
        measureStart = performance.now();
        for (const c of conns) measureFrom.set(c, c.seq + 1 + c.queue.length);
        cpuStart = process.cpuUsage();
        break;
      case 'stop':
        shared.measuring = false;
        measureEnd = performance.now();
        for (const c of conns) measureTo.set(c, c.seq + 1 + c.queue.length);
        cpuInWindow = cpuStart ? process.cpuUsage(cpuStart) : undefined;
        stopping = true;
        clearInterval(rateTimer);
        maybeFinish();
        if (!shared.finished) drainTimer = setTimeout(finish, cfg.drainTimeoutMs ?? 15_000);
        break;
      default:
        break;
    }
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    process.stderr.write(`lean-load: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
