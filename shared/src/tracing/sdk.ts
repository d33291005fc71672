import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';
import { setTracingActive } from './context.js';
import { tracingConfigFromEnv, type TracingConfig } from './config.js';

export interface TracingOptions {
  /** service.name unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string;
  /** The environment to read OTEL_* from; process.env unless given. */
  env?: Record<string, string | undefined>;
  /**
   * Tests: spans go here, synchronously, instead of to an OTLP endpoint
   * (tracing is then on whatever the environment says; the sampler still comes from it).
   */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** What was configured (or why tracing is off), for the start-up log line. */
  readonly config: TracingConfig;
  /** Sends what is buffered and uninstalls the SDK; resolves even if the backend is unreachable. */
  shutdown(): Promise<void>;
}

/** How long shutdown waits for the backend: a stopping gateway must not hang on a dead trace collector. */
const SHUTDOWN_TIMEOUT_MS = 3000;

/**
 * Starts OpenTelemetry tracing when the environment asks for it. The SDK is
 * imported only then, so a gateway with tracing off neither loads nor pays
 * for it; the API stays a no-op. Only the trace SDK, the OTLP/HTTP (JSON)
 * exporter and the async-hooks context manager: no auto-instrumentation (it
 * patches modules at load, and every span we want is made by hand).
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const env = options.env ?? process.env;
  const config = options.exporter ? withExporter(env, options.serviceName) : tracingConfigFromEnv(env, options.serviceName);
  if (!config.enabled) return { config, shutdown: async () => {} };

  const [sdk, { OTLPTraceExporter }, { resourceFromAttributes }, { trace, context, propagation }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
  ]);
  const ratio = new sdk.TraceIdRatioBasedSampler(config.ratio);
  const samplers = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => ratio,
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: ratio }),
  } as const;
  const processor = options.exporter
    ? new sdk.SimpleSpanProcessor(options.exporter)
    : // Batched off the hot path; the queue is bounded, so a dead backend costs dropped spans, not memory.
      new sdk.BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint }), { maxQueueSize: 2048, scheduledDelayMillis: 1000 });
  const provider = new sdk.NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    sampler: samplers[config.sampler](),
    spanProcessors: [processor],
  });
  // Installs the global tracer provider, the AsyncLocalStorage context manager and the W3C propagator.
  provider.register();
  setTracingActive(true);
  return {
    config,
    async shutdown() {
      setTracingActive(false);
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref());
      await Promise.race([provider.shutdown().catch(() => undefined), timeout]);
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** A test's exporter: on, with the sampler the environment names. */
function withExporter(env: Record<string, string | undefined>, serviceName: string): TracingConfig {
  const config = tracingConfigFromEnv({ ...env, OTEL_SDK_DISABLED: undefined, OTEL_TRACES_EXPORTER: 'otlp' }, serviceName);
  return config.enabled ? { ...config, endpoint: 'in-memory exporter' } : config;
}

/** One start-up line: where spans go and how they are sampled (debug when off), plus any ignored setting. */
export function logTracing(tracing: Tracing, logger: Logger): void {
  const c = tracing.config;
  if (!c.enabled) {
    logger.debug({ reason: c.reason }, 'tracing off');
    return;
  }
  for (const warning of c.warnings) logger.warn(warning);
  logger.info({ endpoint: c.endpoint, sampler: c.sampler, ratio: c.ratio, service: c.serviceName }, 'tracing on');
}
