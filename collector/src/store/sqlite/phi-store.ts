import type Database from 'better-sqlite3';
import type { DataMessage, SealedEnvelope } from '@medtel/shared';
import type { AuditLog } from '../../audit/audit-log.js';
import type { PhiOpenOutcome, PhiStore, StoredEnvelope, SubjectQuery, SubjectSpan } from '../phi-store.js';
import type { Actor } from '../store.js';

interface EnvelopeRow {
  id: number;
  device_id: string;
  gateway: string;
  device: string;
  seq: number;
  subject: string | null;
  envelope: string;
  t: number;
  received_at: number;
}

/** PhiStore on the collector's SQLite file; `recordData` runs inside the ingest transaction. */
export class SqlitePhiStore implements PhiStore {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
  ) {
    this.s = {
      insertEnvelope: db.prepare(
        'INSERT INTO phi_envelopes (device_id, gateway, device, seq, subject, kid, envelope, t, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      lastSpan: db.prepare('SELECT id, subject FROM phi_subject_spans WHERE device_id = ? ORDER BY id DESC LIMIT 1'),
      extendSpan: db.prepare('UPDATE phi_subject_spans SET t_from = min(t_from, ?), t_to = max(t_to, ?), readings = readings + ? WHERE id = ?'),
      insertSpan: db.prepare('INSERT INTO phi_subject_spans (subject, device_id, t_from, t_to, readings) VALUES (?, ?, ?, ?, ?)'),
      envelope: db.prepare('SELECT * FROM phi_envelopes WHERE id = ?'),
    };
  }

  /** Call inside the batch transaction, for every stored data message. */
  recordData(deviceId: string, gateway: string, d: DataMessage, receivedAt: number): void {
    if (!d.subject && !d.phi) return;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const r of d.readings) {
      if (r.t < from) from = r.t;
      if (r.t > to) to = r.t;
    }
    if (d.phi) {
      // Stored as it arrived: the collector cannot and need not look inside.
      this.s.insertEnvelope.run(deviceId, gateway, d.device, d.seq, d.subject ?? null, d.phi.kid, JSON.stringify(d.phi), from, receivedAt);
    }
    if (!d.subject) return;
    const last = this.s.lastSpan.get(deviceId) as { id: number; subject: string } | undefined;
    if (last && last.subject === d.subject) this.s.extendSpan.run(from, to, d.readings.length, last.id);
    else this.s.insertSpan.run(d.subject, deviceId, from, to, d.readings.length);
  }

  async subjects(q: SubjectQuery): Promise<SubjectSpan[]> {
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
    const rows = this.db
      .prepare(
        `SELECT s.subject, s.device_id AS deviceId, s.t_from AS "from", s.t_to AS "to", s.readings,
           (SELECT e.id FROM phi_envelopes e WHERE e.device_id = s.device_id AND e.subject = s.subject ORDER BY e.t DESC, e.id DESC LIMIT 1) AS envelopeId
         FROM phi_subject_spans s ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY s.t_to DESC, s.id DESC LIMIT ?`,
      )
      .all(...args, q.limit) as SubjectSpan[];
    return rows;
  }

  async getEnvelope(id: number): Promise<StoredEnvelope | undefined> {
    const row = this.s.envelope.get(id) as EnvelopeRow | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      deviceId: row.device_id,
      gateway: row.gateway,
      device: row.device,
      seq: row.seq,
      subject: row.subject,
      envelope: JSON.parse(row.envelope) as SealedEnvelope,
      t: row.t,
      receivedAt: row.received_at,
    };
  }

  async recordOpen(e: StoredEnvelope, actor: Actor | { sub: string; role: 'system' }, reason: string, outcome: PhiOpenOutcome): Promise<void> {
    this.audit.append({
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
    });
  }
}
