import { describe, expect, it } from 'vitest';
import { addDays, addMonths, calendarDaysBetween, localDate, startOfMonth, startOfWeek, toLocal } from '../dist/htm/calendar.js';
import { evaluate, expiredTestEquipment } from '../dist/htm/calibration.js';
import { connectedTime, pmByRisk } from '../dist/htm/kpis.js';
import { DEFAULT_CALENDAR, classifyCompletion, nextWindow } from '../dist/htm/pm-schedule.js';
import { programProblem } from '../dist/htm/asset-rules.js';
import { riskScore } from '../dist/htm/risk.js';
import { transitionProblem } from '../dist/htm/work-order-rules.js';

const t = (s: string) => Date.parse(s);
const isoOf = (ms: number) => new Date(ms).toISOString();
const UTC = 'UTC';
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';

describe('calendar arithmetic', () => {
  it('clamps month ends: Jan 31 + 1 month is the last day of February', () => {
    expect(isoOf(addMonths(t('2025-01-31T10:00:00Z'), 1, UTC))).toBe('2025-02-28T10:00:00.000Z');
    expect(isoOf(addMonths(t('2024-01-31T10:00:00Z'), 1, UTC))).toBe('2024-02-29T10:00:00.000Z');
    expect(isoOf(addMonths(t('2025-03-31T10:00:00Z'), 3, UTC))).toBe('2025-06-30T10:00:00.000Z');
    expect(isoOf(addMonths(t('2025-05-31T10:00:00Z'), -3, UTC))).toBe('2025-02-28T10:00:00.000Z');
  });

  it('handles leap days: Feb 29 + 12 months is Feb 28, + 48 months is Feb 29 again', () => {
    expect(isoOf(addMonths(t('2024-02-29T08:00:00Z'), 12, UTC))).toBe('2025-02-28T08:00:00.000Z');
    expect(isoOf(addMonths(t('2024-02-29T08:00:00Z'), 48, UTC))).toBe('2028-02-29T08:00:00.000Z');
    expect(isoOf(addDays(t('2024-02-28T08:00:00Z'), 1, UTC))).toBe('2024-02-29T08:00:00.000Z');
    expect(isoOf(addDays(t('2025-02-28T08:00:00Z'), 1, UTC))).toBe('2025-03-01T08:00:00.000Z');
  });

  it('counts calendar months in the site time zone, not UTC', () => {
    // 31 Jan 23:30 in Berlin is still January there, though it is 22:30 UTC; + 1 month -> 28 Feb 23:30 Berlin.
    const lateJan = t('2025-01-31T22:30:00Z');
    expect(toLocal(lateJan, BERLIN)).toMatchObject({ year: 2025, month: 1, day: 31, hour: 23, minute: 30 });
    expect(isoOf(addMonths(lateJan, 1, BERLIN))).toBe('2025-02-28T22:30:00.000Z');
    // The same instant in UTC is 22:30 on 31 Jan too; in Tokyo it is already 1 Feb, so + 1 month is 1 March.
    expect(localDate(addMonths(lateJan, 1, 'Asia/Tokyo'), 'Asia/Tokyo')).toBe('2025-03-01');
    // Start of the month: 1 Feb 00:00 Berlin is 31 Jan 23:00 UTC.
    expect(isoOf(startOfMonth(t('2025-02-10T12:00:00Z'), BERLIN))).toBe('2025-01-31T23:00:00.000Z');
  });

  it('keeps the wall-clock time across a DST change (a calendar day is 23 or 25 hours there)', () => {
    // Berlin springs forward on 30 March 2025: 09:00 CET + 1 day = 09:00 CEST, 23 hours later.
    const before = t('2025-03-29T08:00:00Z');
    const after = addDays(before, 1, BERLIN);
    expect(toLocal(after, BERLIN)).toMatchObject({ day: 30, hour: 9 });
    expect(after - before).toBe(23 * 3_600_000);
    // New York falls back on 2 Nov 2025: + 1 day is 25 hours.
    const ny = t('2025-11-01T13:00:00Z');
    expect(addDays(ny, 1, NEW_YORK) - ny).toBe(25 * 3_600_000);
    expect(calendarDaysBetween(ny, addDays(ny, 1, NEW_YORK), NEW_YORK)).toBe(1);
  });

  it('starts weeks on Monday, at local midnight', () => {
    // Sunday 5 Jan 2025 23:30 in New York is Monday 04:30 UTC: still the week of Monday 30 Dec there.
    const sundayNight = t('2025-01-06T04:30:00Z');
    expect(localDate(startOfWeek(sundayNight, NEW_YORK), NEW_YORK)).toBe('2024-12-30');
    expect(localDate(startOfWeek(sundayNight, UTC), UTC)).toBe('2025-01-06');
  });
});

