import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOCOL_VERSION, type DiscoveryInfo, type Logger, type PortReport, type PortsMessage } from '@medtel/shared';
import type { AgentMetrics } from '../metrics.js';
import type { ResolvedProfile } from '../profiles/load.js';
import { identifyPort } from './identify-port.js';
import type { NetworkResult, NetworkTarget } from './network-targets.js';
import { discoveredDeviceId, globMatches } from './naming.js';
import { delay } from './probe-link.js';
import { PortWatcher } from './port-watcher.js';
import type { Identification } from './types.js';

/** A device plug-and-play identified, ready to be started like a configured one. */
export interface FoundDevice {
  id: string;
  profile: ResolvedProfile;
  /** A `connection` as a config file would give it (validated by the driver's prepare). */
  connection: Record<string, unknown>;
  discovery: DiscoveryInfo;
}

export interface DiscoveryOptions {
  watchDir: string;
  rescanMs: number;
  settleMs: number;
  /** Terminal-server ports listed in config (tcp://host:port). */
  tcp: string[];
  ignore: string[];
  /** Listed network devices (OPC UA, Modbus TCP): probed at start, never scanned. */
  network?: NetworkTarget[];
  /** Unidentified ports and endpoints are probed again this often (0: never). */
  reprobeMs?: number;
  profiles: ResolvedProfile[];
  /** Paths of configured devices (tty paths or tcp:// URLs) and their ids: never probed. */
  configured: Array<{ path: string; device: string }>;
  logger: Logger;
  metrics?: AgentMetrics;
  /** Start a runner for an identified device (same outbox and data flow as a configured one). */
  start(found: FoundDevice): void;
  /** Its port went away: stop the runner and mark the device unreachable. */
  lost(id: string, reason: string): Promise<void>;
  /** The ports report changed: publish it (retained, latest wins). */
  ports(message: PortsMessage): void;
}

interface PortEntry {
  report: PortReport;
  path: string;
  /** Bumped on every appearance and removal: a probe that finishes for an older one is dropped. */
  generation: number;
  /** A listed network endpoint or unit (re-probed through its target, not as a port). */
  network?: boolean;
}

const PROTOCOL_OF: Record<string, string> = { 'medtel-ecg': 'medtel-ecg', medibus: 'medibus', modbus: 'modbus-rtu' };

/**
 * Plug-and-play on the gateway: watches the serial link directory and the
 * listed terminal-server ports, probes each new port (one port at a time,
 * read-only, bounded), starts a device for what it identifies, and keeps a
 * report of every port for the `ports` message and `devices list`.
 */
export class Discovery {
  private readonly entries = new Map<string, PortEntry>();
  private readonly watcher: PortWatcher;
  /** Probes run one after another across all ports: a rate limit on what the gateway sends. */
  private chain: Promise<void> = Promise.resolve();
  private readonly running = new Map<string, string>();
  private stopped = false;
  private reprobeTimer: NodeJS.Timeout | undefined;
  private reprobing = false;
  /** Network targets whose last identification left something unidentified (re-probed on the slow timer). */
  private readonly networkPending = new Set<NetworkTarget>();

  constructor(private readonly o: DiscoveryOptions) {
    this.watcher = new PortWatcher({ dir: o.watchDir, rescanMs: o.rescanMs, added: (name) => this.added(name), removed: (name) => this.removed(name) });
  }

