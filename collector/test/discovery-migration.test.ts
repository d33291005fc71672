import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../dist/store/sqlite/migrations.js';
import { SqliteStore } from '../dist/store/sqlite/sqlite-store.js';
import { tempDir } from '../../test/helpers.js';

/** Migration 10 on a database written by a collector from before plug and play. */
const dir = tempDir();
afterAll(() => dir.remove());

describe('migration 10 (plug and play)', () => {
  it('keeps existing devices, approved, with no discovery info; new discovered births are pending', async () => {
    const file = join(dir.path, 'before.db');
    const old = new Database(file);
    for (const m of MIGRATIONS.filter((m) => m.version <= 9)) old.exec(m.sql);
    old.pragma('user_version = 9');
    old
      .prepare('INSERT INTO devices (id, gateway, site, device, model, serial, first_seen, last_seen, asset_tag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run('gw-1.pump-1', 'gw-1', 'bench', 'pump-1', 'MT-LVP-100', 'S-1', 1, 1, 'BME-1');
    old.close();

    const store = new SqliteStore(file);
    try {
      const check = new Database(file, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
      check.close();
      expect(await store.getDevice('gw-1.pump-1')).toMatchObject({ approval: 'approved', discovery: null, assetTag: 'BME-1', approvalBy: null });
      expect(await store.discovery.pendingCount()).toBe(0);
      await store.apply([
        {
          site: 'bench',
          gateway: 'gw-1',
          receivedAt: Date.now(),
          kind: 'birth',
          message: {
            v: 1,
            seq: 1,
            sentAt: Date.now(),
            device: 'ecg-7',
            type: 'ecg-monitor',
            manufacturer: 'medtel simulated',
            model: 'MT-ECG-3',
            serial: 'E-7',
            protocol: 'serial',
            profile: 'medtel-mt-ecg-3',
            metrics: [],
            discovery: { method: 'listen', port: 'usb-x-if00', settings: '115200 8N1', identifiedAt: 5 },
          },
        },
      ]);
      expect(await store.getDevice('gw-1.ecg-7')).toMatchObject({
        approval: 'pending',
        discovery: { method: 'listen', port: 'usb-x-if00', settings: '115200 8N1', identifiedAt: 5 },
      });
      expect((await store.listDevices({ approval: 'pending', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual(['gw-1.ecg-7']);
    } finally {
      await store.close();
    }
  });
});
