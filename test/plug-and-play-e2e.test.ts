import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSimSerialLink } from '@medtel/simulators';
import { type Proc, startCli, tempDir, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * Plug and play as a clinical engineer meets it, every part a separate process:
 * a collector, an agent with no device in its config watching a directory of
 * serial links, and simulators whose pty links appear in that directory while
 * the agent runs. What is checked is what the registry API shows.
 */
const GATEWAY = 'gw-pnp';
const DEVICE = `${GATEWAY}.mt-vent-500-VT-4711`;

interface DeviceView {
  id: string;
  model: string;
  serial: string;
  approval: string;
  connectivity: string;
  version: number;
  assetTag?: string;
  discovery?: { method: string; port: string; settings?: string };
}
interface PortView {
  port: string;
  state: string;
  device: string | null;
  tried: Array<{ profile: string; settings?: string; outcome: string }>;
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function ventilatorOn(link: string): Proc {
  const sim = startCli('simulators', ['ventilator', '--pty', link, '--serial', 'VT-4711', '--seed', '7']);
  cleanup.push(async () => {
    await sim.stop();
  });
  return sim;
}

/** Collector + an agent with no device configured, watching a fresh directory of serial links (`watchDir`). */
async function startPlugAndPlayStack(): Promise<{ stack: Stack; watchDir: string }> {
  const dir = tempDir('medtel-pnp-e2e-');
  const watchDir = join(dir.path, 'by-id');
  mkdirSync(watchDir);
  const stack = await startStack({
    gateway: GATEWAY,
    site: 'icu',
    devices: [],
    dir,
    agent: { discovery: { serial: { watchDir, rescanInterval: '1s', settle: '200ms' } } },
  });
  // Stopped last: the simulators and links the test adds are cleaned up first.
  cleanup.unshift(() => stack.stop());
  return { stack, watchDir };
}

describe('plug and play, end to end', () => {
  it('a ventilator plugged into the gateway appears in the registry awaiting approval, is approved, unplugged and re-plugged elsewhere', async () => {
    const { stack, watchDir } = await startPlugAndPlayStack();

    // Plugged in while the agent runs: no restart, no config edit.
    const first = ventilatorOn(join(watchDir, 'usb-FTDI_FT232R_VT4711-if00-port0'));
    await first.waitForLine(/simulator listening/);
    const pending = await waitFor(
      'the ventilator listed as awaiting approval',
      async () => (await stack?.api<{ items: DeviceView[] }>('/api/v1/devices?approval=pending'))?.body.items.find((d) => d.id === DEVICE),
      45_000,
    );
    expect(pending).toMatchObject({ model: 'MT-VENT-500', serial: 'VT-4711', approval: 'pending' });
    expect(pending.discovery).toMatchObject({ method: 'probe', port: 'usb-FTDI_FT232R_VT4711-if00-port0', settings: '19200 8E1' });

    // Its readings flow and are kept, flagged as coming from a device nobody approved yet.
    const telemetry = await waitFor('readings from the discovered ventilator', async () => {
      const r = await stack?.api<{ approval: string; readings: unknown[] }>(`/api/v1/devices/${DEVICE}/telemetry?limit=5`);
      return r?.body.readings?.length ? r.body : undefined;
    });
    expect(telemetry.approval).toBe('pending');

    // A viewer cannot approve; a technician can, binding it to an asset, and the audit trail says who.
    const approval = { assetTag: 'BME-04711', location: 'ICU bed 4', department: 'Intensive care', note: 'delivered today' };
    const post = (token: string, version: number) =>
      fetch(`http://127.0.0.1:${stack?.ports.http}/api/v1/devices/${DEVICE}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': `"${version}"` },
        body: JSON.stringify(approval),
      });
    expect((await post(await stack.tokenFor('viewer'), pending.version)).status).toBe(403);
    const approved = await post(await stack.tokenFor('technician', 'alice'), pending.version);
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ approval: 'approved', assetTag: 'BME-04711' });
    const admin = await stack.tokenFor('admin');
    const audit = await fetch(`http://127.0.0.1:${stack.ports.http}/api/v1/audit?objectId=${DEVICE}&action=device:approve`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const entries = ((await audit.json()) as { items: Array<{ actor: string; action: string }> }).items;
    expect(entries).toEqual([expect.objectContaining({ actor: 'alice', action: 'device:approve' })]);

    // Unplugged: the registry shows it unreachable.
    await first.stop();
    await waitFor(
      'unreachable after the cable is pulled',
      async () => (await stack?.api<DeviceView>(`/api/v1/devices/${DEVICE}`))?.body.connectivity === 'unreachable',
      30_000,
    );

    // Plugged into another adapter (another link name): the same registry entry, still approved.
    const second = ventilatorOn(join(watchDir, 'usb-Prolific_PL2303_port3-if00-port0'));
    await second.waitForLine(/simulator listening/);
    const back = await waitFor(
      'the same entry connected on the new port',
      async () => {
        const d = (await stack?.api<DeviceView>(`/api/v1/devices/${DEVICE}`))?.body;
        return d?.connectivity === 'connected' && d.discovery?.port === 'usb-Prolific_PL2303_port3-if00-port0' ? d : undefined;
      },
      45_000,
    );
    expect(back).toMatchObject({ approval: 'approved', assetTag: 'BME-04711' });
    const all = (await stack.api<{ items: DeviceView[] }>('/api/v1/devices')).body.items;
    expect(all.map((d) => d.id)).toEqual([DEVICE]);
  }, 180_000);

  it('a port with garbage on it is reported unidentified, with what was tried and never the bytes received', async () => {
    const { stack, watchDir } = await startPlugAndPlayStack();
    // Something that babbles a recognisable text: if any of it reached the collector, the test would find it.
    const marker = 'DOE^JANE-MRN-998877';
    const link = await openSimSerialLink({ pty: join(watchDir, 'usb-unknown-device-if00') });
    cleanup.push(() => link.close());
    const babble = setInterval(() => link.write(Buffer.from(`${marker}\r\n`)), 50);
    cleanup.push(() => clearInterval(babble));

    const port = await waitFor(
      'the port reported unidentified',
      async () => {
        const r = await stack?.api<{ ports: PortView[] }>(`/api/v1/gateways/${GATEWAY}/ports`);
        return r?.body.ports.find((p) => p.port === 'usb-unknown-device-if00' && p.state === 'unidentified');
      },
      90_000,
    );
    expect(port.device).toBeNull();
    expect(port.tried.map((t) => t.profile)).toEqual(expect.arrayContaining(['medtel-mt-ecg-12', 'medtel-mt-vent-500', 'medtel-mt-xr-80']));
    expect(port.tried.some((t) => t.settings === '19200 8E1')).toBe(true);
    const raw = JSON.stringify((await stack.api(`/api/v1/gateways/${GATEWAY}/ports`)).body);
    expect(raw).not.toContain('DOE');
    expect(stack.agent.output()).not.toContain('DOE');
    expect((await stack.api<{ items: unknown[] }>('/api/v1/devices')).body.items).toEqual([]);
  }, 150_000);
});
