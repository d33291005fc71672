import { Backoff } from '@medtel/shared';
import {
  type ClientMonitoredItemBase,
  type ClientSession,
  type ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  type DataValue,
  DeadbandType,
  type NodeId,
  type OPCUAClient,
  TimestampsToReturn,
} from 'node-opcua-client';
import type { DeviceSession, DeviceSink, DeviceSpec, DiagnosticOutcome, DiagnosticRequest, DriverContext, RawValue } from '../types.js';
import { createClient, namespaceIndex, readValues, resolvePaths, sessionIdentity } from './client.js';
import type { OpcuaNodeRef, PreparedOpcua } from './config.js';
import { describeOpcuaError } from './errors.js';
import { callDiagnostic } from './method-call.js';
import { pkiFolder } from './pki.js';

/** How many publishing intervals a subscription may stay silent before the server sends a keep-alive. */
const MAX_KEEP_ALIVE_COUNT = 10;

/**
 * One OPC UA device: one client, one session, one subscription. Values come
 * by subscription (monitored items with the profile's sampling interval and
 * deadband), never by polling.
 *
 * Reconnects are ours alone (node-opcua's own retry is off, client.ts): on
 * any failure the whole client is disconnected first, then, after a backoff,
 * a new client opens a new session and re-creates the subscription once.
 * There is never more than one client, so never more than one session from
 * this device entry on the server. A generation counter makes late events
 * of a discarded client harmless.
 */
export class OpcuaDeviceSession implements DeviceSession {
  private client: OPCUAClient | undefined;
  private session: ClientSession | undefined;
  private subscription: ClientSubscription | undefined;
  private generation = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private lastHeard = 0;
  private pending: { values: Map<string, RawValue>; failed: Map<string, string> } | undefined;
  private readonly backoff: Backoff;
  private readonly stateDir: string;

  constructor(
    private readonly spec: DeviceSpec<PreparedOpcua>,
    private readonly sink: DeviceSink,
    private readonly ctx: DriverContext,
  ) {
    this.stateDir = ctx.stateDir ?? './data/agent';
    this.backoff = new Backoff({ initialMs: Math.max(500, spec.pollIntervalMs), maxMs: spec.connection.reconnectMaxMs });
  }