describe('on-time windows (TJC EC, measured from the last completion)', () => {
  const cal = DEFAULT_CALENDAR;
  const schedule = (frequency: string, lastCompletedAt: number | null, years?: number) =>
    ({ frequency, years: years ?? null, firstDueAt: t('2025-01-15T00:00:00Z'), lastCompletedAt }) as Parameters<typeof nextWindow>[0];

  it('weekly: due in the calendar week after the last completion', () => {
    const w = nextWindow(schedule('weekly', t('2025-01-08T15:00:00Z')), cal); // a Wednesday
    expect([isoOf(w.windowStart), isoOf(w.windowEnd)]).toEqual(['2025-01-13T00:00:00.000Z', '2025-01-20T00:00:00.000Z']);
    expect(classifyCompletion(t('2025-01-19T23:59:59Z'), w)).toBe('on-time');
    expect(classifyCompletion(t('2025-01-20T00:00:00Z'), w)).toBe('late');
    expect(classifyCompletion(t('2025-01-12T23:59:59Z'), w)).toBe('early');
  });

  it('monthly: due in the next calendar month, whatever day the last one was done', () => {
    const w = nextWindow(schedule('monthly', t('2025-01-31T16:00:00Z')), cal);
    expect([isoOf(w.windowStart), isoOf(w.windowEnd)]).toEqual(['2025-02-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z']);
    expect(classifyCompletion(t('2025-02-28T23:59:59Z'), w)).toBe('on-time');
    expect(classifyCompletion(t('2025-03-01T00:00:00Z'), w)).toBe('late');
  });

  it('monthly in a site time zone: the month boundary is local midnight', () => {
    const w = nextWindow(schedule('monthly', t('2025-01-20T12:00:00Z')), { ...cal, timeZone: BERLIN });
    expect([isoOf(w.windowStart), isoOf(w.windowEnd)]).toEqual(['2025-01-31T23:00:00.000Z', '2025-02-28T23:00:00.000Z']);
  });

  it.each([
    ['quarterly', undefined, '2025-04-30', 10],
    ['semiannual', undefined, '2025-07-31', 20],
    ['annual', undefined, '2026-01-31', 30],
    ['multi-year', 3, '2028-01-31', 45],
  ])('%s: due date ± tolerance, inclusive of both edge days', (frequency, years, dueDate, days) => {
    const w = nextWindow(schedule(frequency, t('2025-01-31T14:00:00Z'), years), cal);
    expect(localDate(w.dueAt, UTC)).toBe(dueDate);
    const due = t(`${dueDate}T00:00:00Z`);
    const day = 86_400_000;
    expect(classifyCompletion(due - days * day, w)).toBe('on-time');
    expect(classifyCompletion(due - days * day - 1, w)).toBe('early');
    expect(classifyCompletion(due + (days + 1) * day - 1, w)).toBe('on-time');
    expect(classifyCompletion(due + (days + 1) * day, w)).toBe('late');
  });

  it('uses the site tolerances when configured', () => {
    const w = nextWindow(schedule('annual', t('2025-01-31T14:00:00Z')), { ...cal, tolerances: { ...cal.tolerances, annual: 14 } });
    expect(isoOf(w.windowEnd)).toBe('2026-02-15T00:00:00.000Z');
  });

  it('before any completion, the first occurrence is due at firstDueAt', () => {
    const w = nextWindow(schedule('quarterly', null), cal);
    expect(localDate(w.dueAt, UTC)).toBe('2025-01-15');
    expect(localDate(nextWindow(schedule('monthly', null), cal).windowStart, UTC)).toBe('2025-01-01');
  });
});

describe('calibration results', () => {
  it('passes a point within ± tolerance, edge included, and fails outside', () => {
    const r = evaluate([
      { point: '100 mL/h', expected: 100, measured: 105, tolerance: 5, unit: 'mL/h' },
      { point: '10 mL/h', expected: 10, measured: 10.1, tolerance: 0.1, unit: 'mL/h' },
    ]);
    expect(r.readings.map((x) => x.pass)).toEqual([true, true]);
    expect(r.pass).toBe(true);
    const bad = evaluate([{ point: '100 mL/h', expected: 100, measured: 94.9, tolerance: 5, unit: 'mL/h' }]);
    expect(bad).toMatchObject({ pass: false, readings: [{ error: -5.1, pass: false }] });
  });

  it('finds test equipment whose own calibration had run out', () => {
    expect(
      expiredTestEquipment(
        [
          { id: 'A', calibrationDueAt: 2000 },
          { id: 'B', calibrationDueAt: 999 },
        ],
        1000,
      ),
    ).toBe(1);
    expect(expiredTestEquipment([{ id: 'A', calibrationDueAt: 1000 }], 1000)).toBe(-1);
  });
});

