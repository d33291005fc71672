import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { ecgStreamDriver } from '../dist/drivers/ecg-stream/index.js';
import { freePort } from '../../test/helpers.js';
import { driverContext, serialRecorder } from './serial-recorder.js';

/** The streamed ECG protocol is listen-only: no test can be offered, and a profile that defines one is refused. */
const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-ecg-12.yaml'));
const where = { configFile: 'agent.yaml', field: 'devices[0].connection' };

describe('ECG stream: no diagnostics', () => {
  it('the session offers no diagnose hook (so the birth lists no tests)', async () => {
    const path = `tcp://127.0.0.1:${await freePort()}`;
    const connection = ecgStreamDriver.prepare({ protocol: 'medtel-ecg', path }, profile, where);
    const { context } = driverContext();
    const session = ecgStreamDriver.start({ id: 'ecg-1', connection, profile, pollIntervalMs: 1000, timeoutMs: 1000 }, serialRecorder().sink as never, context);
    try {
      expect(session.diagnose).toBeUndefined();
    } finally {
      await session.stop();
    }
  });

  it('a profile with a diagnostics section is refused at start, naming the field', () => {
    const withTest = { ...profile, diagnostics: [{ name: 'lead_check', description: 'd', changesState: false, timeout: '5s', run: {} }] };
    expect(() => ecgStreamDriver.prepare({ protocol: 'medtel-ecg', path: '/dev/ttyS0' }, withTest as never, where)).toThrow(
      /medtel-mt-ecg-12\.yaml: diagnostics: the medtel-ecg stream is listen-only/,
    );
  });
});
