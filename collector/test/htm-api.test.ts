import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { SECRETS, connectGateway, publishAcked, startTestCollector } from './collector-fixture.js';

/**
 * The HTM API end to end: a real collector (SQLite file, MQTT over TCP) fed by
 * a gateway, driven over HTTP with tokens as a clinical engineer would.
 */

let collector: Awaited<ReturnType<typeof startTestCollector>>;
let gateway: MqttClient;
let tokens: Record<'viewer' | 'technician' | 'admin', string>;
let seq = 1;
const DAY = 86_400_000;
const now = Date.now();
const PUMP = 'gw-1.pump-1';
const MRI = 'gw-1.mri-1';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT';
async function call(method: Method, url: string, body?: unknown, opts: { role?: keyof typeof tokens; ifMatch?: string | number } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${tokens[opts.role ?? (method === 'GET' ? 'viewer' : 'technician')]}` };
  if (opts.ifMatch !== undefined) headers['if-match'] = `"${opts.ifMatch}"`;
  const res = await collector.api.inject({ method, url: `/api/v1${url}`, headers, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, body: res.json(), etag: res.headers.etag };
}

const publish = (device: string, kind: string, message: object) =>
  publishAcked(gateway, `medtel/v1/bench/gw-1/dev/${device}/${kind}`, JSON.stringify({ v: 1, seq: seq++, sentAt: Date.now(), device, ...message }));
const reading = (metric: string, unit: string, t: number, value: number) => ({ metric, unit, t, value, quality: 'good' });
const birth = (device: string, type: string, model: string) => ({
  type,
  manufacturer: 'medtel simulated',
  model,
  serial: `SN-${device}`,
  firmware: '1.0',
  protocol: 'modbus-tcp',
  profile: 'p',
  metrics: [{ metric: 'rate', unit: 'mL/h' }],
});

const point = (measured: number) => ({ point: '100 mL/h', expected: 100, measured, tolerance: 5, uncertainty: 0.4, unit: 'mL/h' });
const calibration = (performedAt: number, asFound: number, asLeft?: number, equipmentDue = '2099-12-31') => ({
  performedAt: new Date(performedAt).toISOString(),
  procedure: 'IPM-INF-07 flow accuracy',
  performedBy: 'Biomed department',
  technician: 'Sam Tech',
  approver: 'Alex Lead',
  certificate: `CERT-${performedAt}`,
  asFound: [point(asFound)],
  ...(asLeft !== undefined ? { asLeft: [point(asLeft)] } : {}),
  testEquipment: [{ id: 'FLOW-ANALYZER-3', description: 'flow analyser', calibrationDueAt: equipmentDue }],
  reason: 'scheduled calibration',
});

beforeAll(async () => {
  collector = await startTestCollector();
  tokens = { viewer: await collector.token('viewer'), technician: await collector.token('technician'), admin: await collector.token('admin') };
  gateway = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
  await publish('pump-1', 'birth', birth('pump-1', 'infusion-pump', 'MT-LVP-100'));
  await publish('mri-1', 'birth', birth('mri-1', 'mri', 'MT-MR-15'));
  // Readings: one from before the first (passing) calibration, then a recent history of two metrics.
  await publish('pump-1', 'data', { clock: 'agent', readings: [reading('rate', 'mL/h', now - 500 * DAY, 99)] });
  await publish('pump-1', 'data', {
    clock: 'agent',
    readings: [1, 2, 3, 4, 5].map((h) => reading('rate', 'mL/h', now - h * 3_600_000 - 2 * 3_600_000, 100 + h)),
  });
  await publish('pump-1', 'data', { clock: 'agent', readings: [1, 2, 3].map((h) => reading('pressure', 'mmHg', now - h * 3_600_000 - 2 * 3_600_000, 300)) });
  // Connectivity in March 2025 for the KPI period: connected, 1 day unreachable, connected again.
  await publish('pump-1', 'status', { t: Date.parse('2025-02-28T00:00:00Z'), status: 'connected' });
  await publish('pump-1', 'status', { t: Date.parse('2025-03-11T00:00:00Z'), status: 'unreachable' });
  await publish('pump-1', 'status', { t: Date.parse('2025-03-12T00:00:00Z'), status: 'connected' });
}, 30_000);
afterAll(async () => {
  await gateway?.endAsync();
  await collector?.close();
});

describe('asset fields on devices', () => {
  it('keeps program flags, risk parts with their total, UDI, ownership; filters by them', async () => {
    const edit = {
      installDate: '2024-01-01',
      highRisk: true,
      lifeSupport: true,
      risk: { equipmentFunction: 9, physicalRisk: 5, maintenanceRequirement: 4 },
      udiDeviceIdentifier: '00812345678901',
      udiProductionIdentifier: '(21)SN-pump-1',
      deviceTypeCode: 'UMDNS:13215',
      ownership: 'leased',
      department: 'ICU',
      reason: 'incoming inspection',
    };
    const res = await call('PATCH', `/devices/${PUMP}`, edit, { ifMatch: 1 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      installDate: '2024-01-01',
      highRisk: true,
      lifeSupport: true,
      scheduleSource: 'manufacturer',
      risk: { equipmentFunction: 9, physicalRisk: 5, maintenanceRequirement: 4, total: 18, include: true, suggestedFrequency: 'semiannual' },
      ownership: 'leased',
      version: 2,
    });
    const listed = await call('GET', '/devices?highRisk=true&department=ICU');
    expect(listed.body.items.map((d: { id: string }) => d.id)).toEqual([PUMP]);
    expect((await call('GET', '/devices?highRisk=false')).body.items.map((d: { id: string }) => d.id)).toEqual([MRI]);
  });

  it('refuses AEM for imaging (400 naming scheduleSource) and requires its justification elsewhere', async () => {
    const aem = { scheduleSource: 'aem', aemReason: 'redundant units', aemRiskFactors: ['backup available'], aemApprover: 'Alex Lead' };
    const mri = await call('PATCH', `/devices/${MRI}`, aem, { ifMatch: 1 });
    expect([mri.status, mri.body.parameter]).toEqual([400, 'scheduleSource']);
    expect(mri.body.message).toMatch(/manufacturer's schedule/);
    const missing = await call('PATCH', `/devices/${PUMP}`, { scheduleSource: 'aem', aemReason: 'x' }, { ifMatch: 2 });
    expect([missing.status, missing.body.parameter]).toEqual([400, 'aemRiskFactors']);
    const badRisk = await call('PATCH', `/devices/${PUMP}`, { risk: { equipmentFunction: 9, physicalRisk: 9, maintenanceRequirement: 1 } }, { ifMatch: 2 });
    expect([badRisk.status, badRisk.body.parameter]).toEqual([400, 'risk/physicalRisk']);
    const badOwner = await call('PATCH', `/devices/${PUMP}`, { ownership: 'borrowed' }, { ifMatch: 2 });
    expect([badOwner.status, badOwner.body.parameter]).toEqual([400, 'ownership']);
  });
});

describe('calibration', () => {
  it('sets a default interval per model (reason required, technicians only)', async () => {
    expect((await call('PUT', '/calibration-intervals/MT-LVP-100', { intervalMonths: 12, reason: 'OEM manual' }, { role: 'viewer' })).status).toBe(403);
    const noReason = await call('PUT', '/calibration-intervals/MT-LVP-100', { intervalMonths: 12 });
    expect([noReason.status, noReason.body.parameter]).toEqual([400, 'reason']);
    const ok = await call('PUT', '/calibration-intervals/MT-LVP-100', { intervalMonths: 12, reason: 'OEM manual' });
    expect(ok.body).toMatchObject({ model: 'MT-LVP-100', intervalMonths: 12 });
    // No calibration on record: due since it was installed (2024-01-01), so overdue.
    const due = await call('GET', '/calibrations/due?within=30d');
    expect(due.body.items).toEqual([
      expect.objectContaining({ deviceId: PUMP, intervalMonths: 12, intervalSource: 'model', lastPassAt: null, dueDate: '2024-01-01', overdue: true }),
    ]);
  });

  it('records a passing calibration; its due date makes the device overdue, listed with the days', async () => {
    const performedAt = now - 400 * DAY;
    const res = await call('POST', `/devices/${PUMP}/calibrations`, calibration(performedAt, 102));
    expect(res.status).toBe(201);
    expect(res.body.calibration).toMatchObject({
      asFound: [{ measured: 102, error: 2, pass: true }],
      asLeft: [{ measured: 102, pass: true }],
      asFoundPass: true,
      result: 'pass',
      recordedBy: 'test-technician',
      decisionRule: expect.stringMatching(/simple acceptance/),
    });
    expect(res.body.impactWorkOrder).toBeNull();
    expect(res.body.due).toMatchObject({ overdue: true, lastPassAt: new Date(performedAt).toISOString() });
    expect(res.body.due.daysOverdue).toBeGreaterThanOrEqual(33);
    expect(res.body.due.daysOverdue).toBeLessThanOrEqual(36);

    const overdueOnly = await call('GET', '/calibrations/due?within=0d');
    expect(overdueOnly.body).toMatchObject({ total: 1, items: [{ deviceId: PUMP, overdue: true, daysOverdue: res.body.due.daysOverdue }] });
    // The lead's alert hook reads the same.
    expect(await collector.store.htm.calibrationsOverdue(Date.now())).toEqual([{ deviceId: PUMP, dueAt: Date.parse(res.body.due.dueAt) }]);
  });

  it('refuses a calibration without a reason, with test equipment out of calibration, or dated in the future', async () => {
    const { reason: _r, ...noReason } = calibration(now - DAY, 100);
    const r1 = await call('POST', `/devices/${PUMP}/calibrations`, noReason);
    expect([r1.status, r1.body.parameter]).toEqual([400, 'reason']);
    const r2 = await call('POST', `/devices/${PUMP}/calibrations`, calibration(now - DAY, 100, undefined, new Date(now - 3 * DAY).toISOString().slice(0, 10)));
    expect([r2.status, r2.body.parameter]).toEqual([400, 'testEquipment/0/calibrationDueAt']);
    expect(r2.body.message).toMatch(/FLOW-ANALYZER-3.*out of calibration/);
    const r3 = await call('POST', `/devices/${PUMP}/calibrations`, calibration(now + 2 * DAY, 100));
    expect([r3.status, r3.body.parameter]).toEqual([400, 'performedAt']);
    expect((await call('POST', '/devices/gw-1.nope/calibrations', calibration(now - DAY, 100))).status).toBe(404);
    expect((await call('POST', `/devices/${PUMP}/calibrations`, calibration(now - DAY, 100), { role: 'viewer' })).status).toBe(403);
  });

  it('as found out of tolerance opens an impact-assessment work order listing the readings since the last pass', async () => {
    const performedAt = now - 3_600_000;
    const res = await call('POST', `/devices/${PUMP}/calibrations`, calibration(performedAt, 93, 100.5));
    expect(res.status).toBe(201);
    expect(res.body.calibration).toMatchObject({ asFoundPass: false, asLeftPass: true, result: 'pass', asFound: [{ error: -7, pass: false }] });
    const wo = res.body.impactWorkOrder;
    expect(wo).toMatchObject({ type: 'impact-assessment', state: 'draft', deviceId: PUMP, calibrationId: res.body.calibration.id });
    expect(res.body.calibration.impactWorkOrderId).toBe(wo.id);
    // 5 rate + 3 pressure readings since the pass 400 days ago; the one from 500 days ago is not among them.
    expect(wo.impact).toMatchObject({
      since: new Date(now - 400 * DAY).toISOString(),
      until: new Date(performedAt).toISOString(),
      total: 8,
      metrics: [
        { metric: 'pressure', unit: 'mmHg', count: 3 },
        { metric: 'rate', unit: 'mL/h', count: 5 },
      ],
    });
    expect(wo.description).toMatch(/100 mL\/h: measured 93/);
    const readings = await call('GET', wo.impact.readingsUrl.replace('/api/v1', ''));
    expect(readings.body.count).toBe(8);
    // Left in tolerance: due again a year from now.
    expect(res.body.due).toMatchObject({ overdue: false, daysOverdue: 0 });
    expect((await call('GET', '/calibrations/due?within=0d')).body.total).toBe(0);
    const history = await call('GET', `/devices/${PUMP}/calibrations`);
    expect(history.body.items.map((c: { asFoundPass: boolean }) => c.asFoundPass)).toEqual([false, true]);
    expect(history.body.total).toBe(2);
  });

  it('audits every calibration action with its reason, in an intact chain', async () => {
    const audit = await call('GET', '/audit?objectType=calibration', undefined, { role: 'admin' });
    expect(audit.body.items).toHaveLength(2);
    expect(audit.body.items[0]).toMatchObject({ action: 'calibration:create', actor: 'test-technician', role: 'technician', reason: 'scheduled calibration' });
    const impact = await call('GET', '/audit?action=work-order:create', undefined, { role: 'admin' });
    expect(impact.body.items[0]).toMatchObject({ objectType: 'work-order', newValue: { type: 'impact-assessment' } });
    expect((await collector.store.audit.verify()).ok).toBe(true);
  });
});

describe('work orders', () => {
  it('moves through its states with If-Match; illegal moves, stale versions and missing fields are refused', async () => {
    const dangling = await call('POST', '/work-orders', { deviceId: PUMP, type: 'corrective', title: 'Occlusion alarm at rest', alertId: 42 });
    expect([dangling.status, dangling.body.parameter]).toEqual([400, 'alertId']);
    const created = await call('POST', '/work-orders', { deviceId: PUMP, type: 'corrective', title: 'Occlusion alarm at rest' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ state: 'draft', alertId: null, version: 1, openedBy: 'test-technician' });
    const illegal = await call('PATCH', `/work-orders/${id}`, { state: 'completed', causeCode: 'wear' }, { ifMatch: 1 });
    expect([illegal.status, illegal.body.parameter]).toEqual([409, 'state']);
    expect(illegal.body.message).toMatch(/from draft to completed/);
    expect((await call('PATCH', `/work-orders/${id}`, { state: 'assigned' })).status).toBe(428);
    const noAssignee = await call('PATCH', `/work-orders/${id}`, { state: 'assigned' }, { ifMatch: 1 });
    expect([noAssignee.status, noAssignee.body.parameter]).toEqual([400, 'assignee']);
    const assigned = await call('PATCH', `/work-orders/${id}`, { state: 'assigned', assignee: 'sam' }, { ifMatch: 1 });
    expect([assigned.status, assigned.etag, assigned.body.state]).toEqual([200, '"2"', 'assigned']);
    const stale = await call('PATCH', `/work-orders/${id}`, { state: 'in-progress' }, { ifMatch: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toMatch(/now version 2/);
    const started = await call('PATCH', `/work-orders/${id}`, { state: 'in-progress' }, { ifMatch: 2 });
    expect(started.body.startedAt).not.toBeNull();
    const noCause = await call('PATCH', `/work-orders/${id}`, { state: 'completed' }, { ifMatch: 3 });
    expect([noCause.status, noCause.body.parameter]).toEqual([400, 'causeCode']);
    const badCause = await call('PATCH', `/work-orders/${id}`, { state: 'completed', causeCode: 'gremlins' }, { ifMatch: 3 });
    expect([badCause.status, badCause.body.parameter]).toEqual([400, 'causeCode']);
    const done = await call('PATCH', `/work-orders/${id}`, { state: 'completed', causeCode: 'wear', notes: 'replaced pumping segment' }, { ifMatch: 3 });
    expect(done.body).toMatchObject({ state: 'completed', causeCode: 'wear', completedAt: expect.any(String), version: 4 });
    const closed = await call('PATCH', `/work-orders/${id}`, { notes: 'edit after close' }, { ifMatch: 4 });
    expect([closed.status, closed.body.parameter]).toEqual([409, 'state']);
    expect((await call('GET', '/work-orders/99999')).status).toBe(404);
    const listed = await call('GET', `/work-orders?type=corrective&state=completed&device=${PUMP}&limit=1`);
    expect(listed.body).toMatchObject({ total: 1, limit: 1, offset: 0, items: [{ id }] });
    const badFilter = await call('GET', '/work-orders?state=done');
    expect([badFilter.status, badFilter.body.parameter]).toEqual([400, 'state']);
    expect((await call('POST', '/work-orders', { deviceId: PUMP, type: 'corrective', title: 'x' }, { role: 'viewer' })).status).toBe(403);
  });

  it('closes unable-to-locate only with the searches logged (who, when, where)', async () => {
    const { body: wo } = await call('POST', '/work-orders', { deviceId: MRI, type: 'preventive', title: 'Annual PM', assignee: 'sam' });
    expect(wo.state).toBe('assigned');
    await call('PATCH', `/work-orders/${wo.id}`, { state: 'in-progress' }, { ifMatch: 1 });
    const early = await call('PATCH', `/work-orders/${wo.id}`, { state: 'incomplete', incompleteReason: 'unable-to-locate' }, { ifMatch: 2 });
    expect([early.status, early.body.parameter]).toEqual([400, 'incompleteReason']);
    await call('POST', `/work-orders/${wo.id}/searches`, { where: 'MRI suite and storage' });
    const second = await call('POST', `/work-orders/${wo.id}/searches`, { where: 'loading dock', note: 'asked facilities' });
    expect(second.body.searches).toEqual([
      expect.objectContaining({ by: 'test-technician', where: 'MRI suite and storage' }),
      expect.objectContaining({ by: 'test-technician', where: 'loading dock', note: 'asked facilities' }),
    ]);
    const closed = await call('PATCH', `/work-orders/${wo.id}`, { state: 'incomplete', incompleteReason: 'unable-to-locate' }, { ifMatch: 4 });
    expect(closed.body).toMatchObject({ state: 'incomplete', incompleteReason: 'unable-to-locate' });
    expect((await call('POST', `/work-orders/${wo.id}/searches`, { where: 'again' })).status).toBe(409);
  });

  it('completing preventive work advances its schedule and records whether it was on time', async () => {
    const firstDue = now - 2 * DAY;
    const sched = await call('POST', `/devices/${PUMP}/pm-schedules`, {
      task: 'IPM-INF-07',
      frequency: 'quarterly',
      firstDueAt: new Date(firstDue).toISOString(),
    });
    expect(sched.status).toBe(201);
    expect(sched.body).toMatchObject({ frequency: 'quarterly', lastCompletedAt: null, overdue: false });
    const noYears = await call('POST', `/devices/${PUMP}/pm-schedules`, { task: 'x', frequency: 'multi-year', firstDueAt: new Date(now).toISOString() });
    expect([noYears.status, noYears.body.parameter]).toEqual([400, 'years']);
    const wrongType = await call('POST', '/work-orders', { deviceId: PUMP, type: 'corrective', title: 'x', scheduleId: sched.body.id });
    expect([wrongType.status, wrongType.body.parameter]).toEqual([400, 'scheduleId']);
    const { body: wo } = await call('POST', '/work-orders', { deviceId: PUMP, type: 'preventive', title: 'Quarterly PM', scheduleId: sched.body.id });
    await call('PATCH', `/work-orders/${wo.id}`, { state: 'in-progress' }, { ifMatch: 1 });
    const done = await call('PATCH', `/work-orders/${wo.id}`, { state: 'completed' }, { ifMatch: 2 });
    expect(done.body).toMatchObject({ completion: 'on-time', window: { dueAt: expect.any(String) } });
    const after = await call('GET', `/pm-schedules/${sched.body.id}`);
    expect(after.body.lastCompletedAt).toBe(done.body.completedAt);
    expect(Date.parse(after.body.dueAt)).toBeGreaterThan(now + 80 * DAY);
    const stale = await call('PATCH', `/pm-schedules/${sched.body.id}`, { task: 'renamed' }, { ifMatch: 1 });
    expect(stale.status).toBe(409);
    const renamed = await call('PATCH', `/pm-schedules/${sched.body.id}`, { task: 'IPM-INF-08' }, { ifMatch: after.body.version });
    expect(renamed.body).toMatchObject({ task: 'IPM-INF-08' });
  });
});

describe('KPIs over a known month (March 2025, UTC)', () => {
  const at = (s: string) => `2025-03-${s}Z`;
  beforeAll(async () => {
    // Two repairs: 4 h (wear: a failure) and 2 h (use error: not an equipment failure).
    for (const [opened, done, cause] of [
      [at('05T08:00:00'), at('05T12:00:00'), 'wear'],
      [at('20T10:00:00'), at('20T12:00:00'), 'use-error'],
    ] as const) {
      const { body } = await call('POST', '/work-orders', { deviceId: PUMP, type: 'corrective', title: 'repair', openedAt: opened, assignee: 'sam' });
      await call('PATCH', `/work-orders/${body.id}`, { state: 'in-progress', at: opened }, { ifMatch: 1 });
      await call('PATCH', `/work-orders/${body.id}`, { state: 'completed', causeCode: cause, at: done }, { ifMatch: 2 });
    }
    // The MRI's monthly PM done on 10 March: on time. The pump's quarterly PM due 10 March (window closes 21 March): missed.
    const mriPm = await call('POST', `/devices/${MRI}/pm-schedules`, { task: 'monthly QC review', frequency: 'monthly', firstDueAt: at('01T00:00:00') });
    const { body: pm } = await call('POST', '/work-orders', {
      deviceId: MRI,
      type: 'preventive',
      title: 'monthly',
      scheduleId: mriPm.body.id,
      openedAt: at('09T00:00:00'),
    });
    await call('PATCH', `/work-orders/${pm.id}`, { state: 'in-progress', at: at('10T08:00:00') }, { ifMatch: 1 });
    await call('PATCH', `/work-orders/${pm.id}`, { state: 'completed', at: at('10T09:00:00') }, { ifMatch: 2 });
    await call('POST', `/devices/${PUMP}/pm-schedules`, { task: 'quarterly', frequency: 'quarterly', firstDueAt: at('10T00:00:00') });
    // One unable-to-locate, with two searches.
    const { body: lost } = await call('POST', '/work-orders', { deviceId: PUMP, type: 'preventive', title: 'find me', openedAt: at('15T08:00:00') });
    await call('PATCH', `/work-orders/${lost.id}`, { state: 'in-progress', at: at('15T08:00:00') }, { ifMatch: 1 });
    await call('POST', `/work-orders/${lost.id}/searches`, { where: 'ICU', at: at('15T09:00:00') });
    await call('POST', `/work-orders/${lost.id}/searches`, { where: 'biomed shop', at: at('16T09:00:00') });
    await call('PATCH', `/work-orders/${lost.id}`, { state: 'incomplete', incompleteReason: 'unable-to-locate', at: at('16T10:00:00') }, { ifMatch: 4 });
  });

  it('reports on-time PM by risk class, MTTR, MTBF, uptime and unable-to-locate', async () => {
    const res = await call('GET', '/kpis?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-04-01T00:00:00.000Z',
      timeZone: 'UTC',
      preventiveMaintenance: {
        due: 2,
        onTime: 1,
        early: 0,
        late: 0,
        missed: 1,
        onTimePercent: 50,
        incomplete: 1,
        byRisk: {
          lifeSupport: { due: 1, onTime: 0, early: 0, late: 0, missed: 1, onTimePercent: 0 },
          highRisk: { due: 0, onTime: 0, early: 0, late: 0, missed: 0, onTimePercent: null },
          other: { due: 1, onTime: 1, early: 0, late: 0, missed: 0, onTimePercent: 100 },
        },
      },
      repairs: { completed: 2, meanTimeToRepairHours: 3 },
      // The pump (installed 2024) ran all 744 hours of March; the MRI was first seen today.
      failures: { count: 1, operatingHours: 744, meanTimeBetweenFailuresHours: 744 },
      uptime: { devices: 1, connectedHours: 720, knownHours: 744, percent: 96.77 },
      unableToLocate: { workOrders: 1, searches: 2 },
    });
  });

  it('names the bad parameter', async () => {
    const r = await call('GET', '/kpis?from=2025-04-01T00:00:00Z&to=2025-03-01T00:00:00Z');
    expect([r.status, r.body.parameter]).toEqual([400, 'to']);
    const r2 = await call('GET', '/kpis?from=yesterday');
    expect([r2.status, r2.body.parameter]).toEqual([400, 'from']);
  });
});
