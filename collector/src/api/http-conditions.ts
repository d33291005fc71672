import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/**
 * Optimistic concurrency over HTTP, the same for every editable resource: a
 * client sends back in If-Match the version it read (the ETag), and a change
 * made meanwhile by someone else is refused with 409 rather than overwritten.
 */

/** The version named in If-Match ("3", W/"3"); 428 naming where to read it when missing or not a version. */
export function expectedVersion(request: FastifyRequest, readFrom: string, why = 'so that two people cannot overwrite each other'): number {
  const ifMatch = request.headers['if-match'];
  const expected = typeof ifMatch === 'string' ? Number(ifMatch.replace(/^W\//, '').replaceAll('"', '')) : Number.NaN;
  if (!Number.isInteger(expected)) {
    throw new HttpError(428, 'Precondition Required', `send If-Match with the version you read (the ETag of GET ${readFrom}), ${why}`);
  }
  return expected;
}

/**
 * The version named in If-Match when the client sent one (where it is
 * optional, e.g. revoking a gateway); 400 if it is not a version.
 */
export function optionalVersion(request: FastifyRequest): number | undefined {
  const ifMatch = request.headers['if-match'];
  if (typeof ifMatch !== 'string') return undefined;
  const n = Number(ifMatch.replace(/^W\//, '').replaceAll('"', ''));
  if (!Number.isInteger(n)) throw new HttpError(400, 'Bad Request', 'If-Match: expected the version number (the ETag) you read', 'If-Match');
  return n;
}

/** 409 for an edit based on an old version of `what` (e.g. "device"). */
export function staleVersion(what: string, current: number): HttpError {
  return new HttpError(409, 'Conflict', `the ${what} was changed meanwhile (now version ${current}); read it again and re-apply your edit`);
}

/** The ETag of a resource at `version`: what a client reads and sends back in If-Match. */
export const etag = (version: number) => `"${version}"`;
