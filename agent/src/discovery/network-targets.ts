import { type DiscoveryInfo, type PortAttempt, parseDuration } from '@medtel/shared';
import type { AgentConfig } from '../config.js';
import { type IdentifyPlan, unitRange } from '../profiles/identify.js';
import type { ResolvedProfile } from '../profiles/load.js';
import { probeOrder } from './identify-port.js';
import { probeModbusTcpUnit } from './modbus-tcp-prober.js';
import type { Identity } from './types.js';

/**
 * Network devices for plug-and-play: only what the config lists (OPC UA
 * discovery endpoints and endpoints, Modbus TCP hosts with their unit ids).
 * Nothing here ever scans an address range: integration teams forbid it.
 */

/** A network device identified: what the service needs to start it like a configured one. */
export interface NetworkFound {
  profile: ResolvedProfile;
  identity: Identity;
  /** A `connection` as a config file would give it. */
  connection: Record<string, unknown>;
  discovery: Omit<DiscoveryInfo, 'identifiedAt'>;
}

/** One line of the ports report: an endpoint or host/unit, identified or with what was tried. */
export interface NetworkResult {
  port: string;
  found?: NetworkFound;
  tried: PortAttempt[];
  /** A configured device already reads this endpoint/unit: never probed. */
  configured?: string;
}

export interface NetworkTarget {
  /** As listed in config: tcp://h:502 unit 2, an opc.tcp:// endpoint or discovery URL. */
  port: string;
  /** Reads only; one result per device endpoint it leads to (a discovery URL can lead to several). */
  identify(): Promise<NetworkResult[]>;
}

type Identifiable = ResolvedProfile & { identifyPlan: IdentifyPlan };

export function networkTargets(config: AgentConfig, profiles: ResolvedProfile[], o: { stateDir: string; baseDir: string }): NetworkTarget[] {
  const ordered = probeOrder(profiles) as Identifiable[];
  const targets: NetworkTarget[] = [];
  const configured = (match: (c: Record<string, unknown>) => boolean) =>
    config.devices.find((d) => d.enabled && match(d.connection as Record<string, unknown>))?.id;
  for (const { host, unitIds } of config.discovery.modbusTcp) {
    const { hostname, port } = new URL(host);
    // Several unit ids behind one gateway: each is its own target, so each identified unit is its own device.
    for (const unit of unitRange(unitIds)) {
      targets.push({
        port: `${host} unit ${unit}`,
        identify: async () => {
          const name = `${host} unit ${unit}`;
          const device = configured((c) => c.protocol === 'modbus-tcp' && c.host === hostname && (c.port ?? 502) === Number(port) && (c.unitId ?? 1) === unit);
          if (device) return [{ port: name, tried: [], configured: device }];
          const { identified, tried } = await probeModbusTcpUnit(host, unit, ordered);
          if (!identified) return [{ port: name, tried }];
          const found: NetworkFound = {
            profile: identified.profile,
            identity: identified.identity,
            connection: { protocol: 'modbus-tcp', host: hostname, port: Number(port), unitId: unit },
            discovery: { method: 'listed', port: host, unitId: unit },
          };
          return [{ port: name, found, tried }];
        },
      });
    }
  }
  const opcua = config.discovery.opcua;
  const timeoutMs = parseDuration(opcua.timeout);
  const connection = (endpoint: string) => ({
    protocol: 'opcua' as const,
    endpoint,
    security: opcua.security,
    ...(opcua.identity ? { identity: opcua.identity } : {}),
    trustedServerCertificates: opcua.trustedServerCertificates,
    demoAcceptAnyServerCertificate: false,
  });
  const identifyEndpoint = async (endpoint: string, method: 'listed' | 'opcua-discovery'): Promise<NetworkResult> => {
    const device = configured((c) => c.protocol === 'opcua' && c.endpoint === endpoint);
    if (device) return { port: endpoint, tried: [], configured: device };
    // node-opcua costs ~140 MB: loaded only when an OPC UA endpoint is actually probed.
    const { probeOpcuaEndpoint } = await import('./opcua-prober.js');
    const { identified, tried } = await probeOpcuaEndpoint({ connection: connection(endpoint), stateDir: o.stateDir, baseDir: o.baseDir, timeoutMs }, ordered);
    if (!identified) return { port: endpoint, tried };
    return {
      port: endpoint,
      tried,
      found: { profile: identified.profile, identity: identified.identity, connection: connection(endpoint), discovery: { method, port: endpoint } },
    };
  };
  for (const endpoint of opcua.endpoints) targets.push({ port: endpoint, identify: async () => [await identifyEndpoint(endpoint, 'listed')] });
  for (const url of opcua.discoveryUrls) {
    targets.push({
      port: url,
      identify: async () => {
        const { findServerEndpoints } = await import('./opcua-prober.js');
        let endpoints: string[];
        try {
          endpoints = await findServerEndpoints(url, timeoutMs);
        } catch (err) {
          return [
            { port: url, tried: [{ profile: 'FindServers', outcome: 'no-answer', detail: `discovery endpoint: ${(err as Error).message}`.slice(0, 256) }] },
          ];
        }
        if (endpoints.length === 0)
          return [{ port: url, tried: [{ profile: 'FindServers', outcome: 'mismatch', detail: 'the discovery endpoint knows no server' }] }];
        const results: NetworkResult[] = [];
        for (const endpoint of endpoints) results.push(await identifyEndpoint(endpoint, 'opcua-discovery'));
        return results;
      },
    });
  }
  return targets;
}
