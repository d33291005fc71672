import type { HtmRefusal } from '../store/htm-store.js';
import { HttpError, badParameter, notFound } from './errors.js';
import { staleVersion } from './http-conditions.js';

/** An HTM store's refusal (unknown id, stale version, a rule of the domain) as the HTTP error a client sees. */
export function refusalError(r: HtmRefusal, what: string): HttpError {
  if (r.reason === 'not_found') return notFound(r.what);
  if (r.reason === 'stale') return staleVersion(what, r.current);
  if (r.status === 409) return new HttpError(409, 'Conflict', `${r.field}: ${r.message}`, r.field);
  return badParameter(r.field, r.message);
}
