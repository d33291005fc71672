import { isDeepStrictEqual } from 'node:util';
import { topics, type DeviceBirthMessage, type DiscoveryInfo, type DeviceStatus, type Keyring, type Logger, type PhiRecord } from '@medtel/shared';
import type {
  DataGap,
  DeviceSession,
  DeviceSink,
  DeviceSpec,
  DiagnosticOutcome,
  DiagnosticRequest,
  Driver,
  RawSample,
  WaveformBatch,
} from './drivers/types.js';
import type { AgentMetrics } from './metrics.js';
import type { Outbox, OutboxMessage } from './outbox/index.js';
import type { IdentityField, ResolvedProfile } from './profiles/load.js';
import { ProfileTransform } from './transform.js';
import { BatchTrace } from './batch-trace.js';

export interface DeviceRunnerOptions {
  site: string;
  gateway: string;
  spec: DeviceSpec<unknown>;
  driver: Driver;
  outbox: Outbox;
  logger: Logger;
  metrics: AgentMetrics;
  /** Seals patient fields (profile metrics marked `phi:`); without it they are dropped, never sent in clear. */
  keyring?: Keyring;
  /** Absolute state directory, handed to drivers (OPC UA keeps its PKI there). */
  stateDir?: string;
  /** Set for a device plug-and-play identified: its birth says how (the collector lists it as awaiting approval). */
  discovery?: DiscoveryInfo;
}

/** How often the record is sealed again while the same patient stays associated. */
const RESEAL_MS = 10 * 60_000;

export interface DeviceState {
  id: string;
  profile: string;
  protocol: string;
  status: DeviceStatus | 'starting';
  reason?: string;
  lastSampleAt?: number;
  /** How plug-and-play found it; absent for configured devices. */
  discovery?: DiscoveryInfo;
  identity: Partial<Record<IdentityField, string>>;
}

/**
 * One configured device: runs its driver session and turns what the driver
 * reports into outbox messages: a birth when its identity is known (or
 * changes), a status on every change, data per sample, alarm phases.
 */
export class DeviceRunner implements DeviceSink {
  private session: DeviceSession | undefined;
  private readonly transform: ProfileTransform;
  private readonly profile: ResolvedProfile;
  readonly state: DeviceState;
  private birthSent: Partial<Record<IdentityField, string>> | undefined;
  /** The associated patient (plain only in memory) and its pseudonym; undefined: none. */
  private patient: { record: PhiRecord; subject: string } | undefined;
  private patientKey = '';
  /** The next data message carries the sealed record (after each admit or change). */
  private sealPending = false;
  private phiDropWarned = false;
  private lastSealAt = 0;

  constructor(private readonly o: DeviceRunnerOptions) {
    this.profile = o.spec.profile;
    this.transform = new ProfileTransform(this.profile, o.spec.id);
    this.state = {
      id: o.spec.id,
      profile: this.profile.profile,
      protocol: o.driver.protocols[0] as string,
      status: 'starting',
      identity: {},
      ...(o.discovery ? { discovery: o.discovery } : {}),
    };
  }

  start(): void {
    this.o.metrics.deviceConnected.set({ device: this.o.spec.id }, 0);
    this.session = this.o.driver.start(this.o.spec, this, {
      logger: this.o.logger,
      metrics: this.o.metrics,
      ...(this.o.stateDir ? { stateDir: this.o.stateDir } : {}),
    });
  }

  async stop(): Promise<void> {
    await this.session?.stop();
  }

  /** The profile's tests, if this device's driver can run them (else none: the birth must not promise what cannot run). */
  get diagnostics(): Array<{ name: string; description: string; changesState: boolean; timeoutMs: number }> {
    if (!this.session?.diagnose) return [];
    return [...this.profile.tests.values()].map((t) => ({ name: t.name, description: t.description, changesState: t.changesState, timeoutMs: t.timeoutMs }));
  }

  /** True when the driver implements the diagnostics hook. */
  get canDiagnose(): boolean {
    return typeof this.session?.diagnose === 'function';
  }

  diagnose(request: DiagnosticRequest): Promise<DiagnosticOutcome> {
    const session = this.session;
    if (!session?.diagnose) return Promise.resolve({ ok: false, error: `the ${this.state.protocol} driver cannot run diagnostics` });
    return session.diagnose(request);
  }

