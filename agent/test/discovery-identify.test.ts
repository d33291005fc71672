import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSimSerialLink, startEcgSimulator, startVentilatorSimulator, startXraySimulator } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { identifyPort } from '../dist/discovery/identify-port.js';
import { tempDir } from '../../test/helpers.js';

/**
 * Plug-and-play identification against the real simulators over socat pty
 * pairs, and against a silent and a babbling port whose far end records every
 * byte the probers send.
 */
const profiles = readdirSync(BUILTIN_PROFILES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => loadProfile(join(BUILTIN_PROFILES_DIR, f)));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function dir() {
  const d = tempDir('medtel-discover-');
  cleanup.push(() => d.remove());
  return d.path;
}

/** Splits what a prober sent into MEDIBUS commands (ESC .. CR) and Modbus RTU requests (8 bytes, CRC checked). */
function requestsIn(bytes: Buffer): { medibus: number[]; modbusFunctions: number[]; unknown: number } {
  const medibus: number[] = [];
  const modbusFunctions: number[] = [];
  let unknown = 0;
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] === 0x1b) {
      const end = bytes.indexOf(0x0d, i);
      medibus.push(bytes[i + 1] as number);
      i = end < 0 ? bytes.length : end + 1;
    } else if (i + 8 <= bytes.length && crcOk(bytes.subarray(i, i + 8))) {
      modbusFunctions.push(bytes[i + 1] as number);
      i += 8;
    } else {
      unknown += 1;
      i += 1;
    }
  }
  return { medibus, modbusFunctions, unknown };
}

function crcOk(frame: Buffer): boolean {
  let crc = 0xffff;
  for (const b of frame.subarray(0, 6)) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  return frame.readUInt16LE(6) === crc;
}

describe('plug-and-play identification', () => {
  it('identifies the ventilator by its device-id answer (model, serial, firmware, 19200 8E1)', async () => {
    const link = join(dir(), 'usb-vent');
    const sim = await startVentilatorSimulator({ serial: 'VT-7788', seed: 1, link: { pty: link } });
    cleanup.push(() => sim.close());
    const { identified, tried } = await identifyPort({ port: 'usb-vent', path: link }, profiles);
    expect(identified?.profile.profile).toBe('medtel-mt-vent-500');
    expect(identified?.identity).toEqual({ model: 'MT-VENT-500', firmware: '02.13.0', serial: 'VT-7788' });
    expect(identified?.settings).toBe('19200 8E1');
    expect(identified?.method).toBe('probe');
    // Listen-only first: the ECG listener heard nothing, then the ventilator's request matched.
    expect(tried.map((t) => [t.profile, t.outcome])).toEqual([
      ['medtel-mt-ecg-12', 'no-answer'],
      ['medtel-mt-vent-500', 'matched'],
    ]);
  });

  it('identifies the ECG monitor by listening only', async () => {
    const link = join(dir(), 'usb-ecg');
    const sim = await startEcgSimulator({ serial: 'ECG-55', leads: 3, rateHz: 250, heartRate: 70, seed: 2, link: { pty: link } });
    cleanup.push(() => sim.close());
    const { identified } = await identifyPort({ port: 'usb-ecg', path: link }, profiles);
    expect(identified?.profile.profile).toBe('medtel-mt-ecg-12');
    expect(identified?.identity.serial).toBe('ECG-55');
    expect(identified?.identity.model).toBe('MT-ECG-12');
    expect(identified?.method).toBe('listen');
  });

  it('identifies an X-ray generator on Modbus RTU, with its unit id', async () => {
    const link = join(dir(), 'usb-xray');
    const sim = await startXraySimulator({ units: [{ unitId: 3, serial: 'XR-0042' }], seed: 3, link: { pty: link } });
    cleanup.push(() => sim.close());
    const { identified, tried } = await identifyPort({ port: 'usb-xray', path: link }, profiles);
    expect(identified?.profile.profile).toBe('medtel-mt-xr-80');
    expect(identified?.identity.serial).toBe('XR-0042');
    expect(identified?.unitId).toBe(3);
    expect(tried.at(-1)).toMatchObject({ profile: 'medtel-mt-xr-80', settings: '9600 8E1', unitIds: '1-4', outcome: 'matched' });
  });

  it('a silent port ends unidentified; everything the probers sent was a read (MEDIBUS device-id, Modbus 03/04)', async () => {
    const link = join(dir(), 'usb-silent');
    const device = await openSimSerialLink({ pty: link });
    cleanup.push(() => device.close());
    const received: Buffer[] = [];
    device.onData((b) => received.push(b));
    const { identified, tried } = await identifyPort({ port: 'usb-silent', path: link }, profiles);
    expect(identified).toBeUndefined();
    expect(tried).toEqual([
      { profile: 'medtel-mt-ecg-12', settings: '115200 8N1', outcome: 'no-answer' },
      { profile: 'medtel-mt-vent-500', settings: '19200 8E1', outcome: 'no-answer' },
      { profile: 'medtel-mt-vent-500', settings: '19200 8N1', outcome: 'no-answer' },
      { profile: 'medtel-mt-xr-80', settings: '9600 8E1', unitIds: '1-4', outcome: 'no-answer' },
      { profile: 'medtel-mt-xr-80', settings: '19200 8E1', unitIds: '1-4', outcome: 'no-answer' },
    ]);
    const sent = requestsIn(Buffer.concat(received));
    expect(sent.unknown).toBe(0);
    // Two device-id requests (one retry) per line setting, nothing else.
    expect(sent.medibus).toEqual([0x52, 0x52, 0x52, 0x52]);
    // Unanswered units: one read each (the first identity block), four units, two line settings; reads only.
    expect(sent.modbusFunctions.length).toBe(8);
    for (const fn of sent.modbusFunctions) expect([3, 4]).toContain(fn);
  });

  it('a port spewing garbage ends unidentified, and the report holds no received bytes', async () => {
    const link = join(dir(), 'usb-noise');
    const device = await openSimSerialLink({ pty: link });
    cleanup.push(() => device.close());
    const received: Buffer[] = [];
    device.onData((b) => received.push(b));
    // Includes frame start bytes of every protocol (0xA5, ESC, SOH, unit ids), so parsers are really tried.
    const noise = Buffer.from('a5010203041b52015a4d41524b45520d0103ff00ff', 'hex');
    const timer = setInterval(() => device.write(Buffer.concat([noise, Buffer.from('PATIENT-DOE-JOHN')])), 10);
    cleanup.push(() => clearInterval(timer));
    const { identified, tried } = await identifyPort({ port: 'usb-noise', path: link }, profiles);
    expect(identified).toBeUndefined();
    expect(tried.length).toBe(5);
    expect(JSON.stringify(tried)).not.toMatch(/PATIENT|DOE/);
    for (const t of tried) expect(Object.keys(t).sort()).toEqual(expect.arrayContaining(['outcome', 'profile', 'settings']));
    const sent = requestsIn(Buffer.concat(received));
    for (const cmd of sent.medibus) expect(cmd).toBe(0x52);
    for (const fn of sent.modbusFunctions) expect([3, 4]).toContain(fn);
  });

  it('a profile whose identify step is not a read is refused at load, naming the field', () => {
    const file = join(dir(), 'medtel-mt-vent-500.yaml');
    const text = readFileSync(join(BUILTIN_PROFILES_DIR, 'medtel-mt-vent-500.yaml'), 'utf8');
    writeFileSync(file, text.replace('request: device-id', 'request: icc'));
    expect(() => loadProfile(file)).toThrow(/identify\.request: found "icc", expected one of device-id \(probing may only send read-only requests\)/);
  });
});
