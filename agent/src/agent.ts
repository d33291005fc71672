import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, Keyring, MEDTEL_VERSION, createLogger, parseDuration, parseSize, topics, type Logger } from '@medtel/shared';
import { CommandLog } from './command-log.js';
import { CommandHandler } from './commands.js';
import type { AgentConfig } from './config.js';
import { DeviceRunner } from './device-runner.js';
import { identifiableProfiles } from './discovery/profiles.js';
import { networkTargets } from './discovery/network-targets.js';
import { Discovery, type FoundDevice } from './discovery/service.js';
import { findDriver, knownProtocols } from './drivers/index.js';
import type { DeviceSpec, Driver } from './drivers/types.js';
import { startAgentHttp } from './http.js';
import { createAgentMetrics, type AgentMetrics } from './metrics.js';
import { Outbox } from './outbox/index.js';
import { findProfileFile, loadProfile, type ResolvedProfile } from './profiles/load.js';
import { Uplink } from './uplink.js';
import { uplinkSecurity } from './uplink-security.js';

export interface AgentOptions {
  config: AgentConfig;
  /** The config file's path, for messages and for resolving relative paths. */
  configFile: string;
  logger?: Logger;
}

interface PlannedDevice {
  spec: DeviceSpec<unknown>;
  driver: Driver;
}

/**
 * Resolves every device's profile and driver settings up front, so that a
 * config mistake stops the agent at start with one clear line instead of
 * surfacing hours later.
 */
export function planDevices(config: AgentConfig, configFile: string): PlannedDevice[] {
  const baseDir = dirname(resolve(configFile));
  const profiles = new Map<string, ResolvedProfile>();
  return config.devices.flatMap((device, i) => {
    if (!device.enabled) return [];
    const field = `devices[${i}]`;
    if (config.devices.findIndex((d) => d.id === device.id) !== i)
      throw new ConfigError(`${configFile}: ${field}.id: "${device.id}" is used by an earlier device`, configFile, `${field}.id`);
    const file = findProfileFile(device.profile, config.profilesDir, baseDir);
    if (!file)
      throw new ConfigError(
        `${configFile}: ${field}.profile: no profile "${device.profile}" (looked in ${config.profilesDir ?? 'the built-in profiles'})`,
        configFile,
        `${field}.profile`,
      );
    const profile = profiles.get(file) ?? loadProfile(file);
    profiles.set(file, profile);
    const driver = findDriver(device.connection.protocol);
    if (!driver) {
      throw new ConfigError(
        `${configFile}: ${field}.connection.protocol: found "${device.connection.protocol}", expected one of ${knownProtocols().join(', ')}`,
        configFile,
        `${field}.connection.protocol`,
      );
    }
    const connection = driver.prepare(device.connection, profile, { configFile, field: `${field}.connection` });
    return [
      { driver, spec: { id: device.id, connection, profile, pollIntervalMs: parseDuration(device.pollInterval), timeoutMs: parseDuration(device.timeout) } },
    ];
  });
}

function readSecret(config: AgentConfig, configFile: string): string | undefined {
  const { secret, secretFile } = config.collector;
  if (secret && secretFile) throw new ConfigError(`${configFile}: collector: give secret or secretFile, not both`, configFile, 'collector.secretFile');
  if (secretFile) {
    const file = resolve(dirname(resolve(configFile)), secretFile);
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new ConfigError(`${configFile}: collector.secretFile: cannot read ${file}`, configFile, 'collector.secretFile');
    }
  }
  const fromEnv = process.env.MEDTEL_GATEWAY_SECRET;
  if (secret ?? fromEnv) return (secret ?? fromEnv) as string;
  // A gateway that proves itself with its client certificate needs no secret.
  if (config.collector.tls?.certFile && config.collector.url.startsWith('mqtts:')) return undefined;
  throw new ConfigError(
    `${configFile}: collector.secretFile: missing; give the gateway's secret as collector.secretFile (or secret, or MEDTEL_GATEWAY_SECRET)`,
    configFile,
    'collector.secretFile',
  );
}

/** A running agent: devices -> outbox -> uplink, plus health and metrics. */
export class Agent {
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  readonly devices: DeviceRunner[];
  readonly commands: CommandHandler;
  /** Plug-and-play (discovery.enabled): absent when switched off. */
  readonly discovery: Discovery | undefined;
  private readonly commandLog: CommandLog;
  private readonly keyring: Keyring | undefined;
  private readonly stateDir: string;
  private http: Server | undefined;
  private statsTimer: NodeJS.Timeout | undefined;

