import { describe, expect, it } from 'vitest';
import type { IngestItem, Store } from '../dist/index.js';

/**
 * The behaviour every Store backend must have. SQLite runs it today
 * (sqlite-store.test.ts); a PostgreSQL store will run the same suite.
 */
export function storeContract(name: string, open: () => Promise<{ store: Store; reopen?: () => Promise<Store> }>) {
  const origin = { site: 'bench', gateway: 'gw-1', receivedAt: 1_000 };
  const reading = (t: number, value: number | string | boolean | null, metric = 'rate') => ({
    metric,
    code: 157784,
    refId: 'MDC_FLOW_FLUID_PUMP',
    unit: 'mL/h',
    unitCode: 265266,
    t,
    value,
    quality: value === null ? ('bad' as const) : ('good' as const),
  });
  const data = (seq: number, readings: ReturnType<typeof reading>[], device = 'pump-1', gateway = 'gw-1'): IngestItem => ({
    ...origin,
    gateway,
    kind: 'data',
    message: { v: 1, seq, sentAt: 1, device, clock: 'agent', readings },
  });
  const birth = (seq: number, serial = 'SN-1'): IngestItem => ({
    ...origin,
    kind: 'birth',
    message: {
      v: 1,
      seq,
      sentAt: 1,
      device: 'pump-1',
      type: 'infusion-pump',
      deviceCode: 69985,
      manufacturer: 'm',
      model: 'MT-LVP-100',
      serial,
      firmware: '1.0',
      protocol: 'modbus-tcp',
      profile: 'p',
      metrics: [{ metric: 'rate', code: 157784 }],
    },
  });

  describe(`Store contract: ${name}`, () => {
    it('stores data and serves it newest first with codes, units and typed values', async () => {
      const { store } = await open();
      await store.apply([
        birth(1),
        data(2, [reading(100, 125), reading(100, 'running', 'state'), reading(100, true, 'on_mains')]),
        data(3, [reading(200, 126), reading(200, null)]),
      ]);
      const all = await store.queryTelemetry('gw-1.pump-1', { limit: 100 });
      expect(all.map((r) => [r.t, r.metric, r.value, r.quality])).toEqual([
        [200, 'rate', null, 'bad'],
        [200, 'rate', 126, 'good'],
        [100, 'on_mains', true, 'good'],
        [100, 'state', 'running', 'good'],
        [100, 'rate', 125, 'good'],
      ]);
      expect(all[1]).toMatchObject({ code: 157784, refId: 'MDC_FLOW_FLUID_PUMP', unit: 'mL/h', unitCode: 265266 });
      await store.close();
    });

    it('filters telemetry by metric and half-open time range, and limits', async () => {
      const { store } = await open();
      await store.apply([data(1, [reading(100, 1), reading(200, 2), reading(300, 3), reading(300, 9, 'other')])]);
      const q = (extra: object) => store.queryTelemetry('gw-1.pump-1', { limit: 100, metric: 'rate', ...extra }).then((rows) => rows.map((r) => r.value));
      expect(await q({})).toEqual([3, 2, 1]);
      expect(await q({ from: 200 })).toEqual([3, 2]);
      expect(await q({ to: 300 })).toEqual([2, 1]);
      expect(await q({ from: 100, to: 200 })).toEqual([1]);
      expect(await q({ limit: 1 })).toEqual([3]);
      expect(await store.queryTelemetry('gw-9.none', { limit: 10 })).toEqual([]);
      await store.close();
    });

    it('drops a re-delivered message by (gateway, seq), within and across batches', async () => {
      const { store } = await open();
      expect(await store.apply([data(1, [reading(1, 1)]), data(1, [reading(1, 1)])])).toEqual(['stored', 'duplicate']);
      expect(await store.apply([data(1, [reading(1, 1)]), data(2, [reading(2, 2)])])).toEqual(['duplicate', 'stored']);
      // The same seq from another gateway is a different message.
      expect(await store.apply([data(1, [reading(1, 1)], 'pump-1', 'gw-2')])).toEqual(['stored']);
      expect((await store.counts()).readings).toBe(3);
      await store.close();
    });

    it('keeps the registry from births, statuses and gateway state', async () => {
      const { store } = await open();
      await store.apply([
        { ...origin, kind: 'state', message: { v: 1, sentAt: 10, state: 'online', agentVersion: '0.1.0' } },
        birth(1),
        { ...origin, kind: 'status', message: { v: 1, seq: 2, sentAt: 1, device: 'pump-1', t: 50, status: 'unreachable', reason: 'no answer' } },
      ]);
      let device = await store.getDevice('gw-1.pump-1');
      expect(device).toMatchObject({
        id: 'gw-1.pump-1',
        gateway: 'gw-1',
        device: 'pump-1',
        model: 'MT-LVP-100',
        serial: 'SN-1',
        status: 'unreachable',
        statusReason: 'no answer',
        gatewayState: 'online',
      });
      expect(device?.metrics).toEqual([{ metric: 'rate', code: 157784 }]);
      // An older status arriving late does not overwrite a newer one.
      await store.apply([{ ...origin, kind: 'status', message: { v: 1, seq: 3, sentAt: 1, device: 'pump-1', t: 40, status: 'connected' } }]);
      expect((await store.getDevice('gw-1.pump-1'))?.status).toBe('unreachable');
      // A will carries the time the agent connected (older than its "online"), yet arrives later: it wins.
      await store.apply([{ ...origin, receivedAt: 2_000, kind: 'state', message: { v: 1, sentAt: 5, state: 'offline' } }]);
      device = await store.getDevice('gw-1.pump-1');
      expect(device?.gatewayState).toBe('offline');
      expect(await store.listGateways()).toEqual([expect.objectContaining({ id: 'gw-1', state: 'offline', agentVersion: '0.1.0' })]);
      await store.close();
    });

    it("keeps each gateway's outbox backlog from its online states, and when its state began", async () => {
      const { store } = await open();
      const state = (receivedAt: number, message: Record<string, unknown>) => ({
        ...origin,
        receivedAt,
        kind: 'state' as const,
        message: { v: 1 as const, sentAt: 1, ...message } as never,
      });
      await store.apply([state(1_000, { state: 'online', agentVersion: '0.1.0' })]);
      expect((await store.listGateways())[0]).toMatchObject({ state: 'online', outbox: null });
      await store.apply([state(2_000, { state: 'online', outbox: { rows: 1200, bytes: 480_000, oldestAgeSeconds: 95.5 } })]);
      await store.apply([state(3_000, { state: 'online', outbox: { rows: 40, bytes: 16_000, oldestAgeSeconds: 2 } })]);
      expect((await store.listGateways())[0]).toMatchObject({
        state: 'online',
        stateAt: 1_000, // re-sent "online" is not a new state
        lastSeen: 3_000,
        outbox: { rows: 40, bytes: 16_000, oldestAgeSeconds: 2, at: 3_000 },
      });
      // The last will carries no backlog: the last report stays, with its time.
      await store.apply([state(4_000, { state: 'offline' })]);
      expect((await store.listGateways())[0]).toMatchObject({ state: 'offline', stateAt: 4_000, outbox: { rows: 40, at: 3_000 } });
      // A state received earlier than the newest one applied changes nothing.
      await store.apply([state(3_500, { state: 'online', outbox: { rows: 9, bytes: 9, oldestAgeSeconds: 9 } })]);
      expect((await store.listGateways())[0]).toMatchObject({ state: 'offline', outbox: { rows: 40 } });
      await store.close();
    });

    it('applies a registry edit only at the expected version, and audits it in the same transaction', async () => {
      const { store } = await open();
      await store.apply([birth(1)]);
      const actor = { sub: 'alice', role: 'technician' as const };
      expect(await store.updateDevice('gw-9.none', { location: 'x' }, 1, actor)).toEqual({ ok: false, reason: 'not_found' });
      const done = await store.updateDevice('gw-1.pump-1', { location: 'ICU 3', lifecycle: 'out-of-service' }, 1, actor, 'sent for repair');
      expect(done).toMatchObject({ ok: true, device: { location: 'ICU 3', lifecycle: 'out-of-service', version: 2 } });
      expect(await store.updateDevice('gw-1.pump-1', { location: 'OR 1' }, 1, actor)).toEqual({ ok: false, reason: 'stale', current: 2 });
      // A birth (identity from the device) keeps what people edited.
      await store.apply([birth(2, 'SN-2')]);
      expect(await store.getDevice('gw-1.pump-1')).toMatchObject({ serial: 'SN-2', location: 'ICU 3', version: 2 });
      expect((await store.audit.list()).items.map((e) => [e.actor, e.action, e.oldValue, e.newValue, e.reason])).toEqual([
        ['alice', 'device:update', { location: null, lifecycle: 'active' }, { location: 'ICU 3', lifecycle: 'out-of-service' }, 'sent for repair'],
      ]);
      await store.close();
    });

    it('lists devices with filters and pagination', async () => {
      const { store } = await open();
      await store.apply([birth(1), data(2, [reading(1, 1)], 'pump-2'), data(3, [reading(1, 1)], 'pump-3', 'gw-2')]);
      const all = await store.listDevices({ limit: 10, offset: 0 });
      expect(all.total).toBe(3);
      expect(all.items.map((d) => d.id)).toEqual(['gw-1.pump-1', 'gw-1.pump-2', 'gw-2.pump-3']);
      expect((await store.listDevices({ gateway: 'gw-2', limit: 10, offset: 0 })).items.map((d) => d.id)).toEqual(['gw-2.pump-3']);
      expect((await store.listDevices({ type: 'infusion-pump', limit: 10, offset: 0 })).total).toBe(1);
      const page = await store.listDevices({ limit: 1, offset: 1 });
      expect([page.total, page.items.map((d) => d.id)]).toEqual([3, ['gw-1.pump-2']]);
      await store.close();
    });

    it('stores device alarm phases and serves them newest first', async () => {
      const { store } = await open();
      const alarm = (seq: number, t: number, phase: 'start' | 'end') =>
        ({
          ...origin,
          kind: 'alarm',
          message: {
            v: 1,
            seq,
            sentAt: 1,
            device: 'pump-1',
            t,
            alarm: 'occlusion',
            code: 196940,
            refId: 'MDC_EVT_FLUID_LINE_OCCL',
            priority: 'high',
            phase,
            state: phase === 'start' ? 'active' : 'inactive',
            text: 'Line occlusion',
          },
        }) as IngestItem;
      await store.apply([alarm(1, 100, 'start'), alarm(2, 200, 'end'), alarm(2, 200, 'end')]);
      const rows = await store.queryAlarms('gw-1.pump-1', { limit: 10 });
      expect(rows.map((a) => [a.t, a.phase, a.state, a.code, a.priority])).toEqual([
        [200, 'end', 'inactive', 196940, 'high'],
        [100, 'start', 'active', 196940, 'high'],
      ]);
      expect(await store.queryAlarms('gw-1.pump-1', { limit: 10, from: 150 })).toHaveLength(1);
      await store.close();
    });

    it('stores gap reports and finds them by overlapping time range', async () => {
      const { store } = await open();
      const gap = (seq: number, from: number, to: number, count: number) =>
        ({ ...origin, kind: 'gap', message: { v: 1, seq, sentAt: 1, device: 'pump-1', from, to, count, kind: 'data', reason: 'outbox full' } }) as IngestItem;
      await store.apply([gap(1, 100, 200, 30), gap(2, 300, 400, 20), gap(2, 300, 400, 20)]);
      expect((await store.queryGaps('gw-1.pump-1', { limit: 10 })).map((g) => [g.from, g.to, g.count, g.kind])).toEqual([
        [300, 400, 20, 'data'],
        [100, 200, 30, 'data'],
      ]);
      expect((await store.queryGaps('gw-1.pump-1', { from: 150, to: 250, limit: 10 })).map((g) => g.count)).toEqual([30]);
      expect(await store.queryGaps('gw-1.pump-1', { from: 201, to: 299, limit: 10 })).toEqual([]);
      await store.close();
    });

    it('keeps quarantined payloads and counts them', async () => {
      const { store } = await open();
      await store.apply([
        { ...origin, kind: 'quarantine', topic: 'medtel/v1/bench/gw-1/dev/p/data', reason: 'data: not JSON', payload: Buffer.from('garbage') },
      ]);
      expect((await store.counts()).quarantined).toBe(1);
      await store.close();
    });

    it('is durable: what apply() resolved is there after reopening', async () => {
      const { store, reopen } = await open();
      if (!reopen) return;
      await store.apply([birth(1), data(2, [reading(1, 42)])]);
      await store.close();
      const again = await reopen();
      expect((await again.queryTelemetry('gw-1.pump-1', { limit: 10 })).map((r) => r.value)).toEqual([42]);
      expect(await again.apply([data(2, [reading(1, 42)])])).toEqual(['duplicate']);
      await again.close();
    });
  });
}
