import type { DeviceStatus, Logger } from '@medtel/shared';
import type { AgentMetrics } from '../metrics.js';
import type { IdentityField, ResolvedProfile } from '../profiles/load.js';

/**
 * The contract between the agent core and a protocol driver (EdgeX's
 * ProtocolDriver, reduced). Drivers know protocols, not devices: they are
 * handed the profile's `read` addresses and return raw values by metric id;
 * scaling, codes and alarms are applied by ../transform.ts.
 */

export type RawValue = number | string | boolean;

/** One read of a device: raw values by metric id, and the metrics that failed. */
export interface RawSample {
  t: number;
  clock: 'device' | 'agent';
  values: Map<string, RawValue>;
  /** Metric id -> why it has no value this time (reported as quality "bad"). */
  failed?: Map<string, string>;
  /** How the read went, for its trace span: when it began (epoch ms) and the bytes the device returned. */
  read?: { startedAt: number; bytes?: number };
}

/** Evenly spaced samples of waveform metrics, as a streaming device sends them. */
export interface WaveformBatch {
  /** Time of the first sample of every series. */
  t0: number;
  periodMs: number;
  clock: 'device' | 'agent';
  /** Metric id -> raw samples (the profile's scale applies), the first one at t0. */
  series: Map<string, number[]>;
}

/** Data the device sent that never arrived (lost frames): reported, never filled in. */
export interface DataGap {
  from: number;
  to: number;
  /** Readings missing. */
  count: number;
  reason: string;
}

export interface DeviceSink {
  sample(sample: RawSample): void;
  /** Waveform samples (streaming drivers); optional so sinks that predate it still satisfy the contract. */
  waveform?(batch: WaveformBatch): void;
  /** A counted hole in the data (streaming drivers). */
  gap?(gap: DataGap): void;
  status(status: DeviceStatus, reason?: string): void;
  /** Identity read from the device itself (serial, firmware...); sent as its birth. */
  identity(identity: Partial<Record<IdentityField, string>>): void;
}

/** A diagnostic test as the collector asks for it (command `diagnostics`); the profile defines what it does. */
export interface DiagnosticRequest {
  /** Name of a test in the device profile's `diagnostics` section. */
  test: string;
  args?: Record<string, unknown>;
  /** The driver must settle within this time, with an error if the device did not answer. */
  timeoutMs: number;
}

export interface DiagnosticOutcome {
  ok: boolean;
  /** What the device reported (e.g. { selfTest: 'pass', code: 0 }). */
  result?: Record<string, unknown>;
  /** Why the test could not run or failed, in words an engineer can act on. */
  error?: string;
}

export interface DeviceSession {
  /** Stops polling and closes the connection; resolves when the socket is closed. */
  stop(): Promise<void>;
  /**
   * Runs a diagnostic test through the device's protocol, as its profile
   * defines it. Absent when the driver supports none.
   */
  diagnose?(request: DiagnosticRequest): Promise<DiagnosticOutcome>;
}

export interface DeviceSpec<C> {
  id: string;
  connection: C;
  profile: ResolvedProfile;
  pollIntervalMs: number;
  timeoutMs: number;
}

export interface DriverContext {
  logger: Logger;
  metrics: AgentMetrics;
  /** The agent's state directory (absolute), for driver state such as the OPC UA PKI. */
  stateDir?: string;
}

export interface Driver<C = unknown> {
  /** The `connection.protocol` values this driver serves. */
  readonly protocols: readonly string[];
  /** The profile `protocols` family it reads (modbus, serial, opcua). */
  readonly family: string;
  /**
   * Validates a device's connection settings and its profile's addresses;
   * throws ConfigError naming the field. Called at startup, before any I/O.
   */
  prepare(connection: unknown, profile: ResolvedProfile, where: { configFile: string; field: string }): C;
  start(spec: DeviceSpec<C>, sink: DeviceSink, context: DriverContext): DeviceSession;
}
