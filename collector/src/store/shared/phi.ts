import type { DataMessage, SealedEnvelope } from '@medtel/shared';
import type { AuditInput } from '../../audit/types.js';
import type { PhiOpenOutcome, StoredEnvelope, SubjectQuery } from '../phi-store.js';
import type { Actor } from '../store.js';

/**
 * PHI storage apart from the driver calls: the time span a data message
 * covers, the envelope row (stored as it arrived: the collector cannot and
 * need not look inside), the subject-span query, the audit entry of an
 * opening, and the row mapping.
 */

type Row = Record<string, unknown>;

/** The first and last reading time of a message. */
export function readingSpan(d: DataMessage): { from: number; to: number } {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const r of d.readings) {
    if (r.t < from) from = r.t;
    if (r.t > to) to = r.t;
  }
  return { from, to };
}

export const INSERT_ENVELOPE_SQL =
  'INSERT INTO phi_envelopes (device_id, gateway, device, seq, subject, kid, envelope, t, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';

export function envelopeArgs(deviceId: string, gateway: string, d: DataMessage, phi: SealedEnvelope, from: number, receivedAt: number): unknown[] {
  return [deviceId, gateway, d.device, d.seq, d.subject ?? null, phi.kid, JSON.stringify(phi), from, receivedAt];
}

export const LAST_SPAN_SQL = 'SELECT id, subject FROM phi_subject_spans WHERE device_id = ? ORDER BY id DESC LIMIT 1';
export const INSERT_SPAN_SQL = 'INSERT INTO phi_subject_spans (subject, device_id, t_from, t_to, readings) VALUES (?, ?, ?, ?, ?)';

/** Spans newest first, each with its latest envelope; the query and its arguments. */
export function subjectsQuery(q: SubjectQuery): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.deviceId) {
    where.push('s.device_id = ?');
    args.push(q.deviceId);
  }
  if (q.subject) {
    where.push('s.subject = ?');
    args.push(q.subject);
  }
  return {
    sql: `SELECT s.subject, s.device_id AS "deviceId", s.t_from AS "from", s.t_to AS "to", s.readings,
        (SELECT e.id FROM phi_envelopes e WHERE e.device_id = s.device_id AND e.subject = s.subject ORDER BY e.t DESC, e.id DESC LIMIT 1) AS "envelopeId"
      FROM phi_subject_spans s ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY s.t_to DESC, s.id DESC LIMIT ?`,
    args: [...args, q.limit],
  };
}

export function toEnvelope(row: Row): StoredEnvelope {
  return {
    id: row.id as number,
    deviceId: row.device_id as string,
    gateway: row.gateway as string,
    device: row.device as string,
    seq: row.seq as number,
    subject: row.subject as string | null,
    envelope: JSON.parse(row.envelope as string) as SealedEnvelope,
    t: row.t as number,
    receivedAt: row.received_at as number,
  };
}

/** Every opening is audited, failed ones too (with the error code, never the contents). */
export function phiOpenAudit(e: StoredEnvelope, actor: Actor | { sub: string; role: 'system' }, reason: string, outcome: PhiOpenOutcome): AuditInput {
  return {
    actor: actor.sub,
    role: actor.role,
    action: 'phi:open',
    objectType: 'phi-envelope',
    objectId: String(e.id),
    newValue: {
      device: e.deviceId,
      subject: e.subject,
      kid: e.envelope.kid,
      seq: e.seq,
      outcome: outcome.ok ? 'opened' : 'failed',
      ...(outcome.ok ? {} : { error: outcome.code }),
    },
    reason,
  };
}
