import type { FastifyReply } from 'fastify';
import type { HtmOutcome, HtmRefusal } from '../store/htm-store.js';
import { HttpError, badParameter, notFound } from './errors.js';
import { etag, staleVersion } from './http-conditions.js';

/** An HTM store's refusal (unknown id, stale version, a rule of the domain) as the HTTP error a client sees. */
export function refusalError(r: HtmRefusal, what: string): HttpError {
  if (r.reason === 'not_found') return notFound(r.what);
  if (r.reason === 'stale') return staleVersion(what, r.current);
  if (r.status === 409) return new HttpError(409, 'Conflict', `${r.field}: ${r.message}`, r.field);
  return badParameter(r.field, r.message);
}

/** The record an HTM change produced, with its ETag set on the reply; the store's refusal as the HTTP error otherwise. */
export function changed<T extends { version: number }>(reply: FastifyReply, outcome: HtmOutcome<T>, what: string): T {
  if (!outcome.ok) throw refusalError(outcome, what);
  reply.header('etag', etag(outcome.value.version));
  return outcome.value;
}
