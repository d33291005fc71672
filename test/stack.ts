import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashSecret } from '@medtel/collector';
import { type Proc, freePort, getJson, startCli, tempDir } from './helpers.js';

/**
 * The whole chain as separate processes, as it runs in a hospital: a collector
 * that knows one gateway by its hashed secret, simulators, and an agent polling
 * them. The end-to-end tests differ only in the devices and what they check,
 * so the set-up and the tear-down live here once.
 */

export type Role = 'viewer' | 'technician' | 'clinician' | 'admin';
/** One entry under `devices:` in agent.yaml, as the agent's config takes it. */
export type AgentDevice = Record<string, unknown>;

/** collector.yaml for one gateway; `extra` adds top-level sections (e.g. `alerts`). */
export async function writeCollectorConfig(
  file: string,
  o: { mqttPort: number; httpPort: number; gateway: string; secret: string; storePath?: string; extra?: Record<string, unknown> },
): Promise<void> {
  const config = {
    // Plain MQTT is opt-in (production listens on TLS); tests run on loopback.
    mqtt: { port: o.mqttPort, plain: { enabled: true } },
    http: { port: o.httpPort },
    store: { path: o.storePath ?? './collector/collector.db' },
    ...o.extra,
    gateways: [{ id: o.gateway, secretHash: await hashSecret(o.secret) }],
  };
  writeFileSync(file, stringify(config));
}

/**
 * agent.yaml: the gateway reads its secret from `gateway.secret` next to the file
 * and reconnects quickly (tests restart collectors). `collector` adds or overrides
 * fields of the `collector:` section, `extra` adds top-level sections (e.g. `outbox`).
 */
export function writeAgentConfig(
  file: string,
  o: {
    gateway: string;
    site: string;
    mqttPort: number;
    httpPort: number;
    devices: AgentDevice[];
    collector?: Record<string, unknown>;
    extra?: Record<string, unknown>;
  },
): void {
  const config = {
    gateway: { id: o.gateway, site: o.site },
    collector: { url: `mqtt://127.0.0.1:${o.mqttPort}`, secretFile: 'gateway.secret', reconnectMin: '200ms', reconnectMax: '1s', ...o.collector },
    stateDir: './agent-state',
    http: { port: o.httpPort },
    ...o.extra,
    devices: o.devices,
  };
  writeFileSync(file, stringify(config));
}

/** A bearer token from `medtel-collector token issue`, as an operator gets one. */
export async function issueToken(collectorConfig: string, sub: string, role: Role): Promise<string> {
  const issued = startCli('collector', ['token', 'issue', '--config', collectorConfig, '--sub', sub, '--role', role, '--ttl', '1h']);
  const code = await issued.exited();
  if (code !== 0) throw new Error(`token issue exited ${code}: ${issued.output()}`);
  return issued.output().trim();
}

export interface StackOptions {
  gateway: string;
  site: string;
  /** Entries under `devices:` in agent.yaml. */
  devices: AgentDevice[];
  /** Simulator command lines (`medtel-sim <name> <args...>`), started in order before the agent. */
  simulators?: string[][];
  /** How long each simulator may take to say it listens (an OPC UA server first makes its certificate); 20 s unless given. */
  simulatorStartMs?: number;
  /** Extra top-level sections of collector.yaml. */
  collector?: Record<string, unknown>;
  /** Extra top-level sections of agent.yaml. */
  agent?: Record<string, unknown>;
  /**
   * Something between agent and collector (e.g. a relay that records every MQTT byte):
   * given the collector's MQTT port, returns the port the agent connects to. The test closes it.
   */
  mqttRelay?: (collectorMqttPort: number) => Promise<number>;
  /** Who `api()` speaks as; a viewer named e2e unless given. */
  token?: { sub: string; role: Role };
  /** Runs once the collector is up and the token issued, before simulators and agent (e.g. to create alert rules). */
  beforeDevices?: (stack: Stack) => Promise<void>;
  /** Where configs, store and state go (e.g. when a device path must be known beforehand); a new temp dir unless given. Removed by stop(). */
  dir?: ReturnType<typeof tempDir>;
}

export interface Stack {
  /** The temp directory holding both configs, the collector's store and the agent's state. */
  readonly dir: string;
  readonly ports: { mqtt: number; http: number; agentHttp: number };
  readonly collectorConfig: string;
  readonly collectorDb: string;
  readonly token: string;
  /** The collector process running now (after startCollector(), the new one). */
  readonly collector: Proc;
  readonly agent: Proc;
  readonly simulators: Proc[];
  /** GET on the collector's API with the stack's token. */
  api<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }>;
  /** A request with a JSON body and the stack's token. */
  send(method: string, path: string, body: unknown): Promise<Response>;
  tokenFor(role: Role, sub?: string): Promise<string>;
  /** Starts a collector on the same config and store (after the previous one was killed) and waits until it runs. */
  startCollector(): Promise<Proc>;
  /** Agent first (its graceful stop talks to the collector), then the simulators, then the collectors; removes the directory. */
  stop(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const dir = o.dir ?? tempDir('medtel-e2e-');
  const ports = { mqtt: await freePort(), http: await freePort(), agentHttp: await freePort() };
  const collectorConfig = join(dir.path, 'collector.yaml');
  const agentConfig = join(dir.path, 'agent.yaml');
  const secret = `${o.gateway}-secret-0123456789abcdef`;
  writeFileSync(join(dir.path, 'gateway.secret'), `${secret}\n`);
  await writeCollectorConfig(collectorConfig, { mqttPort: ports.mqtt, httpPort: ports.http, gateway: o.gateway, secret, extra: o.collector });
  const agentMqttPort = o.mqttRelay ? await o.mqttRelay(ports.mqtt) : ports.mqtt;
  writeAgentConfig(agentConfig, { gateway: o.gateway, site: o.site, mqttPort: agentMqttPort, httpPort: ports.agentHttp, devices: o.devices, extra: o.agent });

  const collectors: Proc[] = [];
  const simulators: Proc[] = [];
  let agent: Proc | undefined;
  let token = '';
  const url = (path: string) => `http://127.0.0.1:${ports.http}${path}`;

  const stack: Stack = {
    dir: dir.path,
    ports,
    collectorConfig,
    collectorDb: join(dir.path, 'collector', 'collector.db'),
    get token() {
      return token;
    },
    get collector() {
      const current = collectors.at(-1);
      if (!current) throw new Error('no collector started');
      return current;
    },
    get agent() {
      if (!agent) throw new Error('no agent started');
      return agent;
    },
    simulators,
    api: (path) => getJson(url(path), token),
    send: (method, path, body) =>
      fetch(url(path), { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    tokenFor: (role, sub = `e2e-${role}`) => issueToken(collectorConfig, sub, role),
    async startCollector() {
      const p = startCli('collector', ['run', '--config', collectorConfig], dir.path);
      collectors.push(p);
      await p.waitForLine(/collector started/);
      return p;
    },
    async stop() {
      for (const p of [...(agent ? [agent] : []), ...[...simulators].reverse(), ...[...collectors].reverse()]) await p.stop();
      dir.remove();
    },
  };

  try {
    await stack.startCollector();
    token = await issueToken(collectorConfig, o.token?.sub ?? 'e2e', o.token?.role ?? 'viewer');
    await o.beforeDevices?.(stack);
    for (const args of o.simulators ?? []) {
      const sim = startCli('simulators', args);
      simulators.push(sim);
      await sim.waitForLine(/simulator listening/, o.simulatorStartMs);
    }
    agent = startCli('agent', ['run', '--config', agentConfig], dir.path);
    await agent.waitForLine(/agent started/);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
