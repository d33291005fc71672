import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES_DIR, loadAgentConfig, loadProfile, planDevices, ProfileTransform } from '../dist/index.js';
import { tempDir } from '../../test/helpers.js';

/** Profiles mark patient fields `phi:`; the transform keeps them out of readings and hands them over as a record. */
const dir = tempDir('medtel-profile-phi-');
afterAll(() => dir.remove());

function profileFile(name: string, metrics: string, protocols = 'modbus'): string {
  const file = join(dir.path, `${name}.yaml`);
  writeFileSync(file, [`profile: ${name}`, 'type: infusion-pump', 'manufacturer: x', 'model: y', `protocols: [${protocols}]`, 'metrics:', metrics].join('\n'));
  return file;
}

describe('phi: on profile metrics', () => {
  it('patient fields are not readings; the record comes out of patient(), null when blank, undefined when absent', () => {
    const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-lvp-100.yaml'));
    const t = new ProfileTransform(profile, 'pump-1');
    const values = new Map<string, number | string>([
      ['rate', 125],
      ['patient_mrn', 'SYN1 '],
      ['patient_name', 'DOE^JANE'],
      ['patient_dob', ''],
    ]);
    const sample = { t: 1, clock: 'agent' as const, values };
    expect(t.readings(sample).map((r) => r.metric)).toEqual(['rate']);
    expect(t.patient(sample)).toEqual({ mrn: 'SYN1', name: 'DOE^JANE' });
    expect(
      t.patient({
        ...sample,
        values: new Map([
          ['patient_mrn', ''],
          ['patient_name', ''],
        ]),
      }),
    ).toBeNull();
    expect(t.patient({ ...sample, values: new Map([['rate', 1]]) })).toBeUndefined();
  });

  it('a profile marking patient fields must mark the MRN, each field once', () => {
    const noMrn = profileFile('no-mrn', '  - id: n\n    read: { table: holding, address: 0, type: string, length: 4 }\n    phi: name');
    expect(() => loadProfile(noMrn)).toThrow(/none is "phi: mrn"/);
    const twice = profileFile(
      'twice',
      '  - id: a\n    read: { table: holding, address: 0, type: string, length: 4 }\n    phi: mrn\n  - id: b\n    read: { table: holding, address: 4, type: string, length: 4 }\n    phi: mrn',
    );
    expect(() => loadProfile(twice)).toThrow(/marked on two metrics/);
    const bad = profileFile('bad', '  - id: a\n    read: { table: holding, address: 0, type: string, length: 4 }\n    phi: address');
    expect(() => loadProfile(bad)).toThrow(/metrics\/0\/phi|metrics\[0\]\.phi/);
  });

  it('a serial read of patient data without phi: is refused (it would be a plain reading)', () => {
    const file = profileFile('vent-leaky', '  - id: who\n    read: { request: patient, code: "50" }', 'medibus');
    const config = join(dir.path, 'agent.yaml');
    writeFileSync(
      config,
      ['gateway: { id: g, site: s }', 'devices:', '  - id: v', `    profile: ${file}`, '    connection: { protocol: medibus, path: "tcp://127.0.0.1:1" }'].join(
        '\n',
      ),
    );
    expect(() => planDevices(loadAgentConfig(config), config)).toThrow(/reads patient data; mark it phi/);
  });
});