  start(): void {
    this.stopped = false;
    this.watcher.start();
    for (const url of this.o.tcp) this.appeared(url, url);
    for (const target of this.o.network ?? []) {
      this.entries.set(target.port, { report: { port: target.port, state: 'probing', since: Date.now() }, path: target.port, generation: 1, network: true });
      this.queue(target.port, () => this.probeNetwork(target));
    }
    if (this.o.reprobeMs) {
      this.reprobeTimer = setInterval(() => this.reprobe(), this.o.reprobeMs);
      this.reprobeTimer.unref();
    }
    this.publish();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.reprobeTimer);
    this.watcher.stop();
  }

  /** Probes run one after another across all ports and endpoints: a rate limit on what the gateway sends. */
  private queue(port: string, probe: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(probe).catch((err: Error) => this.o.logger.error({ port, err: err.message }, 'probing failed'));
    return this.chain;
  }

  /**
   * The slow timer: every unidentified port and endpoint is tried again (a device switched on after its
   * cable was plugged in). One round at a time; a round still running when the timer fires is not doubled.
   */
  private reprobe(): void {
    if (this.stopped || this.reprobing) return;
    const serial = [...this.entries.values()].filter((e) => e.report.state === 'unidentified' && !e.network);
    const network = [...this.networkPending];
    if (serial.length === 0 && network.length === 0) return;
    this.reprobing = true;
    this.o.logger.info({ ports: serial.length, endpoints: network.length }, 'probing unidentified ports and endpoints again');
    for (const entry of serial) {
      const generation = entry.generation;
      this.queue(entry.report.port, () => this.probe(entry, generation, true));
    }
    for (const target of network) this.queue(target.port, () => this.probeNetwork(target));
    void this.chain.finally(() => {
      this.reprobing = false;
    });
  }

  /** A listed network target: each endpoint or unit it leads to becomes a line of the ports report. */
  private async probeNetwork(target: NetworkTarget): Promise<void> {
    if (this.stopped) return;
    this.o.logger.info({ endpoint: target.port }, 'identifying a listed network device (read-only)');
    const results: NetworkResult[] = await target.identify();
    if (this.stopped) return;
    // A discovery URL is not a device: its line goes once it has led to servers.
    if (!results.some((r) => r.port === target.port)) this.entries.delete(target.port);
    let pending = false;
    for (const r of results) {
      for (const t of r.tried) this.o.metrics?.discoveryProbes.inc({ profile: t.profile, outcome: t.outcome });
      const entry = this.entries.get(r.port) ?? {
        report: { port: r.port, state: 'probing' as const, since: Date.now() },
        path: r.port,
        generation: 1,
        network: true,
      };
      this.entries.set(r.port, entry);
      if (r.configured) {
        entry.report = { port: r.port, state: 'configured', device: r.configured, since: Date.now() };
        continue;
      }
      if (!r.found) {
        pending = true;
        if (entry.report.state !== 'unidentified') {
          this.o.metrics?.discoveryPorts.inc({ result: 'unidentified' });
          this.o.logger.warn(
            { endpoint: r.port, tried: r.tried.map((t) => `${t.profile}: ${t.outcome}${t.detail ? ` (${t.detail})` : ''}`) },
            'network device not identified',
          );
        }
        entry.report = {
          port: r.port,
          state: 'unidentified',
          tried: r.tried.slice(0, 64),
          since: entry.report.state === 'unidentified' ? entry.report.since : Date.now(),
        };
        continue;
      }
      if (entry.report.state === 'identified') continue;
      const id = discoveredDeviceId(r.found.profile.model, r.found.identity);
      this.o.metrics?.discoveryPorts.inc({ result: 'identified' });
      entry.report = { port: r.port, state: 'identified', device: id, since: Date.now() };
      if (this.running.has(id)) {
        this.o.logger.warn({ endpoint: r.port, device: id, alsoOn: this.running.get(id) }, 'device already read on another endpoint; not started twice');
        continue;
      }
      this.running.set(id, r.port);
      this.o.logger.info(
        { endpoint: r.port, device: id, profile: r.found.profile.profile, model: r.found.identity.model, serial: r.found.identity.serial },
        'network device identified; starting it',
      );
      this.o.start({ id, profile: r.found.profile, connection: r.found.connection, discovery: { ...r.found.discovery, identifiedAt: Date.now() } });
    }
    if (pending) this.networkPending.add(target);
    else this.networkPending.delete(target);
    this.publish();
  }

  /** Resolves when every probe queued so far has finished (for the CLI's one-shot scan and tests). */
  idle(): Promise<void> {
    return this.chain;
  }

  get reports(): PortReport[] {
    return [...this.entries.values()].map((e) => e.report);
  }

  private added(name: string): void {
    this.appeared(name, join(this.o.watchDir, name));
  }

  private removed(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.generation += 1;
    const device = entry.report.state === 'identified' ? entry.report.device : undefined;
    entry.report = { port: name, state: 'absent', since: Date.now(), ...(device ? { device } : {}) };
    this.publish();
    if (device && this.running.get(device) === name) {
      this.running.delete(device);
      this.o.logger.warn({ port: name, device }, 'port of a discovered device removed; the device is unreachable until it is plugged in again');
      void this.o.lost(device, `port ${name} removed`);
    }
  }

  private appeared(port: string, path: string): void {
    const entry: PortEntry = this.entries.get(port) ?? { report: { port, state: 'probing', since: Date.now() }, path, generation: 0 };
    entry.generation += 1;
    entry.path = path;
    this.entries.set(port, entry);
    const since = Date.now();
    const configured = this.configuredDevice(path);
    if (configured) {
      entry.report = { port, state: 'configured', device: configured, since };
    } else if (this.o.ignore.some((g) => globMatches(g, port, path))) {
      entry.report = { port, state: 'ignored', since };
    } else {
      entry.report = { port, state: 'probing', since };
      const generation = entry.generation;
      this.queue(port, () => this.probe(entry, generation));
    }
    this.publish();
  }

  /** A configured device's port, by the path as given or where the link leads (two names, one tty). */
  private configuredDevice(path: string): string | undefined {
    const real = safeRealpath(path);
    return this.o.configured.find((c) => c.path === path || (real !== undefined && safeRealpath(c.path) === real))?.device;
  }

  private async probe(entry: PortEntry, generation: number, again = false): Promise<void> {
    const current = () => !this.stopped && entry.generation === generation;
    if (!entry.path.startsWith('tcp://') && !again) await delay(this.o.settleMs);
    if (!current()) return;
    const port = entry.report.port;
    this.o.logger.info({ port }, again ? 'probing an unidentified port again (read-only identification)' : 'probing a new port (read-only identification)');
    const { identified, tried } = await identifyPort({ port, path: entry.path }, this.o.profiles, {
      ...(this.o.metrics ? { metrics: this.o.metrics } : {}),
      cancelled: () => !current(),
    });
    if (!current()) return;
    if (!identified) {
      // Still nothing on a re-probe: keep the line as it was (no churn in the ports message every round).
      if (again) return;
      this.o.metrics?.discoveryPorts.inc({ result: 'unidentified' });
      // What was tried, never what was received (it may hold patient data).
      this.o.logger.warn({ port, tried: tried.map((t) => `${t.profile}${t.settings ? ` ${t.settings}` : ''}: ${t.outcome}`) }, 'port not identified');
      entry.report = { port, state: 'unidentified', tried: tried.slice(0, 64), since: Date.now() };
      this.publish();
      return;
    }
    this.o.metrics?.discoveryPorts.inc({ result: 'identified' });
    const found = this.found(port, entry.path, identified);
    entry.report = { port, state: 'identified', device: found.id, since: Date.now() };
    this.publish();
    const elsewhere = this.running.get(found.id);
    if (elsewhere && elsewhere !== port) {
      // Two links to one adapter, or two devices claiming one serial: read it once.
      this.o.logger.warn({ port, device: found.id, alsoOn: elsewhere }, 'device already read on another port; not started twice');
      return;
    }
    this.running.set(found.id, port);
    this.o.logger.info(
      {
        port,
        device: found.id,
        profile: found.profile.profile,
        model: identified.identity.model,
        serial: identified.identity.serial,
        how: found.discovery.method,
      },
      'device identified on a new port; starting it',
    );
    this.o.start(found);
  }

  private found(port: string, path: string, id: Identification): FoundDevice {
    const plan = id.profile.identifyPlan;
    const protocol = PROTOCOL_OF[plan?.family ?? ''] as string;
    const discovery: DiscoveryInfo = {
      method: id.method,
      port,
      ...(id.settings ? { settings: id.settings } : {}),
      ...(id.unitId !== undefined ? { unitId: id.unitId } : {}),
      identifiedAt: Date.now(),
    };
    return {
      id: discoveredDeviceId(id.profile.model, id.identity),
      profile: id.profile,
      connection: { protocol, path, ...id.line, ...(id.unitId !== undefined ? { unitId: id.unitId } : {}) },
      discovery,
    };
  }

  private publish(): void {
    // Nothing ever seen: nothing to say (and no retained message for a gateway without plug-and-play ports).
    if (this.stopped || this.entries.size === 0) return;
    this.o.ports({ v: PROTOCOL_VERSION, sentAt: Date.now(), ports: this.reports.slice(0, 256) });
  }
}

function safeRealpath(path: string): string | undefined {
  if (path.startsWith('tcp://')) return undefined;
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