  identity(identity: Partial<Record<IdentityField, string>>): void {
    this.state.identity = identity;
    if (this.birthSent && isDeepStrictEqual(this.birthSent, identity)) return;
    this.birthSent = identity;
    this.commit([this.birthMessage(identity)]);
  }

  status(status: DeviceStatus, reason?: string): void {
    if (this.state.status === status && this.state.reason === reason) return;
    const level = status === 'connected' ? 'info' : 'warn';
    this.o.logger[level]({ device: this.o.spec.id, status, reason }, 'device status changed');
    this.state.status = status;
    this.state.reason = reason;
    this.o.metrics.deviceConnected.set({ device: this.o.spec.id }, status === 'connected' ? 1 : 0);
    // A device that never answered has no birth yet: send one from the profile, so
    // the registry lists it (as unreachable) instead of not at all.
    const messages: OutboxMessage[] = [];
    if (!this.birthSent) {
      this.birthSent = {};
      messages.push(this.birthMessage(this.birthSent));
    }
    messages.push({
      topic: this.topic('status'),
      kind: 'status',
      device: this.o.spec.id,
      retain: true,
      body: { device: this.o.spec.id, t: Date.now(), status, ...(reason ? { reason } : {}) },
    });
    this.commit(messages);
  }

  sample(sample: RawSample): void {
    // undefined unless tracing is on and this batch is sampled (docs/tracing.md).
    const trace = BatchTrace.begin(this.o.spec.id, this.state.protocol, sample.read, sample.t);
    this.updatePatient(sample);
    this.state.lastSampleAt = sample.t;
    const readings = this.transform.readings(sample);
    const alarms = this.transform.alarms(sample);
    trace?.mapped(readings.length, alarms.length);
    const traceField = trace?.field();
    const messages: OutboxMessage[] = alarms.map((alarm) => ({
      topic: this.topic('alarm'),
      kind: 'alarm',
      device: this.o.spec.id,
      body: traceField ? { ...alarm, ...traceField } : alarm,
    }));
    if (readings.length > 0) {
      const times = readings.map((r) => r.t);
      messages.push({
        topic: this.topic('data'),
        kind: 'data',
        device: this.o.spec.id,
        body: { device: this.o.spec.id, clock: sample.clock, readings, ...this.subjectField(), ...traceField },
        readings: { count: readings.length, from: Math.min(...times), to: Math.max(...times) },
        ...this.sealField(),
      });
    }
    if (messages.length === 0) {
      trace?.end();
      return;
    }
    this.commit(trace ? messages.map((m) => trace.track(m)) : messages);
    this.o.metrics.readings.inc({ device: this.o.spec.id }, readings.length);
    for (const alarm of alarms) this.o.metrics.alarms.inc({ device: this.o.spec.id, phase: alarm.phase });
  }

  /**
   * Waveform samples: one data message per lead per batch, so a 12-lead 500 Hz
   * second (6000 readings) stays far below the 1 MiB message limit and the
   * message rate stays at a dozen per second per monitor.
   */
  waveform(batch: WaveformBatch): void {
    const messages: OutboxMessage[] = [];
    let total = 0;
    for (const [metric, samples] of batch.series) {
      const readings = this.transform.waveformReadings(metric, batch.t0, batch.periodMs, samples);
      if (readings.length === 0) continue;
      total += readings.length;
      messages.push({
        topic: this.topic('data'),
        kind: 'data',
        device: this.o.spec.id,
        body: { device: this.o.spec.id, clock: batch.clock, readings, ...this.subjectField() },
        readings: { count: readings.length, from: (readings[0] as { t: number }).t, to: (readings.at(-1) as { t: number }).t },
        ...this.sealField(),
      });
    }
    if (messages.length === 0) return;
    this.state.lastSampleAt = Date.now();
    this.commit(messages);
    this.o.metrics.readings.inc({ device: this.o.spec.id }, total);
  }

