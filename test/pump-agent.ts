import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './helpers.js';

/**
 * agent.yaml for one Modbus TCP pump, polled every 200 ms, and a collector
 * address nobody answers on (the agent keeps what it reads in its outbox);
 * the agent's /readyz is on `ports.http`. Returns the file and the ports.
 */
export async function writePumpAgentConfig(dir: string, gateway: string): Promise<{ file: string; ports: { mqtt: number; modbus: number; http: number } }> {
  const ports = { mqtt: await freePort(), modbus: await freePort(), http: await freePort() };
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    [
      `gateway: { id: ${gateway}, site: s }`,
      `collector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secret: not-used, reconnectMin: 100ms, reconnectMax: 300ms }`,
      'stateDir: ./state',
      `http: { port: ${ports.http} }`,
      'devices:',
      `  - { id: pump-1, profile: medtel-mt-lvp-100, pollInterval: 200ms, connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${ports.modbus} } }`,
    ].join('\n'),
  );
  return { file, ports };
}
