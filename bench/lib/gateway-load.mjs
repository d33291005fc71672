/**
 * One simulated gateway for `npm run bench`: a single MQTT 3.1.1 connection
 * that publishes data messages at QoS 1 as fast as its in-flight window
 * allows (exactly `window` unacknowledged PUBLISHes; the next one goes out
 * from the PUBACK callback), cycling over its devices.
 *
 * Forked by bench/lib/load-fleet.mjs (for bench/run.mjs). Configuration comes in the
 * MEDTEL_BENCH_GATEWAY environment variable (JSON; it carries the secret, so
 * it is not put on the command line). Talks to the parent over IPC:
 *
 *   child -> parent  {type:'ready'}                     connected (CONNACK 0)
 *   parent -> child  {type:'start'}                     start publishing (warm-up)
 *   parent -> child  {type:'measure'}                   start the measured phase
 *   child -> parent  {type:'progress', acked}           every 250 ms, cumulative
 *   parent -> child  {type:'stop'}                      end of measured phase: stop
 *                                                       publishing, wait for in-flight
 *   child -> parent  {type:'result', ...}               counts + latency histogram
 *   child -> parent  {type:'error', message}            then exits 1
 */
import { fileURLToPath } from 'node:url';
import { Histogram } from './histogram.mjs';
import { makePayloadBuilder } from './payload.mjs';

async function main() {
  const cfg = JSON.parse(process.env.MEDTEL_BENCH_GATEWAY ?? 'null');
  if (!cfg || !process.send) {
    process.stderr.write('gateway-load.mjs is started by bench/run.mjs (needs MEDTEL_BENCH_GATEWAY and an IPC channel)\n');
    process.exit(2);
  }
  const { default: mqtt } = await import('mqtt');
  const send = (msg) => {
    if (process.connected) process.send(msg);
  };
  const fail = (message) => {
    send({ type: 'error', gateway: cfg.gateway, message });
    setTimeout(() => process.exit(1), 50);
  };
  // The parent went away (crash, SIGKILL): never linger.
  process.on('disconnect', () => process.exit(0));

  const plain = makePayloadBuilder(cfg.readings);
  // --trace-ratio: every Nth message carries a sampled traceparent, as a traced agent batch does.
  const traceEvery = cfg.traceRatio > 0 ? Math.max(1, Math.round(1 / cfg.traceRatio)) : 0;
  const { randomBytes } = await import('node:crypto');
  const build = !traceEvery
    ? plain
    : (s, now, device) => {
        const p = plain(s, now, device);
        if (s % traceEvery !== 0) return p;
        const id = randomBytes(24).toString('hex');
        return `${p.slice(0, -1)},"traceparent":"00-${id.slice(0, 32)}-${id.slice(32)}-01"}`;
      };
  const devices = Array.from({ length: cfg.devices }, (_, i) => `pump-${i + 1}`);
  const topicsByDevice = devices.map((d) => `medtel/v1/${cfg.site}/${cfg.gateway}/dev/${d}/data`);
  const publishOpts = { qos: 1, retain: false };
  const window = cfg.window;
  // Publish time of each in-flight seq; at most `window` are in flight, so a ring suffices.
  const ringSize = 2 ** Math.ceil(Math.log2(window + 1));
  const sentAt = new Float64Array(ringSize);
  const hist = new Histogram();

  let seq = 0; // last seq published
  let inFlight = 0;
  let publishing = false;
  let stopping = false;
  let totalAcked = 0;
  let totalPublished = 0;
  let publishErrors = 0;
  let firstPublishError;
  // Measured phase: acks counted by arrival time; latency by publish time.
  let measuring = false;
  let measureFromSeq = Number.POSITIVE_INFINITY;
  let measureToSeq = Number.POSITIVE_INFINITY;
  let ackedInWindow = 0;
  let measureStart = 0;
  let measureEnd = 0;
  let cpuStart;
  let cpuInWindow;
  let maxSeqAcked = 0;
  let outOfOrderAcks = 0;

  const client = mqtt.connect({
    host: cfg.host,
    port: cfg.port,
    protocol: 'mqtt',
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 60,
    clientId: `bench-${cfg.gateway}-${process.pid}`,
    username: cfg.gateway,
    password: cfg.secret,
  });

  const publishOne = () => {
    seq += 1;
    const s = seq;
    const now = Date.now();
    const d = s % devices.length;
    inFlight += 1;
    totalPublished += 1;
    sentAt[s & (ringSize - 1)] = performance.now();
    client.publish(topicsByDevice[d], build(s, now, devices[d]), publishOpts, (err) => onAck(err, s));
  };

  const onAck = (err, s) => {
    inFlight -= 1;
    if (err) {
      publishErrors += 1;
      firstPublishError ??= err.message;
      return;
    }
    const t = performance.now();
    totalAcked += 1;
    if (s < maxSeqAcked) outOfOrderAcks += 1;
    else maxSeqAcked = s;
    if (measuring) ackedInWindow += 1;
    if (s >= measureFromSeq && s < measureToSeq) hist.recordMs(t - sentAt[s & (ringSize - 1)]);
    if (publishing && !stopping) publishOne();
    else if (stopping && inFlight === 0) finish();
  };

  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(progressTimer);
    clearTimeout(drainTimer);
    send({
      type: 'result',
      gateway: cfg.gateway,
      published: totalPublished,
      acked: totalAcked,
      lastSeq: seq,
      inFlightAtEnd: inFlight,
      publishErrors,
      firstPublishError,
      outOfOrderAcks,
      measured: {
        acked: ackedInWindow,
        seconds: (measureEnd - measureStart) / 1000,
        cpuUserMs: cpuInWindow ? cpuInWindow.user / 1000 : 0,
        cpuSystemMs: cpuInWindow ? cpuInWindow.system / 1000 : 0,
        latency: hist.toJSON(),
      },
    });
    client.end(false, {}, () => {
      // Give the IPC message time to flush before leaving.
      setTimeout(() => process.exit(0), 20);
    });
  };

  const progressTimer = setInterval(() => send({ type: 'progress', gateway: cfg.gateway, acked: totalAcked }), 250);
  let drainTimer;

  client.on('connect', (connack) => {
    if (connack?.returnCode) fail(`CONNACK return code ${connack.returnCode}`);
    else send({ type: 'ready', gateway: cfg.gateway });
  });
  client.on('error', (err) => fail(`MQTT error: ${err.message}`));
  client.on('close', () => {
    if (!finished) fail(`connection closed by the collector (published ${totalPublished}, acked ${totalAcked}, in flight ${inFlight})`);
  });

  process.on('message', (msg) => {
    switch (msg?.type) {
      case 'start':
        publishing = true;
        for (let i = 0; i < window; i++) publishOne();
        break;
      case 'measure':
        measuring = true;
        ackedInWindow = 0;
        measureStart = performance.now();
        measureFromSeq = seq + 1;
        cpuStart = process.cpuUsage();
        break;
      case 'stop':
        measuring = false;
        measureEnd = performance.now();
        measureToSeq = seq + 1;
        cpuInWindow = cpuStart ? process.cpuUsage(cpuStart) : undefined;
        stopping = true;
        if (inFlight === 0) finish();
        else drainTimer = setTimeout(finish, cfg.drainTimeoutMs ?? 10_000);
        break;
      default:
        break;
    }
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    process.stderr.write(`gateway-load: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