  constructor(options: AgentOptions) {
    const { config, configFile } = options;
    this.logger = options.logger ?? createLogger({ name: 'medtel-agent', level: config.log.level, base: { gateway: config.gateway.id } });
    this.metrics = createAgentMetrics();
    const planned = planDevices(config, configFile);
    const secret = readSecret(config, configFile);
    const tls = uplinkSecurity(config, configFile, this.logger);
    const stateDir = resolve(dirname(resolve(configFile)), config.stateDir);
    const keyring = config.phi
      ? Keyring.load(resolve(dirname(resolve(configFile)), config.phi.keyring), {
          onWarn: (message, kid, count) => this.logger.warn({ kid, sealed: count }, message),
        })
      : undefined;
    this.outbox = Outbox.open(join(stateDir, 'outbox.db'), {
      site: config.gateway.site,
      gateway: config.gateway.id,
      maxBytes: parseSize(config.outbox.maxBytes),
      maxAgeMs: parseDuration(config.outbox.maxAge),
      commitIntervalMs: parseDuration(config.outbox.commitInterval),
      // The uplink is created just below; commits happen only once devices start.
      onCommit: () => this.uplink.kick(),
      onDrop: (reason, kind, messages, readings) => {
        this.metrics.outboxDropped.inc({ reason, kind }, messages);
        if (readings) this.metrics.outboxDroppedReadings.inc({ reason }, readings);
      },
      onGaps: (gaps) => {
        for (const gap of gaps) this.logger.warn({ ...gap }, 'dropped data from the outbox; a gap message tells the collector');
      },
      onWriteError: (message) => {
        if (message)
          this.logger.error({ error: message }, 'outbox cannot be written: new data is counted as dropped and reported as a gap; /readyz is not ready');
        else this.logger.info('outbox writable again');
      },
    });
    const c = config.collector;
    this.uplink = new Uplink(
      {
        url: c.url,
        site: config.gateway.site,
        gateway: config.gateway.id,
        secret,
        tls,
        inflightWindow: c.inflightWindow,
        keepaliveMs: parseDuration(c.keepalive),
        connectTimeoutMs: parseDuration(c.connectTimeout),
        reconnectMinMs: parseDuration(c.reconnectMin),
        reconnectMaxMs: parseDuration(c.reconnectMax),
        maxPublishRate: c.maxPublishRate,
        deviceIds: () => this.devices.map((d) => d.state.id),
        onCommand: (cmd) => this.commands.handle(cmd),
      },
      this.outbox,
      this.logger,
      this.metrics,
    );
    this.keyring = keyring;
    this.stateDir = stateDir;
    this.devices = planned.map(
      ({ spec, driver }) =>
        new DeviceRunner({
          site: config.gateway.site,
          gateway: config.gateway.id,
          spec,
          driver,
          outbox: this.outbox,
          logger: this.logger,
          metrics: this.metrics,
          ...(keyring ? { keyring } : {}),
          stateDir,
        }),
    );
    this.commandLog = new CommandLog(join(stateDir, 'commands.db'));
    this.commands = new CommandHandler({
      site: config.gateway.site,
      gateway: config.gateway.id,
      devices: () => this.devices,
      enqueue: (messages) => this.outbox.enqueue(messages),
      firstTime: (requestId) => this.commandLog.firstTime(requestId),
      logger: this.logger,
    });
    this.config = config;
    this.discovery = config.discovery.enabled ? this.createDiscovery(config, configFile) : undefined;
  }

  private createDiscovery(config: AgentConfig, configFile: string): Discovery {
    const d = config.discovery;
    const configured = config.devices.flatMap((device) => {
      const path = (device.connection as { path?: unknown }).path;
      return device.enabled && typeof path === 'string' ? [{ path: resolve(dirname(resolve(configFile)), path), device: device.id }] : [];
    });
    const baseDir = dirname(resolve(configFile));
    const profiles = identifiableProfiles(config, baseDir, this.logger);
    return new Discovery({
      watchDir: resolve(baseDir, d.serial.watchDir),
      rescanMs: parseDuration(d.serial.rescanInterval),
      settleMs: parseDuration(d.serial.settle),
      tcp: d.serial.tcp,
      ignore: d.serial.ignore,
      network: networkTargets(config, profiles, { stateDir: this.stateDir, baseDir }),
      reprobeMs: parseDuration(d.reprobeInterval),
      profiles,
      configured,
      logger: this.logger,
      metrics: this.metrics,
      start: (found) => this.startDiscovered(found),
      lost: (id, reason) => this.stopDiscovered(id, reason),
      ports: (message) => this.uplink.publishLatest(topics.ports(config.gateway.site, config.gateway.id), message),
    });
  }

