import { ConfigError, type Logger } from '@medtel/shared';
import type { AgentMetrics } from '../../metrics.js';
import { describeEndpoint, type SerialEndpoint, sameLine } from '../../transports/serial/index.js';
import { RtuBus } from './rtu-bus.js';

interface Entry {
  bus: RtuBus;
  users: number;
}

/**
 * The RTU lines in use, by path: every unit configured on the same path shares
 * one bus (one open port, one request at a time). Kept by the driver, not global.
 */
export class RtuLines {
  private readonly lines = new Map<string, Entry>();
  private readonly planned = new Map<string, SerialEndpoint>();

  /** At config time: units on one path must agree on its line settings. */
  plan(endpoint: SerialEndpoint, where: { configFile: string; field: string }): void {
    const known = this.planned.get(endpoint.path);
    if (known && !sameLine(known, endpoint)) {
      throw new ConfigError(
        `${where.configFile}: ${where.field}.baudRate: ${endpoint.path} is already configured as ${describeEndpoint(known)}; every unit on a line needs the same settings`,
        where.configFile,
        `${where.field}.baudRate`,
      );
    }
    this.planned.set(endpoint.path, endpoint);
  }

  acquire(endpoint: SerialEndpoint, o: { gapMs: number; quietMs: number; logger: Logger; metrics: AgentMetrics; device: string }): RtuBus {
    let entry = this.lines.get(endpoint.path);
    if (!entry) {
      entry = { bus: new RtuBus({ endpoint, gapMs: o.gapMs, quietMs: o.quietMs, logger: o.logger, metrics: o.metrics, label: o.device }), users: 0 };
      this.lines.set(endpoint.path, entry);
      entry.bus.start();
    }
    entry.users += 1;
    return entry.bus;
  }

  async release(endpoint: SerialEndpoint): Promise<void> {
    const entry = this.lines.get(endpoint.path);
    if (!entry) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    this.lines.delete(endpoint.path);
    await entry.bus.stop();
  }
}
