import { mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startVentilatorSimulator, startXraySimulator } from '@medtel/simulators';
import { Agent, loadAgentConfig } from '../dist/index.js';
import { startRecordingBroker } from './recording-broker.js';
import { startCli, tempDir, waitFor } from '../../test/helpers.js';

/**
 * Plug-and-play end to end on the agent side: a plain in-process Aedes broker
 * (the collector learns the `ports` topic on another branch), a running agent
 * watching a temp directory, and simulators whose pty links appear in it.
 */
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function writeConfig(dir: string, url: string, watchDir: string, extra = '', serialExtra = ''): string {
  const file = join(dir, 'agent.yaml');
  writeFileSync(
    file,
    `gateway: { id: gw1, site: s1 }
collector: { url: "${url}", secret: test }
stateDir: ./state
http: { enabled: false }
log: { level: error }
discovery:
  serial: { watchDir: "${watchDir}", rescanInterval: 1s, settle: 100ms${serialExtra} }
${extra}`,
  );
  return file;
}

const root = 'medtel/v1/s1/gw1';

describe('plug-and-play in the running agent', () => {
  it('a ventilator plugged in appears with a discovery birth; unplugged -> unreachable; on another link name -> same device id', async () => {
    const tmp = tempDir('medtel-pnp-');
    cleanup.push(() => tmp.remove());
    const watchDir = join(tmp.path, 'by-id');
    mkdirSync(watchDir);
    const b = await startRecordingBroker(cleanup);
    const file = writeConfig(tmp.path, b.url, watchDir);
    const agent = new Agent({ config: loadAgentConfig(file), configFile: file });
    await agent.start();
    cleanup.push(() => agent.stop());

    const linkA = join(watchDir, 'usb-medtel_VENT-if00-port0');
    let sim = await startVentilatorSimulator({ serial: 'VT-1234', seed: 1, link: { pty: linkA } });
    cleanup.push(() => sim.close());
    const device = 'mt-vent-500-VT-1234';
    const birth = await waitFor('a birth with discovery', () => b.latest(`${root}/dev/${device}/birth`), 30_000);
    expect(birth).toMatchObject({ model: 'MT-VENT-500', serial: 'VT-1234', profile: 'medtel-mt-vent-500' });
    expect(birth.discovery).toMatchObject({ method: 'probe', port: 'usb-medtel_VENT-if00-port0', settings: '19200 8E1' });
    await waitFor('data from the discovered device', () => b.messages.find((m) => m.topic === `${root}/dev/${device}/data`));
    const ports = b.latest(`${root}/ports`) as { ports: Array<{ port: string; state: string; device?: string }> };
    expect(ports.ports).toContainEqual(expect.objectContaining({ port: 'usb-medtel_VENT-if00-port0', state: 'identified', device }));

    await sim.close();
    await waitFor(
      'unreachable after unplug',
      () => (b.latest(`${root}/dev/${device}/status`) as { status?: string; reason?: string } | undefined)?.reason?.includes('removed'),
      15_000,
    );
    expect(b.latest(`${root}/dev/${device}/status`)).toMatchObject({ status: 'unreachable' });
    await waitFor('port reported absent', () =>
      (b.latest(`${root}/ports`) as { ports: Array<{ port: string; state: string }> }).ports.some((p) => p.port.includes('VENT') && p.state === 'absent'),
    );

    const linkB = join(watchDir, 'usb-medtel_VENT_other-if00-port0');
    sim = await startVentilatorSimulator({ serial: 'VT-1234', seed: 2, link: { pty: linkB } });
    cleanup.push(() => sim.close());
    await waitFor(
      'the same device id born again on the new port',
      () => (b.latest(`${root}/dev/${device}/birth`)?.discovery as { port?: string } | undefined)?.port === 'usb-medtel_VENT_other-if00-port0',
      30_000,
    );
    await waitFor('connected again', () => b.latest(`${root}/dev/${device}/status`)?.status === 'connected', 15_000);
    // No second device was made for it.
    const births = new Set(b.messages.filter((m) => m.topic.endsWith('/birth')).map((m) => m.topic));
    expect([...births]).toEqual([`${root}/dev/${device}/birth`]);
  });

  it('a configured port is never probed and a port matching an ignore glob is reported ignored', async () => {
    const tmp = tempDir('medtel-pnp-');
    cleanup.push(() => tmp.remove());
    const watchDir = join(tmp.path, 'by-id');
    mkdirSync(watchDir);
    const b = await startRecordingBroker(cleanup);
    const xrayLink = join(watchDir, 'usb-xray-line');
    const sim = await startXraySimulator({ units: [{ unitId: 1, serial: 'XR-1' }], seed: 1, link: { pty: xrayLink } });
    cleanup.push(() => sim.close());
    const file = writeConfig(
      tmp.path,
      b.url,
      watchDir,
      `devices:
  - id: xray-configured
    profile: medtel-mt-xr-80
    connection: { protocol: modbus-rtu, path: "${xrayLink}", unitId: 1 }
`,
      ', ignore: ["usb-lab-*"]',
    );
    symlinkSync('/dev/null', join(watchDir, 'usb-lab-bench'));
    cleanup.push(() => unlinkSync(join(watchDir, 'usb-lab-bench')));
    const agent = new Agent({ config: loadAgentConfig(file), configFile: file });
    await agent.start();
    cleanup.push(() => agent.stop());
    const ports = await waitFor('ports report', () => {
      const p = b.latest(`${root}/ports`) as { ports: Array<{ port: string; state: string; device?: string }> } | undefined;
      return p && p.ports.length === 2 ? p.ports : undefined;
    });
    expect(ports).toContainEqual(expect.objectContaining({ port: 'usb-xray-line', state: 'configured', device: 'xray-configured' }));
    expect(ports).toContainEqual(expect.objectContaining({ port: 'usb-lab-bench', state: 'ignored' }));
    await waitFor('the configured device reads', () => b.latest(`${root}/dev/xray-configured/status`)?.status === 'connected');
    expect(b.messages.some((m) => m.topic.endsWith('/birth') && m.body.discovery)).toBe(false);
  });

  it('medtel-agent devices scan prints what each port would be identified as', async () => {
    const tmp = tempDir('medtel-pnp-');
    cleanup.push(() => tmp.remove());
    const watchDir = join(tmp.path, 'by-id');
    mkdirSync(watchDir);
    const vent = await startVentilatorSimulator({ serial: 'VT-9', seed: 1, link: { pty: join(watchDir, 'usb-vent') } });
    cleanup.push(() => vent.close());
    const xray = await startXraySimulator({ units: [{ unitId: 2, serial: 'XR-77' }], seed: 1, link: { pty: join(watchDir, 'usb-xray') } });
    cleanup.push(() => xray.close());
    const file = writeConfig(tmp.path, 'mqtt://127.0.0.1:1', watchDir);
    const cli = startCli('agent', ['devices', 'scan', '-c', file]);
    cleanup.push(() => void cli.stop());
    expect(await cli.exited()).toBe(0);
    const out = cli.output();
    expect(out).toMatch(/usb-vent: MT-VENT-500 serial VT-9 .*profile medtel-mt-vent-500, 19200 8E1\) -> device mt-vent-500-VT-9/);
    expect(out).toMatch(/usb-xray: MT-XR-80 serial XR-77 .*unit 2\) -> device mt-xr-80-XR-77/);
  }, 60_000);
});
