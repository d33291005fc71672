/**
 * Tracing is configured only by the standard OpenTelemetry environment
 * variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/),
 * so an integration engineer sets it up like any other OTel service. Off unless
 * an OTLP endpoint is named: a gateway with no trace backend loads no SDK.
 */

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/**
 * medtel's default: 1 batch in 100 starts a trace, and a trace begun upstream
 * (a sampled agent batch, a caller's traceparent) is always followed. The OTel
 * default (parentbased_always_on) would trace every reading batch of every
 * device, which at hospital scale is a second data path.
 */
export const DEFAULT_SAMPLER: SamplerName = 'parentbased_traceidratio';
export const DEFAULT_SAMPLE_RATIO = 0.01;

export type TracingConfig =
  | { enabled: false; reason: string }
  | {
      enabled: true;
      serviceName: string;
      sampler: SamplerName;
      ratio: number;
      /** Where spans go, as the exporter will resolve it (for the start-up log line). */
      endpoint: string;
      /** Settings that were ignored, in words for the log. */
      warnings: string[];
    };

type Env = Record<string, string | undefined>;

/** Reads the OTEL_* variables; never throws (a tracing typo must not stop a gateway), but says what it ignored. */
export function tracingConfigFromEnv(env: Env, defaultServiceName: string): TracingConfig {
  const warnings: string[] = [];
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const explicitOtlp = exporters.includes('otlp');
  if (!traces && !base && !explicitOtlp) return { enabled: false, reason: 'no OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT)' };
  const unknown = exporters.filter((e) => e !== 'otlp');
  if (unknown.length > 0) warnings.push(`OTEL_TRACES_EXPORTER: only "otlp" is supported; ignored ${unknown.join(', ')}`);
  // The OTLP default for HTTP when nothing is named.
  const endpoint = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces');
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json').trim();
  if (protocol !== 'http/json') warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported; spans are sent as OTLP/HTTP JSON`);

  let sampler = DEFAULT_SAMPLER;
  const named = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (named) {
    if ((SAMPLERS as readonly string[]).includes(named)) sampler = named as SamplerName;
    else warnings.push(`OTEL_TRACES_SAMPLER: unknown sampler "${named}"; using ${DEFAULT_SAMPLER}`);
  }
  let ratio = DEFAULT_SAMPLE_RATIO;
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (arg) {
    const n = Number(arg);
    if (Number.isFinite(n) && n >= 0 && n <= 1) ratio = n;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a ratio between 0 and 1; using ${DEFAULT_SAMPLE_RATIO}`);
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || defaultServiceName;
  return { enabled: true, serviceName, sampler, ratio, endpoint, warnings };
}
