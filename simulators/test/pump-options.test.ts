import { describe, expect, it } from 'vitest';
import { parseHostPort, parsePumpCliFlags, UsageError } from '../dist/index.js';

const base = { modbusTcp: '127.0.0.1:5020' };

function usage(flags: Record<string, unknown>): string {
  try {
    parsePumpCliFlags(flags);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('medtel-sim pump flags', () => {
  it('applies the documented defaults', () => {
    const { simulator, logLevel } = parsePumpCliFlags(base);
    expect(logLevel).toBe('info');
    expect(simulator).toEqual({
      host: '127.0.0.1',
      port: 5020,
      unitId: 1,
      serial: 'PUMP-0001',
      drugName: 'Heparin',
      concentrationMgPerMl: 100,
      rateMlPerH: 125,
      vtbiMl: 1000,
      running: true,
    });
  });

  it('maps scenarios and durations to seconds', () => {
    const { simulator } = parsePumpCliFlags({
      ...base,
      stopped: true,
      scenario: 'occlusion',
      occlusionAfter: '2500ms',
      occlusionDuration: '1m',
      seed: '7',
    });
    expect(simulator).toMatchObject({ running: false, seed: 7, scenario: { kind: 'occlusion', occlusionAfterS: 2.5, occlusionDurationS: 60 } });
    expect(parsePumpCliFlags({ ...base, scenario: 'silent', silentAfter: '5s', silentFor: '10s' }).simulator.scenario).toEqual({
      kind: 'silent',
      silentAfterS: 5,
      silentForS: 10,
    });
  });

  it('names the flag, the value found and what was expected', () => {
    expect(usage({ ...base, rate: 'abc' })).toBe('--rate: found "abc", expected a number between 0.1 and 1200');
    expect(usage({ ...base, rate: '1201' })).toMatch(/^--rate: found "1201"/);
    expect(usage({ ...base, rate: '0x10' })).toMatch(/^--rate:/);
    expect(usage({ ...base, vtbi: '0' })).toMatch(/^--vtbi: found "0", expected a number between 1 and 9999$/);
    expect(usage({ ...base, concentration: '' })).toMatch(/^--concentration:/);
    expect(usage({ ...base, unitId: '0' })).toMatch(/^--unit-id: found "0", expected an integer between 1 and 247$/);
    expect(usage({ ...base, unitId: '1.5' })).toMatch(/^--unit-id:/);
    expect(usage({ ...base, seed: '-1' })).toMatch(/^--seed:/);
    expect(usage({ ...base, serial: 'x'.repeat(17) })).toMatch(/^--serial:.*16 printable ASCII/);
    expect(usage({ ...base, drug: 'Morphin€' })).toMatch(/^--drug:/);
    expect(usage({ ...base, scenario: 'fire' })).toBe('--scenario: found "fire", expected one of occlusion, silent, selftest-fail');
    expect(usage({ ...base, scenario: 'silent', silentFor: 'soon' })).toMatch(/^--silent-for: found "soon", expected a duration/);
    expect(usage({ ...base, occlusionAfter: '5s' })).toBe('--occlusion-after: only applies with --scenario occlusion');
    expect(usage({ ...base, logLevel: 'loud' })).toMatch(/^--log-level: found "loud", expected one of fatal/);
    expect(usage({ rate: 'abc' })).toMatch(/^--rate:/); // a bad value is reported before the missing address
    expect(usage({})).toMatch(/^--modbus-tcp: required/);
  });

  it('parses HOST:PORT and refuses port 0', () => {
    expect(parseHostPort('--x', '0.0.0.0:502')).toEqual({ host: '0.0.0.0', port: 502 });
    expect(parseHostPort('--x', 'localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(parseHostPort('--x', '[::1]:5020')).toEqual({ host: '::1', port: 5020 });
    for (const bad of ['127.0.0.1:0', '127.0.0.1', ':5020', '127.0.0.1:65536', '::1:5020', 'host:port']) {
      expect(() => parseHostPort('--modbus-tcp', bad)).toThrow(/^--modbus-tcp: found/);
    }
  });
});
