import { dirname, join, resolve } from 'node:path';
import { parseDuration, type PortAttempt } from '@medtel/shared';
import type { AgentConfig } from '../config.js';
import { StateLock } from '../outbox/lock.js';
import { identifyPort } from './identify-port.js';
import { discoveredDeviceId, globMatches } from './naming.js';
import { PortWatcher } from './port-watcher.js';
import { identifiableProfiles } from './profiles.js';

export class ServiceRunningError extends Error {}

interface ScanLine {
  port: string;
  state: 'identified' | 'unidentified' | 'configured' | 'ignored';
  device?: string;
  profile?: string;
  model?: string;
  serial?: string;
  firmware?: string;
  settings?: string;
  unitId?: number;
  tried?: PortAttempt[];
}

/**
 * `medtel-agent devices scan`: probes every port in the watched directory and
 * the listed terminal-server ports once, as the service would, and says what
 * each would be identified as. Refuses while the service runs (it holds the
 * state directory's lock): probing a port the service reads would disturb it.
 */
export async function devicesScan(config: AgentConfig, configFile: string, json: boolean): Promise<string> {
  const baseDir = dirname(resolve(configFile));
  let lock: StateLock | undefined;
  try {
    lock = StateLock.acquire(join(resolve(baseDir, config.stateDir), 'agent.lock'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'LOCKED')
      throw new ServiceRunningError(
        'the agent service is running and reads these ports; scanning now would disturb them. Use `medtel-agent devices list` to see what it found, or stop the service first.',
      );
    // No state directory yet: no agent has run with this config, nothing to disturb.
  }
  try {
    const watchDir = resolve(baseDir, config.discovery.serial.watchDir);
    const profiles = identifiableProfiles(config, baseDir);
    const configured = config.devices.flatMap((d) => {
      const path = (d.connection as { path?: unknown }).path;
      return typeof path === 'string' ? [{ path: resolve(baseDir, path), device: d.id }] : [];
    });
    const targets = [
      ...PortWatcher.list(watchDir).map((name) => ({ port: name, path: join(watchDir, name) })),
      ...config.discovery.serial.tcp.map((url) => ({ port: url, path: url })),
    ];
    const lines: ScanLine[] = [];
    for (const target of targets) {
      const device = configured.find((c) => c.path === target.path)?.device;
      if (device) {
        lines.push({ port: target.port, state: 'configured', device });
        continue;
      }
      if (config.discovery.serial.ignore.some((g) => globMatches(g, target.port, target.path))) {
        lines.push({ port: target.port, state: 'ignored' });
        continue;
      }
      const { identified, tried } = await identifyPort(target, profiles);
      if (!identified) {
        lines.push({ port: target.port, state: 'unidentified', tried });
        continue;
      }
      const { identity } = identified;
      lines.push({
        port: target.port,
        state: 'identified',
        device: discoveredDeviceId(identified.profile.model, identity),
        profile: identified.profile.profile,
        ...identity,
        ...(identified.settings ? { settings: identified.settings } : {}),
        ...(identified.unitId !== undefined ? { unitId: identified.unitId } : {}),
      });
    }
    if (json) return JSON.stringify({ watchDir, ports: lines }, null, 2);
    return formatScan(watchDir, lines, config.discovery.enabled);
  } finally {
    lock?.release();
  }
}

function formatScan(watchDir: string, lines: ScanLine[], enabled: boolean): string {
  const out = [
    `${watchDir}: ${lines.length} port${lines.length === 1 ? '' : 's'}${enabled ? '' : ' (discovery.enabled is false: the service would not probe them)'}`,
  ];
  if (lines.length === 0) out.push('  nothing attached');
  for (const l of lines) {
    if (l.state === 'identified') {
      const where = [l.settings, l.unitId !== undefined ? `unit ${l.unitId}` : undefined].filter(Boolean).join(', ');
      out.push(
        `  ${l.port}: ${l.model ?? l.profile} serial ${l.serial ?? '?'}${l.firmware ? ` firmware ${l.firmware}` : ''} (profile ${l.profile}${where ? `, ${where}` : ''}) -> device ${l.device}`,
      );
    } else if (l.state === 'configured') out.push(`  ${l.port}: configured as device ${l.device} (not probed)`);
    else if (l.state === 'ignored') out.push(`  ${l.port}: ignored (discovery.serial.ignore)`);
    else {
      const tried = (l.tried ?? []).map((t) => `${t.profile}${t.settings ? ` ${t.settings}` : ''}${t.unitIds ? ` units ${t.unitIds}` : ''}: ${t.outcome}`);
      out.push(`  ${l.port}: unidentified (tried ${tried.join('; ') || 'no profile'})`);
    }
  }
  return out.join('\n');
}

/**
 * `medtel-agent devices list`: configured and discovered devices with their
 * status, from the running agent's local HTTP endpoint (GET /devices).
 */
export async function devicesList(config: AgentConfig, json: boolean, timeout = '3s'): Promise<string> {
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}/devices`;
  let body: { devices: DeviceRow[]; discovery: { enabled: boolean; ports: Array<{ port: string; state: string; device?: string }> } };
  try {
    if (!config.http.enabled) throw new Error('http.enabled is false');
    const res = await fetch(url, { signal: AbortSignal.timeout(parseDuration(timeout)) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as typeof body;
  } catch (err) {
    const configured = config.devices.map((d) => `  ${d.id}  ${d.profile}  configured  (agent not reachable)`);
    return [`the agent is not reachable at ${url} (${(err as Error).message}); configured devices:`, ...configured].join('\n');
  }
  if (json) return JSON.stringify(body, null, 2);
  const rows = body.devices.map((d) => {
    const how = d.discovery ? `discovered on ${d.discovery.port}${d.discovery.settings ? ` ${d.discovery.settings}` : ''}` : 'configured';
    const who = [d.identity?.model, d.identity?.serial && `serial ${d.identity.serial}`].filter(Boolean).join(' ');
    return `  ${d.id}  ${d.profile}  ${how}  ${d.status}${d.reason ? ` (${d.reason})` : ''}${who ? `  ${who}` : ''}`;
  });
  const ports = body.discovery.ports.map((p) => `  ${p.port}: ${p.state}${p.device ? ` -> ${p.device}` : ''}`);
  return [
    `devices (${rows.length}):`,
    ...(rows.length ? rows : ['  none']),
    body.discovery.enabled ? `ports (${ports.length}):` : 'plug-and-play is off (discovery.enabled: false)',
    ...ports,
  ].join('\n');
}

interface DeviceRow {
  id: string;
  profile: string;
  status: string;
  reason?: string;
  identity?: { model?: string; serial?: string };
  discovery?: { port: string; settings?: string };
}
