import mqtt, { type MqttClient } from 'mqtt';
import {
  Backoff,
  MEDTEL_VERSION,
  PROTOCOL_VERSION,
  decodeMessage,
  topics,
  tracingActive,
  type CommandMessage,
  type Logger,
  type StateMessage,
} from '@medtel/shared';
import type { AgentMetrics } from './metrics.js';
import { buildPayload, type Outbox } from './outbox/index.js';
import { PublishTrace } from './publish-trace.js';
import { TokenBucket } from './token-bucket.js';
import type { UplinkTls } from './uplink-security.js';

export interface UplinkOptions {
  url: string;
  site: string;
  gateway: string;
  /** Absent for a gateway that authenticates with its client certificate only. */
  secret?: string;
  /** For mqtts://: CA for the collector's certificate, and the client certificate for mutual TLS. */
  tls?: UplinkTls;
  inflightWindow: number;
  keepaliveMs: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Messages per second at most (0: unlimited). */
  maxPublishRate?: number;
  deviceIds: () => string[];
  onCommand?: (command: CommandMessage) => void;
  /** How often the retained `online` state is re-sent while connected, with the outbox backlog (default 30 s). */
  stateEveryMs?: number;
}

/** The collector shows each gateway's outbox backlog from its state messages (docs/dashboard.md). */
const DEFAULT_STATE_EVERY_MS = 30_000;

/**
 * The MQTT session to the collector. Publishes the outbox in seq order with a
 * bounded window of unacknowledged QoS 1 messages (mqtt.js hangs past 65,535,
 * and aedes gains nothing past ~100 per connection), and deletes each row when
 * its PUBACK arrives.
 *
 * The outbox, not mqtt.js, is the store of what is in flight: when a
 * connection closes, every unacknowledged row is handed out again on the next
 * one, oldest first (the collector drops what it already has). mqtt.js's
 * client.reconnect() replaced its in-flight store with an empty one, so
 * relying on it lost those messages until a restart, and its end() then
 * waited for them for ever (both found by the collector-crash tests): each
 * connection now gets a new client. clean: false keeps our cmd/#
 * subscription. mqtt.js's fixed-period reconnect is off: we reconnect with
 * jittered backoff so a fleet does not return in one wave.
 */
export class Uplink {
  private client: MqttClient | undefined;
  private inflight = 0;
  /** Counts connections; a publish callback from an earlier one no longer counts in the window. */
  private session = 0;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private wake: NodeJS.Immediate | undefined;
  private rateTimer: NodeJS.Timeout | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private readonly limiter: TokenBucket | undefined;
  /** Gateway-level retained messages outside the outbox (ports): the latest per topic, sent now and on every connect. */
  private readonly latest = new Map<string, string>();

