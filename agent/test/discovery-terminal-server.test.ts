import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPumpSimulator, startVentilatorSimulator } from '@medtel/simulators';
import { Agent, loadAgentConfig } from '../dist/index.js';
import { startRecordingBroker } from './recording-broker.js';
import { freePort, startCli, tempDir, waitFor } from '../../test/helpers.js';

/**
 * Terminal-server ports (discovery.serial.tcp), the slow re-probe of
 * unidentified ports, and `medtel-agent devices list` against a running
 * agent: real simulators, a plain in-process Aedes broker.
 */
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const root = 'medtel/v1/s1/gw1';
type Ports = { ports: Array<{ port: string; state: string; device?: string }> };

describe('terminal-server ports, re-probing and devices list', () => {
  it('a ventilator switched on behind a listed terminal-server port after the agent started is found by the re-probe; devices list shows it beside a configured device', async () => {
    const tmp = tempDir('medtel-ts-');
    cleanup.push(() => tmp.remove());
    const b = await startRecordingBroker(cleanup);
    const tsPort = await freePort();
    const pump = await startPumpSimulator({ port: await freePort(), serial: 'LVP-CFG', seed: 1 });
    cleanup.push(() => pump.close());
    const httpPort = await freePort();
    const file = join(tmp.path, 'agent.yaml');
    const tcp = `tcp://127.0.0.1:${tsPort}`;
    writeFileSync(
      file,
      `gateway: { id: gw1, site: s1 }
collector: { url: "${b.url}", secret: test }
stateDir: ./state
http: { host: 127.0.0.1, port: ${httpPort} }
log: { level: error }
discovery:
  reprobeInterval: 1s
  serial: { watchDir: ./no-such-dir, tcp: ["${tcp}"] }
devices:
  - id: pump-bed-4
    profile: medtel-mt-lvp-100
    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${pump.port} }
`,
    );
    const agent = new Agent({ config: loadAgentConfig(file), configFile: file });
    await agent.start();
    cleanup.push(() => agent.stop());

    // Nothing answers on the terminal-server port yet (the device is off): unidentified.
    await waitFor('the port unidentified', () =>
      (b.latest(`${root}/ports`) as Ports | undefined)?.ports.find((p) => p.port === tcp && p.state === 'unidentified'),
    );
    const vent = await startVentilatorSimulator({ serial: 'VT-TS1', seed: 1, link: { tcp: { host: '127.0.0.1', port: tsPort } } });
    cleanup.push(() => vent.close());
    const device = 'mt-vent-500-VT-TS1';
    const birth = await waitFor('a birth after the re-probe', () => b.latest(`${root}/dev/${device}/birth`), 30_000);
    expect(birth).toMatchObject({ model: 'MT-VENT-500', serial: 'VT-TS1' });
    // A terminal server's line is set on the server: no settings reported.
    expect(birth.discovery).toMatchObject({ method: 'probe', port: tcp });
    expect((birth.discovery as Record<string, unknown>).settings).toBeUndefined();
    await waitFor('data through the terminal server', () => b.messages.find((m) => m.topic === `${root}/dev/${device}/data`), 20_000);
    await waitFor('the port identified', () =>
      (b.latest(`${root}/ports`) as Ports | undefined)?.ports.find((p) => p.port === tcp && p.state === 'identified' && p.device === device),
    );

    const cli = startCli('agent', ['devices', 'list', '-c', file]);
    cleanup.push(() => void cli.stop());
    expect(await cli.exited()).toBe(0);
    const out = cli.output();
    expect(out).toMatch(/devices \(2\)/);
    expect(out).toMatch(/pump-bed-4\s+medtel-mt-lvp-100\s+configured\s+connected/);
    expect(out).toMatch(new RegExp(`${device}\\s+medtel-mt-vent-500\\s+discovered on ${tcp.replace(/[.]/g, '\\.')}\\s+connected.*MT-VENT-500 serial VT-TS1`));
    expect(out).toContain(`${tcp}: identified -> ${device}`);
  }, 90_000);
});
