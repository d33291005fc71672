import { addDays, addMonths, startOfDay, startOfMonth, startOfWeek } from './calendar.js';

/**
 * When preventive maintenance is due and whether it was done on time, as The
 * Joint Commission's EC chapter counts it (HTM-NOTES 1): measured from the
 * last completion; weekly = in each calendar week, monthly = in each calendar
 * month, quarterly = 3 months ±10 days, semiannual = 6 months ±20, annual =
 * 12 months ±30, every N years = N×12 months ±45. The ± tolerances are site
 * settings (collector config `htm.onTimeToleranceDays`).
 */

export const PM_FREQUENCIES = ['weekly', 'monthly', 'quarterly', 'semiannual', 'annual', 'multi-year'] as const;
export type PmFrequency = (typeof PM_FREQUENCIES)[number];

export interface OnTimeTolerances {
  quarterly: number;
  semiannual: number;
  annual: number;
  multiYear: number;
}

export const DEFAULT_TOLERANCES: OnTimeTolerances = { quarterly: 10, semiannual: 20, annual: 30, multiYear: 45 };

/** The site's calendar: its time zone (what "calendar month" means) and its on-time tolerances. */
export interface SiteCalendar {
  timeZone: string;
  tolerances: OnTimeTolerances;
}

export const DEFAULT_CALENDAR: SiteCalendar = { timeZone: 'UTC', tolerances: DEFAULT_TOLERANCES };

/** `dueAt` is the nominal due time; the work is on time in [windowStart, windowEnd). */
export interface DueWindow {
  dueAt: number;
  windowStart: number;
  windowEnd: number;
}

export type Completion = 'early' | 'on-time' | 'late';

/** Months between occurrences, for the frequencies measured in months (weekly has none). */
export function frequencyMonths(frequency: PmFrequency, years = 1): number {
  switch (frequency) {
    case 'weekly':
      return 0;
    case 'monthly':
      return 1;
    case 'quarterly':
      return 3;
    case 'semiannual':
      return 6;
    case 'annual':
      return 12;
    case 'multi-year':
      return 12 * years;
  }
}

function toleranceDays(frequency: PmFrequency, t: OnTimeTolerances): number {
  if (frequency === 'quarterly') return t.quarterly;
  if (frequency === 'semiannual') return t.semiannual;
  if (frequency === 'annual') return t.annual;
  return t.multiYear;
}

/** A whole-day window: from the start of (due − n days) to the end of (due + n days), local time. */
function dayWindow(dueAt: number, days: number, timeZone: string): DueWindow {
  const dueDay = startOfDay(dueAt, timeZone);
  return { dueAt: dueDay, windowStart: addDays(dueDay, -days, timeZone), windowEnd: addDays(dueDay, days + 1, timeZone) };
}

/**
 * The window of the next occurrence. With no completion yet, the first one
 * is due at `firstDueAt` (its calendar week or month for weekly and monthly).
 * For weekly and monthly the window is the next calendar week or month after
 * the one of the last completion, and `dueAt` is its start.
 */
export function nextWindow(
  schedule: { frequency: PmFrequency; years?: number | null; firstDueAt: number; lastCompletedAt?: number | null },
  calendar: SiteCalendar,
): DueWindow {
  const { frequency, lastCompletedAt, firstDueAt } = schedule;
  const tz = calendar.timeZone;
  const done = lastCompletedAt ?? null;
  if (frequency === 'weekly') {
    const start = done === null ? startOfWeek(firstDueAt, tz) : addDays(startOfWeek(done, tz), 7, tz);
    return { dueAt: start, windowStart: start, windowEnd: addDays(start, 7, tz) };
  }
  if (frequency === 'monthly') {
    const start = done === null ? startOfMonth(firstDueAt, tz) : addMonths(startOfMonth(done, tz), 1, tz);
    return { dueAt: start, windowStart: start, windowEnd: addMonths(start, 1, tz) };
  }
  const due = done === null ? firstDueAt : addMonths(done, frequencyMonths(frequency, schedule.years ?? 1), tz);
  return dayWindow(due, toleranceDays(frequency, calendar.tolerances), tz);
}

/**
 * Early work is compliant (the device was serviced more often than required)
 * but is reported apart, since it moves every later due date forward.
 */
export function classifyCompletion(at: number, window: DueWindow): Completion {
  if (at < window.windowStart) return 'early';
  return at < window.windowEnd ? 'on-time' : 'late';
}
