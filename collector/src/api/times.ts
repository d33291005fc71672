import { badParameter } from './errors.js';

/** Times in the API: ISO 8601 out; ISO 8601 or epoch milliseconds in. */

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** ISO 8601 or epoch milliseconds, as everywhere in the API; 400 naming the field otherwise. */
export function parseTime(field: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw badParameter(field, `"${value.slice(0, 40)}" is not a time; use ISO 8601 (2026-11-26T08:00:00Z) or epoch milliseconds`);
  return ms;
}

/** Work entered afterwards is normal; work dated in the future is a typo. A few minutes allow for clock skew. */
export function notInFuture(field: string, ms: number, now = Date.now()): number {
  if (ms > now + 5 * 60_000) throw badParameter(field, 'is in the future');
  return ms;
}