  constructor(
    private readonly options: UplinkOptions,
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    private readonly metrics: AgentMetrics,
  ) {
    this.backoff = new Backoff({ initialMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    if (options.maxPublishRate) this.limiter = new TokenBucket(options.maxPublishRate, Math.max(options.inflightWindow, options.maxPublishRate / 10));
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    this.connect();
  }

  /**
   * One mqtt.js client per connection attempt: a closed client is ended and
   * dropped, so no state of an earlier connection (its in-flight store, its
   * pending callbacks) can leak into the next one. The outbox holds what is
   * unacknowledged.
   */
  private connect(): void {
    const { url, site, gateway, secret } = this.options;
    // A fresh will for each session: its sentAt says when this session began.
    const will: StateMessage = { v: PROTOCOL_VERSION, sentAt: Date.now(), state: 'offline' };
    const session = ++this.session;
    const client = mqtt.connect(url, {
      clientId: `medtel-agent-${gateway}`,
      username: gateway,
      password: secret,
      // The collector's certificate is always checked against the configured CA (and its name against the URL's host).
      ...(this.options.tls ? { ...this.options.tls, rejectUnauthorized: true } : {}),
      clean: false,
      protocolVersion: 4,
      keepalive: Math.round(this.options.keepaliveMs / 1000),
      connectTimeout: this.options.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      will: { topic: topics.state(site, gateway), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      if (session === this.session) this.onConnect();
    });
    client.on('close', () => {
      if (session === this.session) this.onClose(client);
    });
    client.on('error', (err) => {
      if (session !== this.session) return;
      // Connection errors surface again as 'close'; CONNACK refusals are worth their own line.
      const code = (err as { code?: number }).code;
      if (code === 4 || code === 5) this.logger.error({ url: redact(url), code }, 'collector refused our credentials: check gateway id and secret');
      else if (isCertificateError(err))
        this.logger.error(
          { url: redact(url), err: err.message },
          "collector's certificate not trusted: check collector.tls.caFile and that the URL's host is named in the certificate",
        );
      else this.logger.warn({ url: redact(url), err: err.message }, 'uplink error');
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  /**
   * A retained gateway-level message that only its latest value matters for
   * (like `state`): not kept in the outbox, sent now if connected and again
   * after every reconnect.
   */
  publishLatest(topic: string, body: object): void {
    const payload = JSON.stringify(body);
    this.latest.set(topic, payload);
    if (this.client?.connected && !this.stopping) this.client.publish(topic, payload, { qos: 1, retain: true });
  }

  /** Publishes what is waiting; call after enqueueing. Cheap: coalesced per event-loop turn. */
  kick(): void {
    this.wake ??= setImmediate(() => {
      this.wake = undefined;
      this.pump();
    });
  }

  /** Graceful stop: announce offline (retained), wait briefly for in-flight PUBACKs, disconnect. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.rateTimer);
    clearInterval(this.stateTimer);
    if (this.wake) clearImmediate(this.wake);
    const client = this.client;
    if (!client) return;
    let clean = false;
    if (client.connected) {
      // Bounded: the collector may vanish while we stop; what is not acknowledged stays in the outbox.
      const deadline = Date.now() + graceMs;
      while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const offline: StateMessage = { v: PROTOCOL_VERSION, sentAt: Date.now(), state: 'offline' };
      clean = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.max(100, deadline - Date.now()));
        client.publish(topics.state(this.options.site, this.options.gateway), JSON.stringify(offline), { qos: 1, retain: true }, (err) => {
          clearTimeout(timer);
          resolve(!err);
        });
      });
    }
    // A clean DISCONNECT only when nothing is outstanding (mqtt.js would wait for it for ever).
    await client.endAsync(!clean || this.inflight > 0);
    this.metrics.uplinkConnected.set(0);
  }

  private onConnect(): void {
    const { site, gateway } = this.options;
    this.backoff.reset();
    this.metrics.uplinkConnected.set(1);
    this.metrics.uplinkConnects.inc({ result: 'ok' });
    this.logger.info({ url: redact(this.options.url) }, 'connected to collector');
    const client = this.client as MqttClient;
    this.publishOnline(client);
    // Re-sent while connected so the collector sees the backlog drain (or grow) after an outage.
    clearInterval(this.stateTimer);
    this.stateTimer = setInterval(() => this.publishOnline(client), this.options.stateEveryMs ?? DEFAULT_STATE_EVERY_MS);
    this.stateTimer.unref();
    // Subscribed on every connect: a restarted collector has forgotten our session.
    client.subscribe(topics.cmdFilter(site, gateway), { qos: 1 });
    for (const [topic, payload] of this.latest) client.publish(topic, payload, { qos: 1, retain: true });
    this.pump();
  }

  /** The retained `online` state: agent version, device ids, and what the outbox holds now. */
  private publishOnline(client: MqttClient): void {
    if (!client.connected || client !== this.client) return;
    const { site, gateway } = this.options;
    const stats = this.outbox.quickStats();
    const oldestAgeSeconds = stats.oldestCreatedAt === null ? 0 : Math.max(0, Math.round((Date.now() - stats.oldestCreatedAt) / 100) / 10);
    const online: StateMessage = {
      v: PROTOCOL_VERSION,
      sentAt: Date.now(),
      state: 'online',
      agentVersion: MEDTEL_VERSION,
      devices: this.options.deviceIds(),
      outbox: { rows: stats.rows, bytes: stats.bytes, oldestAgeSeconds },
    };
    client.publish(topics.state(site, gateway), JSON.stringify(online), { qos: 1, retain: true });
  }

  private onClose(client: MqttClient): void {
    clearInterval(this.stateTimer);
    this.metrics.uplinkConnected.set(0);
    if (this.stopping) return;
    // What was on the wire is unacknowledged: the next connection sends it again, oldest first.
    this.session += 1;
    this.inflight = 0;
    this.outbox.unclaimAll();
    client.end(true);
    const delay = this.backoff.next();
    this.metrics.uplinkConnects.inc({ result: 'failed' });
    this.logger.warn({ url: redact(this.options.url), retryInMs: delay }, 'not connected to collector; messages stay in the outbox');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.stopping) this.connect();
    }, delay);
  }

  private pump(): void {
    const client = this.client;
    if (!client?.connected || this.stopping) return;
    let room = this.options.inflightWindow - this.inflight;
    if (room <= 0) return;
    if (this.limiter) {
      room = this.limiter.take(room);
      if (room === 0) {
        this.rateTimer ??= setTimeout(() => {
          this.rateTimer = undefined;
          this.pump();
        }, this.limiter.waitMs());
        return;
      }
    }
    // Priority first (alarms, status...), then telemetry: a new alarm waits only for a free slot.
    const rows = this.outbox.claim(room);
    this.limiter?.refund(room - rows.length);
    for (const row of rows) {
      this.inflight += 1;
      const started = performance.now();
      const session = this.session;
      const trace = tracingActive() ? PublishTrace.start(row, { session }) : undefined;
      client.publish(row.topic, buildPayload(trace ? { seq: row.seq, body: trace.body } : row, Date.now()), { qos: 1, retain: row.retain }, (err) => {
        if (session !== this.session) {
          trace?.unacked('connection closed before PUBACK; sent again on the next one');
          return; // that connection is gone; the row was handed out again
        }
        this.inflight -= 1;
        if (err) {
          // Only when mqtt.js gives up on the packet (client ended): the row stays
          // in the outbox and is sent again after a restart.
          trace?.unacked(err.message);
          this.logger.warn({ seq: row.seq, err: err.message }, 'publish not acknowledged');
          return;
        }
        trace?.acked();
        this.outbox.ack(row.seq);
        this.metrics.published.inc({ kind: row.kind });
        this.metrics.publishAckSeconds.observe((performance.now() - started) / 1000);
        this.kick();
      });
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const decoded = decodeMessage('cmd', payload);
    if (!decoded.ok) {
      this.logger.warn({ topic, reason: decoded.reason }, 'ignored a malformed command');
      return;
    }
    this.options.onCommand?.(decoded.message);
  }
}

/** URLs may carry credentials; never log them. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** TLS verification failures of the collector's certificate (OpenSSL codes and Node's host-name check). */
function isCertificateError(err: Error): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return /^(CERT_|SELF_SIGNED|DEPTH_ZERO|UNABLE_TO_|ERR_TLS_CERT_ALTNAME)/.test(code);
}
