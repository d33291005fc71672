import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly parameter?: string,
  ) {
    super(message);
  }
}

export const notFound = (message: string) => new HttpError(404, 'Not Found', message);
export const badParameter = (parameter: string, message: string) => new HttpError(400, 'Bad Request', `${parameter}: ${message}`, parameter);

/**
 * One error handler: client mistakes get a JSON body naming what to fix;
 * server faults are logged with the request and answered without details.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.error, message: err.message, ...(err.parameter ? { parameter: err.parameter } : {}) });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const first = fe.validation[0];
      const where =
        fe.validationContext === 'querystring' ? 'query parameter' : fe.validationContext === 'params' ? 'path parameter' : (fe.validationContext ?? 'request');
      const at = first?.instancePath.replace(/^\//, '') ?? '';
      // A missing field is reported at its parent's path; name the field itself.
      const missing = first?.keyword === 'required' ? String((first.params as { missingProperty?: string }).missingProperty) : undefined;
      const parameter =
        first?.keyword === 'additionalProperties'
          ? String((first.params as { additionalProperty?: string }).additionalProperty)
          : missing !== undefined
            ? [at, missing].filter(Boolean).join('/')
            : at;
      const unknown = fe.validationContext === 'body' ? 'unknown field' : 'unknown parameter';
      const text = first?.keyword === 'additionalProperties' ? unknown : (first?.message ?? 'invalid');
      return reply.code(400).send({ error: 'Bad Request', message: `${where} "${parameter}": ${text}`, parameter });
    }
    const status = fe.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.code(status).send({ error: 'Internal Server Error', message: 'the collector could not complete this request; see its log' });
    }
    // Fastify's own refusals (body too large, unsupported media type, bad JSON): the HTTP reason as
    // `error`, like every other error here, and Fastify's code for whoever searches its docs.
    return reply.code(status).send({ error: STATUS_CODES[status] ?? 'Error', message: fe.message, ...(fe.code ? { code: fe.code } : {}) });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` }));
}
