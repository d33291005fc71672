/**
 * Demo records for `npm run demo`: what a clinical-engineering department
 * would already have on file for the simulated pump, entered through the API
 * the way a technician would — an inventory entry, a calibration done 13
 * months ago (so the pump is overdue on a 12-month interval and raises a
 * calibration-overdue alert), and a line-pressure alert rule that the
 * simulator's occlusion scenario trips, and a helium boil-off rule for the MRI.
 */

import { heliumBoilOffRule, lineOcclusionRule } from './example-alert-rules.mjs';

const DAY = 86_400_000;

async function call(api, token, method, path, body, ifMatch) {
  const headers = { authorization: `Bearer ${token}` };
  if (body) headers['content-type'] = 'application/json';
  if (ifMatch) headers['if-match'] = ifMatch;
  const res = await fetch(`${api}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`demo seed: ${method} ${path} answered ${res.status}: ${await res.text()}`);
  return { body: await res.json(), etag: res.headers.get('etag') };
}

export async function seedDemo(api, token, deviceId) {
  const device = await call(api, token, 'GET', `/devices/${deviceId}`);
  await call(
    api,
    token,
    'PATCH',
    `/devices/${deviceId}`,
    {
      assetTag: 'BME-004211',
      location: 'ICU-3 bed 12',
      department: 'Intensive care',
      installDate: '2024-03-18',
      highRisk: true,
      ownership: 'owned',
      calibrationIntervalMonths: 12,
      reason: 'inventory entry (demo)',
    },
    device.etag,
  );
  const performedAt = new Date(Date.now() - 395 * DAY).toISOString();
  await call(api, token, 'POST', `/devices/${deviceId}/calibrations`, {
    performedAt,
    procedure: 'IPM-INF-07 flow and occlusion-pressure accuracy',
    performedBy: 'Biomedical engineering',
    technician: 'Sam Okafor',
    approver: 'Alex Lindqvist',
    certificate: 'CAL-2025-0815',
    asFound: [{ point: '100 mL/h', expected: 100, measured: 101.2, tolerance: 5, uncertainty: 0.4, unit: 'mL/h' }],
    testEquipment: [{ id: 'FLOW-ANALYZER-3', description: 'infusion device analyser', calibrationDueAt: new Date(Date.now() + 90 * DAY).toISOString() }],
    reason: 'annual calibration (demo history)',
  });
  await call(api, token, 'POST', '/alert-rules', { ...lineOcclusionRule({ sustainedSeconds: 5 }), reason: 'standard occlusion watch (demo)' });
  // Helium boil-off: the MRI's slow leak is a rate problem long before a level problem.
  await call(api, token, 'POST', '/alert-rules', { ...heliumBoilOffRule({ limitPercentPerHour: 10, windowSeconds: 120 }), reason: 'demo setup' });
}
