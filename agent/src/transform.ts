import type { AlarmMessage, MetricDescriptor, PhiRecord, Reading } from '@medtel/shared';
import type { RawSample, RawValue } from './drivers/types.js';
import type { ProfileAlarm, ProfileMetric } from './profiles/schema.js';
import type { ResolvedProfile } from './profiles/load.js';

/** An alarm phase ready for the outbox (seq and sentAt are added at publish). */
export type AlarmEvent = Omit<AlarmMessage, 'v' | 'seq' | 'sentAt' | 'traceparent'>;

/**
 * Applies a profile's generic properties to raw driver values: scaling,
 * rounding, enumerations, IEEE 11073 codes; and turns alarm bits into
 * start/end alarm events. One instance per device: it remembers which
 * alarms are active so each phase is sent once.
 */
export class ProfileTransform {
  private readonly active = new Set<string>();
  private readonly metrics: Map<string, ProfileMetric>;

  constructor(
    private readonly profile: ResolvedProfile,
    private readonly deviceId: string,
  ) {
    this.metrics = new Map(profile.metrics.map((m) => [m.id, m]));
  }

  readings(sample: RawSample): Reading[] {
    const out: Reading[] = [];
    for (const metric of this.profile.metrics) {
      if (metric.phi) continue; // patient identity: sealed, never a reading (see patient())
      const descriptor = this.profile.descriptors.get(metric.id) as MetricDescriptor;
      const raw = sample.values.get(metric.id);
      if (raw !== undefined) {
        out.push({ ...descriptor, t: sample.t, value: this.convert(metric, raw), quality: 'good' });
      } else if (sample.failed?.has(metric.id)) {
        // Never a fabricated value: the reading says it is missing, and why is in the device status.
        out.push({ ...descriptor, t: sample.t, value: null, quality: 'bad' });
      }
    }
    return out;
  }

  /** One reading per waveform sample, at t0 + i x period: the same codes, units and scaling as any metric. */
  waveformReadings(metricId: string, t0: number, periodMs: number, samples: number[]): Reading[] {
    const metric = this.metrics.get(metricId);
    const descriptor = this.profile.descriptors.get(metricId);
    if (!metric || !descriptor) return [];
    return samples.map((raw, i) => ({ ...descriptor, t: Math.round(t0 + i * periodMs), value: this.convert(metric, raw), quality: 'good' as const }));
  }

  /**
   * The patient record in this sample: undefined if the sample says nothing about
   * the patient (e.g. an ECG numerics frame), null if the device shows no patient
   * (blank fields: discharged), else the fields. Values never leave the agent in clear.
   */
  patient(sample: RawSample): PhiRecord | null | undefined {
    let seen = false;
    const record: PhiRecord = {};
    for (const [metricId, field] of this.profile.phiFields) {
      const raw = sample.values.get(metricId);
      if (raw === undefined) continue;
      seen = true;
      const text = String(raw).trim();
      if (text) record[field] = text;
    }
    if (!seen) return undefined;
    return record.mrn ? record : null;
  }

  /** Alarm phases implied by this sample (start when a condition appears, end when it clears). */
  alarms(sample: RawSample): AlarmEvent[] {
    const events: AlarmEvent[] = [];
    for (const alarm of this.profile.alarms) {
      const raw = sample.values.get(alarm.metric);
      if (raw === undefined) continue; // unknown this time: keep the current phase
      const on = isActive(alarm, raw);
      if (on === this.active.has(alarm.id)) continue;
      if (on) this.active.add(alarm.id);
      else this.active.delete(alarm.id);
      events.push({
        device: this.deviceId,
        t: sample.t,
        alarm: alarm.id,
        ...this.profile.alarmCodes.get(alarm.id),
        priority: alarm.priority,
        phase: on ? 'start' : 'end',
        state: on ? 'active' : 'inactive',
        text: alarm.text,
      });
    }
    return events;
  }

  private convert(metric: ProfileMetric, raw: RawValue): number | string | boolean {
    if (typeof raw !== 'number') return raw;
    if (metric.enum) return metric.enum[String(raw)] ?? `unknown(${raw})`;
    const value = raw * metric.scale + metric.offset;
    if (metric.decimals === undefined) return value;
    const f = 10 ** metric.decimals;
    return Math.round(value * f) / f;
  }

  get metricIds(): string[] {
    return [...this.metrics.keys()];
  }
}

function isActive(alarm: ProfileAlarm, raw: RawValue): boolean {
  if (typeof raw !== 'number') return Boolean(raw);
  return alarm.bit === undefined ? raw !== 0 : ((raw >>> alarm.bit) & 1) === 1;
}
