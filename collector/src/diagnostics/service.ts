import { randomUUID } from 'node:crypto';
import type { Aedes } from 'aedes';
import { DIAGNOSTICS_COMMAND, PROTOCOL_VERSION, topics, type CommandMessage, type DiagnosticsCommandArgs, type Logger } from '@medtel/shared';
import type { Ingestor } from '../ingest/ingestor.js';
import type { DiagnosticRecord } from '../store/diagnostics-store.js';
import type { Actor, Store } from '../store/store.js';

/** A request the service refuses: `parameter` names the offending field. */
export class DiagnosticsError extends Error {
  constructor(
    readonly kind: 'not_found' | 'invalid',
    message: string,
    readonly parameter?: string,
  ) {
    super(message);
  }
}

export interface DiagnosticsServiceOptions {
  store: Store;
  /** With replicas, connected to any of them (cluster/gateway-presence.ts); the command crosses over the shared emitter. */
  broker: { aedes: Aedes; isGatewayConnected(gateway: string): boolean | Promise<boolean> };
  ingestor: Ingestor;
  logger: Logger;
  /** When a request names no timeout (collector config `diagnostics.timeout`). */
  defaultTimeoutMs: number;
  /** The longest a request may ask for (`diagnostics.maxTimeout`). */
  maxTimeoutMs: number;
  /** How often pending requests are checked against their deadline. */
  sweepMs?: number;
}

export interface DiagnosticRequestInput {
  deviceId: string;
  test: string;
  args?: Record<string, unknown>;
  reason?: string;
  timeoutMs?: number;
  actor: Actor;
}

/**
 * Sends diagnostic commands to the gateway that owns a device and tracks the
 * answers (docs/diagnostics.md). A command goes out only to a connected
 * gateway: an absent one gets `gateway-offline` at once rather than a command
 * that would wait in the broker for hours and then run when nobody expects it.
 * Results are taken from the ingest once durable; deadlines live in the store,
 * so a restarted collector times out what it had left pending.
 */
export class DiagnosticsService {
  private sweeper: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;

  constructor(private readonly o: DiagnosticsServiceOptions) {}

  async start(): Promise<void> {
    await this.o.store.diagnostics.recover(Date.now());
    this.unlisten = this.o.ingestor.onStored((items) => {
      for (const item of items) {
        if (item.kind !== 'res') continue;
        const { requestId, ok, result, error } = item.message;
        this.o.store.diagnostics
          .recordResult(item.gateway, requestId, { ok, ...(result !== undefined ? { result } : {}), ...(error ? { error } : {}), receivedAt: item.receivedAt })
          .then((record) => {
            if (record) this.o.logger.info({ requestId, device: record.deviceId, test: record.test, state: record.state, ok }, 'diagnostic result');
          })
          .catch((err: Error) => this.o.logger.error({ requestId, err: err.message }, 'could not record a diagnostic result'));
      }
    });
    this.sweeper = setInterval(() => void this.sweep(), this.o.sweepMs ?? 1000);
    this.sweeper.unref();
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.unlisten?.();
  }

  private async sweep(): Promise<void> {
    try {
      for (const r of await this.o.store.diagnostics.expire(Date.now())) {
        this.o.logger.warn({ requestId: r.requestId, device: r.deviceId, test: r.test, gateway: r.gateway }, 'diagnostic timed out');
      }
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message }, 'diagnostics timeout sweep failed');
    }
  }

  async request(input: DiagnosticRequestInput): Promise<DiagnosticRecord> {
    const { store, broker, logger } = this.o;
    const device = await store.getDevice(input.deviceId);
    if (!device) throw new DiagnosticsError('not_found', `no device "${input.deviceId}"; ids look like gateway.device (GET /api/v1/devices lists them)`);
    const test = device.diagnostics.find((t) => t.name === input.test);
    if (!test) {
      const known = device.diagnostics.map((t) => t.name);
      throw new DiagnosticsError(
        'invalid',
        `test: device ${device.id} offers no test "${input.test}"; ${known.length ? `it offers: ${known.join(', ')}` : 'its gateway announced no tests for it'}`,
        'test',
      );
    }
    if (test.changesState && !input.reason?.trim()) {
      throw new DiagnosticsError(
        'invalid',
        `reason: test "${test.name}" changes the device's state; say why in "reason" (it goes into the audit trail)`,
        'reason',
      );
    }
    const timeoutMs = input.timeoutMs ?? this.o.defaultTimeoutMs;
    if (timeoutMs > this.o.maxTimeoutMs) {
      throw new DiagnosticsError(
        'invalid',
        `timeoutSeconds: at most ${this.o.maxTimeoutMs / 1000} s (collector config diagnostics.maxTimeout)`,
        'timeoutSeconds',
      );
    }
    const requestId = randomUUID();
    const requestedAt = Date.now();
    const online = await broker.isGatewayConnected(device.gateway);
    const record = await store.diagnostics.create(
      {
        requestId,
        deviceId: device.id,
        gateway: device.gateway,
        test: test.name,
        ...(input.args ? { args: input.args } : {}),
        ...(input.reason ? { reason: input.reason } : {}),
        requestedAt,
        timeoutMs,
        state: online ? 'pending' : 'gateway-offline',
        ...(online ? {} : { error: `gateway ${device.gateway} is not connected; the test was not sent (nothing is queued: ask again when it is back)` }),
      },
      input.actor,
    );
    if (!online) return record;
    // The agent gets a little less than our deadline, so its answer can still arrive in time.
    const agentMs = Math.max(1, timeoutMs - Math.min(2000, Math.floor(timeoutMs / 5)));
    const args: DiagnosticsCommandArgs = { test: test.name, timeoutMs: agentMs, ...(input.args ? { args: input.args } : {}) };
    const command: CommandMessage = {
      v: PROTOCOL_VERSION,
      requestId,
      command: DIAGNOSTICS_COMMAND,
      // Where the device is now: after a move to another gateway its registry id still names the old one.
      device: device.device,
      args,
      issuedAt: requestedAt,
      expiresAt: requestedAt + agentMs,
    };
    broker.aedes.publish(
      {
        cmd: 'publish',
        topic: topics.cmd(device.site, device.gateway, requestId),
        payload: Buffer.from(JSON.stringify(command)),
        qos: 1,
        retain: false,
        dup: false,
      },
      (err) => {
        if (err) logger.error({ requestId, err: err.message }, 'could not publish a diagnostic command; it will time out');
      },
    );
    logger.info({ requestId, device: device.id, test: test.name, actor: input.actor.sub, timeoutMs }, 'diagnostic requested');
    return record;
  }

  /** One request, with its deadline applied first so a poll never shows `pending` past it. */
  async get(requestId: string): Promise<DiagnosticRecord | undefined> {
    await this.o.store.diagnostics.expire(Date.now());
    return this.o.store.diagnostics.get(requestId);
  }

  async deviceExists(deviceId: string): Promise<boolean> {
    return (await this.o.store.getDevice(deviceId)) !== undefined;
  }

  async listForDevice(deviceId: string, query: { limit: number; offset: number }) {
    await this.o.store.diagnostics.expire(Date.now());
    return this.o.store.diagnostics.listForDevice(deviceId, query);
  }
}
