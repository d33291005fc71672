import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { prepareOpcua } from '../dist/drivers/opcua/config.js';

const where = { configFile: 'agent.yaml', field: 'devices[0].connection' };
const mri = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-mr-15.yaml'));
const base = { protocol: 'opcua', endpoint: 'opc.tcp://mri-3.radiology:4840/medtel' };

describe('OPC UA connection and profile addressing', () => {
  it('reads browse paths, sampling intervals and deadbands from the profile', () => {
    const p = prepareOpcua(base, mri, where, '/etc/medtel');
    expect(p.namespace).toBe('urn:medtel:sim:mri');
    expect(p.metrics.find((m) => m.key === 'helium_level')).toEqual({
      key: 'helium_level',
      path: ['Device', 'Magnet', 'HeliumLevel'],
      samplingIntervalMs: 500,
      deadband: { type: 'absolute', value: 0.005 },
    });
    // Default sampling from the profile's driver section; publishing as fast as the fastest item.
    expect(p.metrics.find((m) => m.key === 'scan_state')?.samplingIntervalMs).toBe(1000);
    expect(p.publishingIntervalMs).toBe(500);
    expect(p.connection.security).toEqual({ mode: 'None', policy: 'None' });
    expect(p.connection.demoAcceptAnyServerCertificate).toBe(false);
    expect([...p.diagnostics.keys()]).toEqual(['self_test', 'shim_calibration']);
  });

  it('refuses a security mode without a matching policy, naming the field', () => {
    expect(() => prepareOpcua({ ...base, security: { mode: 'SignAndEncrypt', policy: 'None' } }, mri, where, '.')).toThrow(
      'agent.yaml: devices[0].connection.security: mode SignAndEncrypt with policy None is not a valid pair',
    );
    expect(() => prepareOpcua({ ...base, security: { mode: 'Sign', policy: 'Basic128Rsa15' } }, mri, where, '.')).toThrow(
      /devices\[0\]\.connection\.security\.policy/,
    );
  });

  it('refuses an endpoint that is not opc.tcp and a profile of another protocol', () => {
    expect(() => prepareOpcua({ ...base, endpoint: 'http://mri:4840' }, mri, where, '.')).toThrow(/devices\[0\]\.connection\.endpoint/);
    const pump = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-lvp-100.yaml'));
    expect(() => prepareOpcua(base, pump, where, '.')).toThrow(/cannot be read over OPC UA/);
  });

  it('does not load node-opcua until an OPC UA session starts (it costs tens of MB of RSS)', () => {
    const agentJs = fileURLToPath(new URL('../dist/agent.js', import.meta.url));
    const script = `import { createRequire } from 'node:module';
      await import(${JSON.stringify(agentJs)});
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('node-opcua'));
      process.stdout.write(String(loaded.length));`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script]).toString()).toBe('0');
  });
});