describe('asset rules and risk', () => {
  const aem = {
    highRisk: false,
    lifeSupport: false,
    scheduleSource: 'aem' as const,
    aemReason: 'r',
    aemRiskFactors: ['backup available'],
    aemApprover: 'Dr A',
  };
  it('refuses AEM for imaging and lasers, naming scheduleSource', () => {
    for (const type of ['mri', 'ct-scanner', 'x-ray', 'surgical-laser']) expect(programProblem(type, aem)?.field, type).toBe('scheduleSource');
    expect(programProblem('infusion-pump', aem)).toBeNull();
    expect(programProblem('infusion-pump', { ...aem, aemApprover: null })?.field).toBe('aemApprover');
    expect(programProblem('ventilator', { ...aem, scheduleSource: 'manufacturer', lifeSupport: true })?.field).toBe('highRisk');
  });

  it('adds the Fennigkoh–Smith parts; 12 and above is in the program', () => {
    expect(riskScore({ equipmentFunction: 10, physicalRisk: 5, maintenanceRequirement: 5 })).toMatchObject({
      total: 20,
      include: true,
      suggestedFrequency: 'semiannual',
    });
    expect(riskScore({ equipmentFunction: 6, physicalRisk: 3, maintenanceRequirement: 3 })).toMatchObject({
      total: 12,
      include: true,
      suggestedFrequency: 'annual',
    });
    expect(riskScore({ equipmentFunction: 2, physicalRisk: 1, maintenanceRequirement: 1 })).toMatchObject({
      total: 4,
      include: false,
      suggestedFrequency: null,
    });
  });
});

describe('work-order transitions', () => {
  const facts = { type: 'corrective' as const, assignee: 'sam', incompleteReason: null, causeCode: null, searches: 0 };
  it('refuses illegal moves with 409 naming from and to', () => {
    expect(transitionProblem('draft', { ...facts, state: 'completed' })).toMatchObject({
      status: 409,
      field: 'state',
      message: expect.stringMatching(/from draft to completed/),
    });
    expect(transitionProblem('completed', { ...facts, state: 'in-progress' })?.status).toBe(409);
    expect(transitionProblem('draft', { ...facts, state: 'assigned' })).toBeNull();
  });
  it('needs the fields a state implies (400 naming them)', () => {
    expect(transitionProblem('draft', { ...facts, assignee: null, state: 'assigned' })?.field).toBe('assignee');
    expect(transitionProblem('in-progress', { ...facts, state: 'completed' })?.field).toBe('causeCode');
    expect(transitionProblem('in-progress', { ...facts, state: 'incomplete' })?.field).toBe('incompleteReason');
    expect(transitionProblem('in-progress', { ...facts, state: 'incomplete', incompleteReason: 'unable-to-locate' })?.message).toMatch(/searches/);
    expect(transitionProblem('in-progress', { ...facts, state: 'incomplete', incompleteReason: 'unable-to-locate', searches: 2 })).toBeNull();
  });
});

describe('KPI arithmetic', () => {
  it('uptime counts only known time, from the report in force when the period starts', () => {
    const reports = [
      { t: 0, status: 'connected' },
      { t: 150, status: 'unreachable' },
      { t: 175, status: 'connected' },
    ];
    expect(connectedTime(reports, 100, 200)).toEqual({ connectedMs: 75, knownMs: 100 });
    expect(connectedTime([{ t: 150, status: 'connected' }], 100, 200)).toEqual({ connectedMs: 50, knownMs: 50 });
  });

  it('on-time PM % counts early work as compliant and missed windows against it, life support apart', () => {
    const k = pmByRisk(
      [
        { completion: 'on-time', risk: 'life-support' },
        { completion: 'early', risk: 'high-risk' },
        { completion: 'late', risk: 'other' },
      ],
      [{ risk: 'other' }],
    );
    expect(k).toMatchObject({ due: 4, onTime: 1, early: 1, late: 1, missed: 1, onTimePercent: 50 });
    expect(k.byRisk.lifeSupport.onTimePercent).toBe(100);
    expect(k.byRisk.other).toMatchObject({ due: 2, onTimePercent: 0 });
  });
});