  /** Data lost before it reached the agent (e.g. frames lost on a serial line): a gap message, never invented values. */
  gap(gap: DataGap): void {
    this.o.logger.warn({ device: this.o.spec.id, ...gap }, 'device data lost before reaching the agent');
    this.commit([
      {
        topic: topics.gap(this.o.site, this.o.gateway),
        kind: 'gap',
        device: this.o.spec.id,
        body: { device: this.o.spec.id, from: gap.from, to: gap.to, count: gap.count, kind: 'data', reason: gap.reason },
        readings: { count: gap.count, from: gap.from, to: gap.to },
      },
    ]);
  }

  /**
   * Tracks the patient the device shows. Plain fields stay in this object; what
   * leaves is the subject id on every data message and, once per association,
   * the sealed record. Logs say that the association changed, never who.
   */
  private updatePatient(sample: RawSample): void {
    const p = this.transform.patient(sample);
    if (p === undefined) return;
    const key = p === null ? '' : JSON.stringify(p);
    if (key === this.patientKey) return;
    this.patientKey = key;
    this.sealPending = false;
    this.patient = undefined;
    if (p === null) {
      this.o.logger.info({ device: this.o.spec.id }, 'patient association ended (device shows no patient)');
      return;
    }
    const keyring = this.o.keyring;
    if (!keyring) {
      this.o.metrics.phiDropped.inc({ device: this.o.spec.id });
      if (!this.phiDropWarned) {
        this.phiDropWarned = true;
        this.o.logger.warn(
          { device: this.o.spec.id },
          'device shows a patient but no PHI keyring is configured (phi.keyring): patient fields are dropped; see docs/phi.md',
        );
      }
      return;
    }
    this.patient = { record: p, subject: keyring.subject(p.mrn as string) };
    this.sealPending = true;
    this.o.logger.info({ device: this.o.spec.id }, 'patient association changed; the next data message carries the sealed record');
  }

  private subjectField(): { subject?: string } {
    return this.patient ? { subject: this.patient.subject } : {};
  }

  private sealField(): Pick<OutboxMessage, 'seal'> {
    const patient = this.patient;
    const keyring = this.o.keyring;
    if (!patient || !keyring) return {};
    // Sealed again now and then, so a collector that lost a message (evicted as a gap) still gets the record.
    if (!this.sealPending && Date.now() - this.lastSealAt < RESEAL_MS) return {};
    this.sealPending = false;
    this.lastSealAt = Date.now();
    return {
      seal: (seq) => {
        const phi = keyring.seal(patient.record, { gateway: this.o.gateway, device: this.o.spec.id, seq });
        this.o.metrics.phiSealed.inc({ kid: phi.kid });
        return { phi };
      },
    };
  }

  private birthMessage(identity: Partial<Record<IdentityField, string>>): OutboxMessage {
    const p = this.profile;
    const body: Omit<DeviceBirthMessage, 'v' | 'seq' | 'sentAt'> = {
      device: this.o.spec.id,
      type: p.type,
      ...(p.deviceCode ? { deviceCode: p.deviceCode } : {}),
      manufacturer: identity.manufacturer || p.manufacturer,
      model: identity.model || p.model,
      ...(identity.serial ? { serial: identity.serial } : {}),
      ...(identity.firmware ? { firmware: identity.firmware } : {}),
      protocol: this.state.protocol,
      profile: p.profile,
      // Patient fields are not metrics of the device: not announced.
      metrics: [...p.descriptors.values()].filter((d) => !p.phiFields.has(d.metric)),
      ...(this.diagnostics.length > 0 ? { diagnostics: this.diagnostics.map(({ timeoutMs: _t, ...d }) => d) } : {}),
      ...(this.o.discovery ? { discovery: this.o.discovery } : {}),
    };
    return { topic: this.topic('birth'), kind: 'birth', device: this.o.spec.id, retain: true, body };
  }

  private topic(kind: 'birth' | 'status' | 'data' | 'alarm'): string {
    return topics.device(this.o.site, this.o.gateway, this.o.spec.id, kind);
  }

  private commit(messages: OutboxMessage[]): void {
    try {
      this.o.outbox.enqueue(messages);
    } catch (err) {
      // Disk full or I/O error: the outbox counts what it could not keep and reports it as a gap.
      this.o.logger.error({ device: this.o.spec.id, err: (err as Error).message }, 'could not write to the outbox');
    }
  }
}
