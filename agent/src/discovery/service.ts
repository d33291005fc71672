import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOCOL_VERSION, type DiscoveryInfo, type Logger, type PortReport, type PortsMessage } from '@medtel/shared';
import type { AgentMetrics } from '../metrics.js';
import type { ResolvedProfile } from '../profiles/load.js';
import { identifyPort } from './identify-port.js';
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

  constructor(private readonly o: DiscoveryOptions) {
    this.watcher = new PortWatcher({ dir: o.watchDir, rescanMs: o.rescanMs, added: (name) => this.added(name), removed: (name) => this.removed(name) });
  }

  start(): void {
    this.stopped = false;
    this.watcher.start();
    for (const url of this.o.tcp) this.appeared(url, url);
    this.publish();
  }

  stop(): void {
    this.stopped = true;
    this.watcher.stop();
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
      this.chain = this.chain
        .then(() => this.probe(entry, generation))
        .catch((err: Error) => this.o.logger.error({ port, err: err.message }, 'probing failed'));
    }
    this.publish();
  }

  /** A configured device's port, by the path as given or where the link leads (two names, one tty). */
  private configuredDevice(path: string): string | undefined {
    const real = safeRealpath(path);
    return this.o.configured.find((c) => c.path === path || (real !== undefined && safeRealpath(c.path) === real))?.device;
  }

  private async probe(entry: PortEntry, generation: number): Promise<void> {
    const current = () => !this.stopped && entry.generation === generation;
    if (!entry.path.startsWith('tcp://')) await delay(this.o.settleMs);
    if (!current()) return;
    const port = entry.report.port;
    this.o.logger.info({ port }, 'probing a new port (read-only identification)');
    const { identified, tried } = await identifyPort({ port, path: entry.path }, this.o.profiles, {
      ...(this.o.metrics ? { metrics: this.o.metrics } : {}),
      cancelled: () => !current(),
    });
    if (!current()) return;
    if (!identified) {
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