  start(): void {
    if (this.spec.connection.connection.demoAcceptAnyServerCertificate) {
      this.ctx.logger.warn(
        { device: this.spec.id, endpoint: this.endpoint },
        'demo mode: any OPC UA server certificate is accepted for this device; never use this with a real device',
      );
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation += 1;
    clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    await this.teardown();
  }

  private get endpoint(): string {
    return this.spec.connection.connection.endpoint;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.connect().catch((err) => this.ctx.logger.error({ err, device: this.spec.id }, 'opcua session step failed'));
    }, delayMs);
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    const c = this.spec.connection;
    try {
      const client = await createClient({ connection: c.connection, stateDir: this.stateDir, baseDir: c.baseDir, timeoutMs: this.spec.timeoutMs });
      this.client = client;
      // Socket closed or channel broken: start over (after a backoff) with a fresh client.
      client.on('connection_lost', () => this.lost(gen, `connection to ${this.endpoint} lost`));
      client.on('close', (err) => this.lost(gen, err ? describeOpcuaError(err, this.errorContext()) : `connection to ${this.endpoint} closed`));
      client.on('start_reconnection', () => this.lost(gen, `connection to ${this.endpoint} broken`));
      await client.connect(this.endpoint);
      if (gen !== this.generation) return;
      const session = await client.createSession(sessionIdentity(c.connection, c.baseDir));
      this.session = session;
      session.on('session_closed', () => this.lost(gen, `the server closed the session on ${this.endpoint}`));
      const ns = await namespaceIndex(session, c.namespace, this.endpoint);
      const identityIds = await resolvePaths(
        session,
        ns,
        c.identity.map((r) => r.path),
        this.endpoint,
      );
      const metricIds = await resolvePaths(
        session,
        ns,
        c.metrics.map((r) => r.path),
        this.endpoint,
      );
      if (gen !== this.generation) return;
      if (identityIds.length > 0) {
        const values = await readValues(session, identityIds);
        this.sink.identity(Object.fromEntries(c.identity.flatMap((r, i) => (values[i] === undefined ? [] : [[r.key, String(values[i])]]))));
      }
      await this.subscribe(gen, session, metricIds);
      if (gen !== this.generation) return;
      this.backoff.reset();
      this.sink.status('connected');
      this.ctx.logger.info({ device: this.spec.id, endpoint: this.endpoint, items: metricIds.length }, 'opcua subscription created');
    } catch (err) {
      await this.failed(gen, describeOpcuaError(err, this.errorContext()));
    }
  }

  private errorContext() {
    const { mode, policy } = this.spec.connection.connection.security;
    return { endpoint: this.endpoint, mode, policy, pkiDir: pkiFolder(this.stateDir) };
  }

  /** One subscription; monitored items grouped by (sampling interval, deadband), one request per group. */
  private async subscribe(gen: number, session: ClientSession, nodeIds: NodeId[]): Promise<void> {
    const c = this.spec.connection;
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: c.publishingIntervalMs,
      requestedMaxKeepAliveCount: MAX_KEEP_ALIVE_COUNT,
      requestedLifetimeCount: MAX_KEEP_ALIVE_COUNT * 6,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    this.subscription = subscription;
    this.lastHeard = Date.now();
    const heard = () => {
      this.lastHeard = Date.now();
    };
    subscription.on('keepalive', heard);
    subscription.on('received_notifications', () => {
      heard();
      this.flush();
    });
    subscription.on('terminated', () => this.lost(gen, `the server ended the subscription on ${this.endpoint}`));
    const groups = new Map<string, Array<{ ref: OpcuaNodeRef; nodeId: NodeId }>>();
    c.metrics.forEach((ref, i) => {
      const key = `${ref.samplingIntervalMs}|${ref.deadband?.type ?? ''}|${ref.deadband?.value ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), { ref, nodeId: nodeIds[i] as NodeId }]);
    });
    for (const items of groups.values()) {
      const first = (items[0] as { ref: OpcuaNodeRef }).ref;
      const filter = first.deadband
        ? new DataChangeFilter({
            trigger: DataChangeTrigger.StatusValue,
            deadbandType: first.deadband.type === 'percent' ? DeadbandType.Percent : DeadbandType.Absolute,
            deadbandValue: first.deadband.value,
          })
        : null;
      const group = await subscription.monitorItems(
        items.map((it) => ({ nodeId: it.nodeId, attributeId: 13 })),
        { samplingInterval: first.samplingIntervalMs, discardOldest: true, queueSize: 1, ...(filter ? { filter } : {}) },
        TimestampsToReturn.Both,
      );
      group.on('changed', (_item: ClientMonitoredItemBase, dataValue: DataValue, index: number) => {
        if (gen === this.generation) this.value((items[index] as { ref: OpcuaNodeRef }).ref.key, dataValue);
      });
    }
    // A silent server (cable pulled, no FIN): no notification and no keep-alive for 3 keep-alive periods.
    const silentMs = 3 * c.publishingIntervalMs * MAX_KEEP_ALIVE_COUNT + this.spec.timeoutMs;
    clearInterval(this.watchdog);
    this.watchdog = setInterval(
      () => {
        if (Date.now() - this.lastHeard > silentMs) this.lost(gen, `no publish response from ${this.endpoint} for ${Math.round(silentMs / 1000)} s`);
      },
      Math.min(5000, silentMs / 3),
    );
  }

  /** Collects the values of one notification message; flushed as one sample. */
  private value(key: string, dataValue: DataValue): void {
    this.pending ??= { values: new Map(), failed: new Map() };
    const status = dataValue.statusCode;
    const v = dataValue.value?.value;
    if (status.isGood() && (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string')) {
      this.pending.values.set(key, v);
      this.pending.failed.delete(key);
    } else {
      // Bad (or uncertain) status: a reading of quality bad, never the stale or placeholder value.
      this.pending.failed.set(key, `OPC UA status ${status.name}`);
      this.pending.values.delete(key);
    }
    // 'changed' events of one publish response arrive in the same tick; flush after them.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.ctx.metrics.devicePolls.inc({ device: this.spec.id, result: p.failed.size > 0 ? 'exception' : 'ok' });
    this.sink.sample({ t: Date.now(), clock: 'agent', values: p.values, ...(p.failed.size > 0 ? { failed: p.failed } : {}) });
  }

  private lost(gen: number, reason: string): void {
    if (gen !== this.generation || this.stopped) return;
    this.running = this.failed(gen, reason);
  }

  private async failed(gen: number, reason: string): Promise<void> {
    if (gen !== this.generation || this.stopped) return;
    this.generation += 1; // later events of this client are ignored
    this.sink.status(/certificate|security mismatch|refused the|node path/.test(reason) ? 'error' : 'unreachable', reason);
    await this.teardown();
    const delay = this.backoff.next();
    this.ctx.logger.debug({ device: this.spec.id, reason, retryInMs: delay }, 'opcua connection failed');
    this.schedule(delay);
  }

  /** Closes subscription, session and client; bounded in time (a dead server does not answer). */
  private async teardown(): Promise<void> {
    clearInterval(this.watchdog);
    const client = this.client;
    const session = this.session;
    this.client = undefined;
    this.session = undefined;
    this.subscription = undefined;
    this.pending = undefined;
    const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    if (session) await bounded(session.close(true));
    if (client) await bounded(client.disconnect());
  }

  async diagnose(request: DiagnosticRequest): Promise<DiagnosticOutcome> {
    const test = this.spec.connection.diagnostics.get(request.test);
    if (!test) return { ok: false, error: `profile "${this.spec.profile.profile}" defines no test "${request.test}"` };
    const session = this.session;
    if (!session || !this.subscription) return { ok: false, error: `${this.endpoint} is not connected; the test was not started` };
    try {
      const ns = await namespaceIndex(session, this.spec.connection.namespace, this.endpoint);
      return await callDiagnostic(session, ns, test, request, this.endpoint);
    } catch (err) {
      return { ok: false, error: `${request.test} interrupted: ${describeOpcuaError(err, this.errorContext())}` };
    }
  }
}
