/**
 * An OTLP/HTTP endpoint for `ingest --trace-ratio`: accepts POST /v1/traces and
 * counts spans, so the collector exports as it would to Jaeger or Tempo without
 * a backend's cost landing on this machine's figures.
 */
import { createServer } from 'node:http';
import { freePort, HOST } from './net.mjs';

export async function startTraceSink() {
  let spans = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, HOST, resolve));
  process.stderr.write(`bench ingest: tracing on, OTLP sink on ${HOST}:${port}\n`);
  return {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://${HOST}:${port}`, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' },
    get spans() {
      return spans;
    },
    close() {
      process.stderr.write(`bench ingest: the OTLP sink received ${spans} spans\n`);
      server.close();
    },
  };
}
