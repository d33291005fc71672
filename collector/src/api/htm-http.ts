import type { FastifyRequest } from 'fastify';
import type { HtmRefusal } from '../store/htm-store.js';
import type { Actor } from '../store/store.js';
import { HttpError, badParameter, notFound } from './errors.js';

/** Small pieces the HTM routes share: times, If-Match, the caller, and store refusals as HTTP errors. */

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

export function expectedVersion(request: FastifyRequest, what: string): number {
  const ifMatch = request.headers['if-match'];
  const expected = typeof ifMatch === 'string' ? Number(ifMatch.replace(/^W\//, '').replaceAll('"', '')) : Number.NaN;
  if (!Number.isInteger(expected)) {
    throw new HttpError(
      428,
      'Precondition Required',
      `send If-Match with the version you read (the ETag of GET ${what}), so that two people cannot overwrite each other`,
    );
  }
  return expected;
}

export function actorOf(request: FastifyRequest): Actor {
  return request.user as Actor;
}

export function refusalError(r: HtmRefusal, what: string): HttpError {
  if (r.reason === 'not_found') return notFound(r.what);
  if (r.reason === 'stale')
    return new HttpError(409, 'Conflict', `the ${what} was changed meanwhile (now version ${r.current}); read it again and re-apply your edit`);
  if (r.status === 409) return new HttpError(409, 'Conflict', `${r.field}: ${r.message}`, r.field);
  return badParameter(r.field, r.message);
}
