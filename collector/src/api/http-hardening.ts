import type { FastifyInstance } from 'fastify';

/**
 * HTTP limits and response headers for the API. No helmet/cors plugin: the
 * handful of headers below is all the API needs, and CORS is off simply by
 * answering no cross-origin request with Access-Control-* headers (browsers
 * then refuse other origins' scripts the response).
 */
export interface HttpLimits {
  bodyLimit: number;
  maxHeaderSize: number;
  /** Whole request (headers and body) must arrive within this (slow-client / slowloris). */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  bodyLimit: 1024 * 1024,
  maxHeaderSize: 16 * 1024,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
};

/** Fastify constructor options for the limits. */
export function fastifyLimitOptions(limits: HttpLimits) {
  return {
    bodyLimit: limits.bodyLimit,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: { maxHeaderSize: limits.maxHeaderSize },
  };
}

/** The API answers JSON only: nothing in it may run as a page, be framed, or be cached. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The docs page (swagger-ui) loads its own scripts and styles from this server only; no CDN, no inline script. */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The dashboard (docs/dashboard.md): its own scripts only, no inline script or
 * style element; fetch() to this origin only (the API and its event stream).
 * style-src needs no 'unsafe-inline': uPlot sizes its elements through the
 * CSSOM (element.style), which CSP does not restrict.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** `pagePrefix`: where the dashboard's files are served (the page itself is `/`). */
export function installHttpHardening(app: FastifyInstance, limits: HttpLimits, docsPrefix: string, pagePrefix?: string): void {
  app.server.headersTimeout = limits.headersTimeoutMs;
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    const path = request.url.split('?')[0] ?? '';
    const page = pagePrefix !== undefined && (path === '/' || path.startsWith(`${pagePrefix}/`));
    reply.header('content-security-policy', request.url.startsWith(docsPrefix) ? DOCS_CSP : page ? PAGE_CSP : API_CSP);
    // Responses may carry PHI or secrets (a new gateway's): no shared or browser cache keeps them.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.removeHeader('x-powered-by');
    return payload;
  });
}
