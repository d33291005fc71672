import { describe, expect, it } from 'vitest';
import type { IngestItem, Store } from '../dist/index.js';

/**
 * What every backend must do for plug and play: Store.apply files discovered
 * births, moves and rejected devices; Store.discovery decides and reports.
 * Run for SQLite in discovery-store.test.ts.
 */
export function discoveryContract(name: string, open: () => Promise<{ store: Store; reopen?: () => Promise<Store> }>) {
  const tech = { sub: 'sam', role: 'technician' as const };
  let seq = 0;
  const birth = (gateway: string, device: string, serial: string | undefined, discovered: boolean, receivedAt = 1_000): IngestItem => ({
    site: 'bench',
    gateway,
    receivedAt,
    kind: 'birth',
    message: {
      v: 1,
      seq: ++seq,
      sentAt: 1,
      device,
      type: 'ventilator',
      manufacturer: 'm',
      model: 'MT-VENT-200',
      ...(serial ? { serial } : {}),
      protocol: 'serial',
      profile: 'p',
      metrics: [],
      ...(discovered ? { discovery: { method: 'listen' as const, port: 'usb-a', identifiedAt: 5 } } : {}),
    },
  });
  const data = (gateway: string, device: string, value: number): IngestItem => ({
    site: 'bench',
    gateway,
    receivedAt: 2_000,
    kind: 'data',
    message: { v: 1, seq: ++seq, sentAt: 1, device, clock: 'agent', readings: [{ metric: 'rate', t: 2_000 + seq, value, quality: 'good' }] },
  });
  const binding = { assetTag: 'BME-1', location: 'ICU', department: 'ICU' };

  describe(`plug and play contract: ${name}`, () => {
    it('configured births are approved, discovered ones pending; the decision is not undone by a later birth', async () => {
      const { store } = await open();
      await store.apply([birth('gw-1', 'cfg', 'C1', false), birth('gw-1', 'disc', 'D1', true)]);
      expect(await store.getDevice('gw-1.cfg')).toMatchObject({ approval: 'approved', discovery: null });
      expect(await store.getDevice('gw-1.disc')).toMatchObject({ approval: 'pending', discovery: { method: 'listen', port: 'usb-a', identifiedAt: 5 } });
      await store.apply([birth('gw-1', 'disc', 'D1', false)]);
      expect((await store.listDevices({ approval: 'pending', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual(['gw-1.disc']);
      expect(await store.discovery.pendingCount()).toBe(1);
      await store.close();
    });

    it('approves at the expected version with an audit entry; refuses approving twice and rejecting an approved device', async () => {
      const { store } = await open();
      await store.apply([birth('gw-1', 'a', 'A1', true)]);
      expect(await store.discovery.approve('gw-1.a', binding, 9, tech)).toEqual({ ok: false, reason: 'stale', current: 1 });
      expect(await store.discovery.approve('gw-1.nope', binding, 1, tech)).toEqual({ ok: false, reason: 'not_found' });
      const ok = await store.discovery.approve('gw-1.a', { ...binding, note: 'n' }, 1, tech);
      expect(ok).toMatchObject({ ok: true, device: { approval: 'approved', assetTag: 'BME-1', approvalBy: 'sam', approvalNote: 'n', version: 2 } });
      expect(await store.discovery.approve('gw-1.a', binding, 2, tech)).toMatchObject({ ok: false, reason: 'conflict' });
      expect(await store.discovery.reject('gw-1.a', 'x', 2, tech)).toMatchObject({ ok: false, reason: 'conflict' });
      expect((await store.audit.list({ objectId: 'gw-1.a' })).items.map((e) => [e.action, e.actor, e.reason])).toEqual([['device:approve', 'sam', 'n']]);
      await store.close();
    });

    it("a rejected device's data is acknowledged, not stored, also after reopening; approved later, it is stored again", async () => {
      const { store, reopen } = await open();
      await store.apply([birth('gw-1', 'r', 'R1', true), data('gw-1', 'r', 1)]);
      expect(await store.discovery.reject('gw-1.r', 'not ours', 1, tech)).toMatchObject({ ok: true, device: { approval: 'rejected' } });
      expect(await store.apply([data('gw-1', 'r', 2)])).toEqual(['rejected_device']);
      let s = store;
      if (reopen) {
        await store.close();
        s = await reopen();
      }
      expect(await s.apply([data('gw-1', 'r', 3)])).toEqual(['rejected_device']);
      expect((await s.queryTelemetry('gw-1.r', { limit: 10 })).map((r) => r.value)).toEqual([1]);
      await s.discovery.approve('gw-1.r', binding, 2, tech);
      expect(await s.apply([data('gw-1', 'r', 4)])).toEqual(['stored']);
      expect((await s.queryTelemetry('gw-1.r', { limit: 10 })).map((r) => r.value)).toEqual([4, 1]);
      await s.close();
    });

    it('a device born on another gateway with the same serial keeps its entry; its data is filed there, also after reopening', async () => {
      const { store, reopen } = await open();
      await store.apply([birth('gw-1', 'm', 'M1', true)]);
      await store.discovery.approve('gw-1.m', binding, 1, tech);
      const moved = birth('gw-2', 'm2', 'M1', true);
      const d = data('gw-2', 'm2', 7);
      await store.apply([moved, d]);
      expect([moved.registryId, d.registryId]).toEqual(['gw-1.m', 'gw-1.m']);
      expect(await store.getDevice('gw-1.m')).toMatchObject({ gateway: 'gw-2', device: 'm2', approval: 'approved', assetTag: 'BME-1' });
      expect(await store.getDevice('gw-2.m2')).toBeUndefined();
      expect((await store.audit.list({ objectId: 'gw-1.m', action: 'device:move' })).items[0]).toMatchObject({
        role: 'system',
        oldValue: { gateway: 'gw-1', device: 'm' },
        newValue: { gateway: 'gw-2', device: 'm2' },
      });
      // No serial: no match, an entry of its own.
      await store.apply([birth('gw-2', 'x', undefined, true), birth('gw-3', 'x', undefined, true)]);
      expect(await store.getDevice('gw-3.x')).toMatchObject({ gateway: 'gw-3' });
      let s = store;
      if (reopen) {
        await store.close();
        s = await reopen();
      }
      await s.apply([data('gw-2', 'm2', 8)]);
      expect((await s.queryTelemetry('gw-1.m', { limit: 10 })).map((r) => r.value)).toEqual([8, 7]);
      // Back on its first gateway: the entry follows again.
      await s.apply([birth('gw-1', 'm', 'M1', true)]);
      expect(await s.getDevice('gw-1.m')).toMatchObject({ gateway: 'gw-1', device: 'm' });
      await s.close();
    });

    it('keeps the latest port report per gateway by time received, and counts pending devices and unidentified ports', async () => {
      const { store } = await open();
      const ports = (receivedAt: number, state: 'unidentified' | 'absent'): IngestItem => ({
        site: 'bench',
        gateway: 'gw-1',
        receivedAt,
        kind: 'ports',
        message: { v: 1, sentAt: receivedAt, ports: [{ port: 'usb-b', state, tried: [{ profile: 'p', outcome: 'no-answer' }], since: 1 }] },
      });
      await store.apply([ports(2_000, 'unidentified'), ports(1_000, 'absent'), birth('gw-1', 'p', 'P1', true)]);
      expect(await store.discovery.ports('gw-1')).toMatchObject({ gateway: 'gw-1', receivedAt: 2_000, ports: [{ port: 'usb-b', state: 'unidentified' }] });
      expect(await store.discovery.ports('gw-9')).toBeUndefined();
      expect((await store.discovery.summary()).get('gw-1')).toEqual({ pendingDevices: 1, unidentifiedPorts: 1 });
      await store.close();
    });
  });
}
