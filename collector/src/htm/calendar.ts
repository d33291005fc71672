/**
 * Calendar arithmetic in a site's time zone (IANA name, e.g. Europe/Berlin),
 * with Intl only: "each calendar month" and "due on 31 March" mean the
 * hospital's calendar, not UTC's. Times are epoch milliseconds throughout.
 */

export interface LocalDateTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows this IANA time zone name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock date and time at `ms` in `timeZone`. */
export function toLocal(ms: number, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
    millisecond: ((ms % 1000) + 1000) % 1000,
  };
}

/** How far the zone's wall clock is ahead of UTC at `ms`. */
function offsetAt(ms: number, timeZone: string): number {
  const l = toLocal(ms, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond) - ms;
}

/**
 * The instant a wall-clock time happens in `timeZone`. A time skipped by a
 * DST change (02:30 on spring-forward day) maps to the instant one hour
 * later (03:30); a repeated one (autumn) to the later of its two instants.
 */
export function fromLocal(l: LocalDateTime, timeZone: string): number {
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
  const offset = offsetAt(asUtc, timeZone);
  const guess = asUtc - offset;
  const corrected = offsetAt(guess, timeZone);
  return corrected === offset ? guess : asUtc - corrected;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * `months` calendar months later (or earlier), same wall-clock time; a day
 * the target month lacks is clamped to its last day: 31 Jan + 1 month is
 * 28 Feb (29 in a leap year), 29 Feb 2024 + 12 months is 28 Feb 2025.
 */
export function addMonths(ms: number, months: number, timeZone: string): number {
  const l = toLocal(ms, timeZone);
  const index = l.year * 12 + (l.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return fromLocal({ ...l, year, month, day: Math.min(l.day, daysInMonth(year, month)) }, timeZone);
}

/** `days` calendar days later, same wall-clock time (a DST day is 23 or 25 hours long). */
export function addDays(ms: number, days: number, timeZone: string): number {
  const l = toLocal(ms, timeZone);
  const d = new Date(Date.UTC(l.year, l.month - 1, l.day + days));
  return fromLocal({ ...l, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }, timeZone);
}

const midnight = { hour: 0, minute: 0, second: 0, millisecond: 0 };

export function startOfDay(ms: number, timeZone: string): number {
  return fromLocal({ ...toLocal(ms, timeZone), ...midnight }, timeZone);
}

export function startOfMonth(ms: number, timeZone: string): number {
  return fromLocal({ ...toLocal(ms, timeZone), day: 1, ...midnight }, timeZone);
}

/** Weeks start on Monday (ISO 8601), as hospital rosters in most of the world do. */
export function startOfWeek(ms: number, timeZone: string): number {
  const l = toLocal(ms, timeZone);
  const weekday = (new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay() + 6) % 7; // Monday 0
  return addDays(fromLocal({ ...l, ...midnight }, timeZone), -weekday, timeZone);
}

/** `YYYY-MM-DD` of `ms` in `timeZone`. */
export function localDate(ms: number, timeZone: string): string {
  const l = toLocal(ms, timeZone);
  return `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

/** Whole local calendar days from `from` to `to` (negative if `to` is earlier). */
export function calendarDaysBetween(from: number, to: number, timeZone: string): number {
  const a = toLocal(from, timeZone);
  const b = toLocal(to, timeZone);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / DAY_MS);
}
