import type { SealedEnvelope } from '@medtel/shared';
import type { Actor } from './store.js';

/**
 * Patient data as the collector holds it (docs/phi.md): sealed envelopes,
 * stored opaque exactly as they arrived, and pseudonymous subject ids that
 * group a device's readings per patient. Nothing here is plain PHI; opening
 * is done elsewhere (with a keyring) and only recorded here, in the audit trail.
 */
export interface StoredEnvelope {
  id: number;
  /** Registry id `{gateway}.{device}`. */
  deviceId: string;
  /** The binding the envelope was sealed for (its AAD): gateway, device, message seq. */
  gateway: string;
  device: string;
  seq: number;
  subject: string | null;
  envelope: SealedEnvelope;
  /** Time of the first reading of the message that carried it. */
  t: number;
  receivedAt: number;
}

/** A stretch of a device's readings that belong to one pseudonymous patient. */
export interface SubjectSpan {
  subject: string;
  deviceId: string;
  from: number;
  to: number;
  readings: number;
  /** The newest envelope for this subject on this device (open it to learn who). */
  envelopeId: number | null;
}

export interface SubjectQuery {
  deviceId?: string;
  subject?: string;
  limit: number;
}

export type PhiOpenOutcome = { ok: true } | { ok: false; code: string; message: string };

export interface PhiStore {
  /** Newest first. */
  subjects(query: SubjectQuery): Promise<SubjectSpan[]>;
  getEnvelope(id: number): Promise<StoredEnvelope | undefined>;
  /**
   * Writes the `phi:open` audit entry: who, why, which envelope, device and
   * pseudonym, and whether it opened. Never the opened values.
   */
  recordOpen(envelope: StoredEnvelope, actor: Actor | { sub: string; role: 'system' }, reason: string, outcome: PhiOpenOutcome): Promise<void>;
}
