import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES_DIR, ProfileTransform, loadProfile } from '../dist/index.js';

const files = readdirSync(BUILTIN_PROFILES_DIR).filter((f) => f.endsWith('.yaml'));

describe('profile catalogue', () => {
  it('has profiles', () => expect(files.length).toBeGreaterThan(0));

  it.each(files)('%s loads, names itself after its file, and resolves every code', (file) => {
    const profile = loadProfile(join(BUILTIN_PROFILES_DIR, file));
    expect(`${profile.profile}.yaml`).toBe(file);
    for (const metric of profile.metrics) {
      const d = profile.descriptors.get(metric.id);
      if (metric.mdc) expect(d?.code, metric.id).toBeGreaterThan(0);
    }
  });
});

describe('pump profile transform', () => {
  const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-lvp-100.yaml'));

  it('maps raw values to coded readings with units', () => {
    const t = new ProfileTransform(profile, 'pump-1');
    const values = new Map<string, number | string>([
      ['state', 1],
      ['rate', 124.99999237060547],
      ['line_pressure', 61],
      ['drug_name', 'Heparin'],
    ]);
    const readings = t.readings({ t: 1000, clock: 'agent', values });
    expect(readings).toContainEqual({
      metric: 'rate',
      code: 157784,
      refId: 'MDC_FLOW_FLUID_PUMP',
      unit: 'mL/h',
      unitCode: 265266,
      t: 1000,
      value: 125,
      quality: 'good',
    });
    expect(readings).toContainEqual(expect.objectContaining({ metric: 'state', value: 'running' }));
    expect(readings).toContainEqual(expect.objectContaining({ metric: 'line_pressure', code: 157836, unit: 'mm[Hg]', value: 61 }));
    expect(readings).toContainEqual({ metric: 'drug_name', t: 1000, value: 'Heparin', quality: 'good' });
  });

  it('marks a metric whose read failed as bad with no value', () => {
    const t = new ProfileTransform(profile, 'pump-1');
    const readings = t.readings({ t: 1, clock: 'agent', values: new Map(), failed: new Map([['rate', 'Modbus exception 2']]) });
    expect(readings).toEqual([expect.objectContaining({ metric: 'rate', value: null, quality: 'bad' })]);
  });

  it('emits an alarm start once, and its end when the bit clears', () => {
    const t = new ProfileTransform(profile, 'pump-1');
    const sample = (flags: number) => ({ t: flags, clock: 'agent' as const, values: new Map([['alarm_flags', flags]]) });
    expect(t.alarms(sample(0))).toEqual([]);
    expect(t.alarms(sample(1))).toEqual([expect.objectContaining({ alarm: 'occlusion', code: 196940, phase: 'start', state: 'active', priority: 'high' })]);
    expect(t.alarms(sample(1))).toEqual([]);
    expect(t.alarms(sample(2)).map((a) => `${a.alarm}:${a.phase}`)).toEqual(['occlusion:end', 'vtbi_complete:start']);
  });
});
