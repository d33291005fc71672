import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EcgSimulatorOptions, startEcgSimulator } from '@medtel/simulators';
import { BUILTIN_PROFILES_DIR, loadProfile } from '../dist/index.js';
import { ecgStreamDriver } from '../dist/drivers/ecg-stream/index.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';
import { counterTotal, driverContext, serialRecorder } from './serial-recorder.js';

/** The ECG stream driver against the ECG simulator over a socat pty pair and over TCP. */
const profile = loadProfile(join(BUILTIN_PROFILES_DIR, 'medtel-mt-ecg-12.yaml'));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startSim(o: Partial<EcgSimulatorOptions> & Pick<EcgSimulatorOptions, 'link'>) {
  const sim = await startEcgSimulator({ serial: 'ECG-3301', leads: 12, rateHz: 500, heartRate: 72, seed: 5, ...o });
  cleanup.push(() => sim.close());
  return sim;
}

function startDriver(path: string, timeoutMs = 500) {
  const rec = serialRecorder();
  const { metrics, context } = driverContext();
  const connection = ecgStreamDriver.prepare({ protocol: 'medtel-ecg', path, batch: '500ms' }, profile, {
    configFile: 'agent.yaml',
    field: 'devices[0].connection',
  });
  const session = ecgStreamDriver.start({ id: 'ecg-1', connection, profile, pollIntervalMs: 1000, timeoutMs }, rec.sink as never, context);
  cleanup.push(() => session.stop());
  return { rec, metrics, session };
}

/** Samples per lead received, and that every batch follows the previous one or a reported gap. */
function accounting(rec: ReturnType<typeof serialRecorder>) {
  let received = 0;
  let lost = 0;
  const lastT0 = rec.waveforms.at(-1)?.t0 ?? 0;
  for (const b of rec.waveforms) received += (b.series.get('ecg_ii') as number[]).length;
  // A gap after the last batch is followed by samples still being batched: not in the span yet.
  for (const g of rec.gaps) if (g.to < lastT0) lost += g.count / 12;
  return { received, lost };
}

describe('ECG stream driver against the ECG simulator', () => {
  it('reports the waveform heard before the monitor announces its sample rate as a gap, not silently', async () => {
    const port = await freePort();
    // The monitor's first info frame goes out before the agent listens; the next comes 5 s later.
    await startSim({ link: { tcp: { host: '127.0.0.1', port } }, leads: 12, rateHz: 500 });
    await new Promise((r) => setTimeout(r, 300));
    const { rec, metrics } = startDriver(`tcp://127.0.0.1:${port}`, 8000);
    const gap = await waitFor('the start-up gap', () => rec.gaps.find((g) => /before the monitor announced its sample rate/.test(g.reason)), 12_000);
    expect(gap.count % 12).toBe(0);
    expect(gap.count).toBeGreaterThan(12 * 500); // more than a second of 12 leads at 500 Hz
    expect(gap.to).toBeGreaterThanOrEqual(gap.from);
    expect(await counterTotal(metrics, 'medtel_agent_serial_lost_samples_total')).toBe(gap.count);
    await waitFor('batches after the info frame', () => rec.waveforms.length >= 1, 5_000);
  }, 20_000);

  it('over a pty pair: identity, 12 leads in contiguous batches, numerics', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyECG');
    await startSim({ link: { pty: link } });
    const { rec } = startDriver(link);
    await waitFor('4 batches and numerics', () => rec.waveforms.length >= 4 && rec.samples.length >= 1, 15_000);
    expect(rec.identities[0]).toEqual({ model: 'MT-ECG-12', serial: 'ECG-3301', firmware: '3.2.1' });
    const [a, b] = rec.waveforms;
    expect(a?.series.size).toBe(12);
    expect(a?.periodMs).toBe(2);
    expect(a?.series.get('ecg_v6')).toHaveLength(250);
    expect(b?.t0).toBe((a?.t0 as number) + 500); // contiguous: 250 samples x 2 ms
    // R waves reach ~1.2 mV on lead II (raw 240 counts of 5 uV)
    expect(Math.max(...rec.waveforms.flatMap((w) => w.series.get('ecg_ii') as number[]))).toBeGreaterThan(200);
    expect(rec.samples[0]?.values.get('heart_rate')).toBeGreaterThan(65);
    expect(rec.samples[0]?.values.get('temperature')).toBeCloseTo(36.9, 0);
    expect(rec.gaps).toEqual([]);
  });

  it('garbage, bad CRCs and lost frames: counted, resynchronised, lost samples reported exactly as a gap', async () => {
    const port = await freePort();
    const sim = await startSim({ link: { tcp: { host: '127.0.0.1', port } }, faults: { garbage: 0.05, badChecksum: 0.03, truncate: 0.03 } });
    const { rec, metrics } = startDriver(`tcp://127.0.0.1:${port}`);
    await waitFor('10 batches', () => rec.waveforms.length >= 10, 20_000);
    const stats = sim.stats();
    expect(stats.badChecksum + stats.truncated).toBeGreaterThan(0);
    expect(await counterTotal(metrics, 'medtel_agent_serial_frame_errors_total', { kind: 'checksum' })).toBeGreaterThan(0);
    expect(await counterTotal(metrics, 'medtel_agent_serial_frame_errors_total', { kind: 'garbage' })).toBeGreaterThan(0);
    // Every sample index from the first received to the last is either delivered or in a gap; nothing twice.
    const first = rec.waveforms[0] as { t0: number };
    const last = rec.waveforms.at(-1) as { t0: number; series: Map<string, number[]> };
    const span = (last.t0 - first.t0) / 2 + (last.series.get('ecg_ii') as number[]).length;
    const { received, lost } = accounting(rec);
    expect(lost).toBeGreaterThan(0);
    expect(received + lost).toBe(span);
    expect(await counterTotal(metrics, 'medtel_agent_serial_lost_samples_total')).toBe(rec.gaps.reduce((n, g) => n + g.count, 0));
  });

  it('the pty pair dies mid-stream: unreachable, then back with the missed samples as one gap', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const link = join(dir.path, 'ttyECG');
    const sim = await startSim({ link: { pty: link } });
    const { rec } = startDriver(link);
    await waitFor('streaming', () => rec.waveforms.length >= 2);
    const unplugged = sim.unplug(1500);
    await waitFor('unreachable', () => rec.lastStatus()?.status === 'unreachable', 5000);
    await unplugged;
    await waitFor('a gap and data after it', () => rec.gaps.length === 1 && (rec.waveforms.at(-1)?.t0 ?? 0) > (rec.gaps[0]?.to as number), 15_000);
    const gap = rec.gaps[0] as { from: number; to: number; count: number };
    expect(gap.count / 12).toBeGreaterThan(500); // > 1 s at 500 Hz
    expect(gap.to - gap.from).toBe((gap.count / 12 - 1) * 2);
    const first = rec.waveforms[0] as { t0: number };
    const last = rec.waveforms.at(-1) as { t0: number; series: Map<string, number[]> };
    const { received, lost } = accounting(rec);
    expect(received + lost).toBe((last.t0 - first.t0) / 2 + (last.series.get('ecg_ii') as number[]).length);
    expect(rec.statuses.map((s) => s.status)).toContain('connected');
    expect(rec.lastStatus()?.status).toBe('connected');
  });
});
