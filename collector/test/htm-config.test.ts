import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCollectorConfig } from '../dist/index.js';
import { tempDir } from '../../test/helpers.js';

const dir = tempDir();
afterAll(() => dir.remove());
const load = (yaml: string) => {
  const file = join(dir.path, 'collector.yaml');
  writeFileSync(file, yaml);
  return () => loadCollectorConfig(file);
};

describe('htm config', () => {
  it('defaults to UTC and the TJC tolerances', () => {
    expect(loadCollectorConfig().htm).toEqual({ timeZone: 'UTC', onTimeToleranceDays: { quarterly: 10, semiannual: 20, annual: 30, multiYear: 45 } });
  });

  it('takes a site time zone and tolerances', () => {
    const config = load('htm:\n  timeZone: Europe/Berlin\n  onTimeToleranceDays:\n    annual: 14\n')();
    expect(config.htm).toEqual({ timeZone: 'Europe/Berlin', onTimeToleranceDays: { quarterly: 10, semiannual: 20, annual: 14, multiYear: 45 } });
  });

  it('names the field when a value is wrong', () => {
    expect(load('htm:\n  timeZone: Mars/Olympus\n')).toThrow(/htm\.timeZone: found "Mars\/Olympus", expected an IANA time zone name/);
    expect(load('htm:\n  onTimeToleranceDays:\n    quarterly: -1\n')).toThrow(/htm\.onTimeToleranceDays\.quarterly/);
    expect(load('htm:\n  onTimeToleranceDays:\n    weekly: 2\n')).toThrow(/htm\.onTimeToleranceDays\.weekly: unknown field/);
  });
});
