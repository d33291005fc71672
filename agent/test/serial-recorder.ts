import { createLogger } from '@medtel/shared';
import { createAgentMetrics } from '../dist/index.js';
import type { DataGap, RawSample, WaveformBatch } from '../dist/drivers/types.js';

/** Records what a serial driver reports, as the device runner would receive it. */
export function serialRecorder() {
  const samples: RawSample[] = [];
  const statuses: Array<{ status: string; reason: string | undefined; at: number }> = [];
  const identities: Array<Record<string, string>> = [];
  const waveforms: WaveformBatch[] = [];
  const gaps: DataGap[] = [];
  return {
    samples,
    statuses,
    identities,
    waveforms,
    gaps,
    sink: {
      sample: (s: RawSample) => samples.push(s),
      status: (status: string, reason?: string) => statuses.push({ status, reason, at: Date.now() }),
      identity: (i: Record<string, string>) => identities.push(i),
      waveform: (b: WaveformBatch) => waveforms.push(b),
      gap: (g: DataGap) => gaps.push(g),
    },
    lastStatus: () => statuses.at(-1),
  };
}

export function driverContext() {
  const metrics = createAgentMetrics();
  return { metrics, context: { logger: createLogger({ name: 'test', level: 'silent' }), metrics } };
}

/** Sum of a counter's values whose labels match. */
export async function counterTotal(metrics: ReturnType<typeof createAgentMetrics>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + Number(v.value), 0);
}