  /** An identified device runs exactly like a configured one (same outbox, same data flow); its birth says how it was found. */
  private startDiscovered(found: FoundDevice): void {
    const at = this.devices.findIndex((d) => d.state.id === found.id);
    if (at >= 0 && !this.devices[at]?.state.discovery) {
      this.logger.warn(
        { device: found.id, port: found.discovery.port },
        'a configured device has the id of a discovered one; the discovered one is not started',
      );
      return;
    }
    const driver = findDriver(String(found.connection.protocol)) as Driver;
    try {
      const connection = driver.prepare(found.connection, found.profile, { configFile: 'plug-and-play', field: `port ${found.discovery.port}` });
      const runner = new DeviceRunner({
        site: this.config.gateway.site,
        gateway: this.config.gateway.id,
        spec: {
          id: found.id,
          connection,
          profile: found.profile,
          pollIntervalMs: parseDuration(this.config.discovery.pollInterval),
          timeoutMs: parseDuration(this.config.discovery.timeout),
        },
        driver,
        outbox: this.outbox,
        logger: this.logger,
        metrics: this.metrics,
        ...(this.keyring ? { keyring: this.keyring } : {}),
        stateDir: this.stateDir,
        discovery: found.discovery,
      });
      // The same device back (on any port) replaces its stopped runner: same id, same place in the list.
      if (at >= 0) this.devices[at] = runner;
      else this.devices.push(runner);
      runner.start();
    } catch (err) {
      this.logger.error({ device: found.id, port: found.discovery.port, err: (err as Error).message }, 'could not start a discovered device');
    }
  }

  /** Its port went away: stop reading and say so; the runner stays listed (unreachable) until the device returns. */
  private async stopDiscovered(id: string, reason: string): Promise<void> {
    const runner = this.devices.find((d) => d.state.id === id && d.state.discovery);
    if (!runner) return;
    await runner.stop();
    runner.status('unreachable', reason);
  }

  private readonly config: AgentConfig;

  async start(): Promise<void> {
    const { http } = this.config;
    if (http.enabled) {
      this.http = await startAgentHttp(http.host, http.port, this.metrics.registry, {
        health: () => ({ version: MEDTEL_VERSION, uplink: this.uplink.connected ? 'connected' : 'disconnected', devices: this.devices.map((d) => d.state) }),
        devices: () => ({
          devices: this.devices.map((d) => d.state),
          discovery: this.discovery ? { enabled: true, ports: this.discovery.reports } : { enabled: false, ports: [] },
        }),
        ready: () => {
          try {
            const stats = this.outbox.quickStats();
            const uplink = this.uplink.connected ? 'connected' : 'disconnected';
            // Not ready while commits fail (disk full, I/O error): data is being dropped, not kept.
            const writeError = this.outbox.writeError;
            if (writeError) return { ready: false, detail: { outbox: { ...stats, writeError }, uplink } };
            return { ready: true, detail: { outbox: stats, uplink } };
          } catch (err) {
            return { ready: false, detail: { outbox: (err as Error).message } };
          }
        },
      });
    }
    this.uplink.start();
    for (const device of this.devices) device.start();
    this.discovery?.start();
    this.updateOutboxGauges();
    this.statsTimer = setInterval(() => {
      this.outbox.enforceAge();
      this.outbox.reclaimSpace();
      this.updateOutboxGauges();
    }, 5000);
    this.logger.info({ version: MEDTEL_VERSION, devices: this.devices.length, http: this.httpAddress }, 'agent started');
  }

  get httpAddress(): string | undefined {
    const address = this.http?.address();
    return address && typeof address === 'object' ? `http://${address.address}:${address.port}` : undefined;
  }

  private updateOutboxGauges(): void {
    const stats = this.outbox.quickStats();
    this.metrics.outboxRows.set(stats.rows);
    this.metrics.outboxBytes.set(stats.bytes);
    this.metrics.outboxOldestAge.set(stats.oldestCreatedAt ? (Date.now() - stats.oldestCreatedAt) / 1000 : 0);
  }

  /** Stops polling, lets in-flight publishes finish, closes the outbox. */
  async stop(): Promise<void> {
    clearInterval(this.statsTimer);
    this.discovery?.stop();
    await this.discovery?.idle();
    await Promise.all(this.devices.map((d) => d.stop()));
    // Stopped sessions make running tests end at once; their results go into the outbox before it closes.
    await this.commands.settled();
    await this.uplink.stop();
    this.outbox.close();
    this.commandLog.close();
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
    this.logger.info('agent stopped');
  }
}
