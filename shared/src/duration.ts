/**
 * Durations in config files and CLI flags are written the way people say them:
 * "250ms", "5s", "2m", "8h", "30d". A bare number is milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h|d)$';
const DURATION_RE = new RegExp(DURATION_PATTERN);

/** Milliseconds for a duration string or number; throws with the offending text otherwise. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid duration ${value}: expected a non-negative number of milliseconds`);
    return value;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!DURATION_RE.test(text)) throw new Error(`invalid duration "${value}": expected e.g. 250ms, 5s, 2m, 8h, 30d`);
  const match = /^(\d+(?:\.\d+)?)([a-z]+)$/.exec(text) as RegExpExecArray;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}
