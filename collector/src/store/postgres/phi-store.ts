import type pg from 'pg';
import type { DataMessage, SealedEnvelope } from '@medtel/shared';
import type { PhiOpenOutcome, PhiStore, StoredEnvelope, SubjectQuery, SubjectSpan } from '../phi-store.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, all, one, run, tx } from './pg-db.js';

/** PhiStore in PostgreSQL (as ../sqlite/phi-store.ts); `recordData` runs on the ingest transaction. */
export class PgPhiStore implements PhiStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
  ) {}

  async recordData(c: Queryable, deviceId: string, gateway: string, d: DataMessage, receivedAt: number): Promise<void> {
    if (!d.subject && !d.phi) return;
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const r of d.readings) {
      if (r.t < from) from = r.t;
      if (r.t > to) to = r.t;
    }
    if (d.phi) {
      await run(c, 'INSERT INTO phi_envelopes (device_id, gateway, device, seq, subject, kid, envelope, t, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        deviceId,
        gateway,
        d.device,
        d.seq,
        d.subject ?? null,
        d.phi.kid,
        JSON.stringify(d.phi),
        from,
        receivedAt,
      ]);
    }
    if (!d.subject) return;
    const last = await one<{ id: number; subject: string }>(c, 'SELECT id, subject FROM phi_subject_spans WHERE device_id = ? ORDER BY id DESC LIMIT 1', [
      deviceId,
    ]);
    if (last && last.subject === d.subject)
      await run(c, 'UPDATE phi_subject_spans SET t_from = least(t_from, ?), t_to = greatest(t_to, ?), readings = readings + ? WHERE id = ?', [
        from,
        to,
        d.readings.length,
        last.id,
      ]);
    else
      await run(c, 'INSERT INTO phi_subject_spans (subject, device_id, t_from, t_to, readings) VALUES (?, ?, ?, ?, ?)', [
        d.subject,
        deviceId,
        from,
        to,
        d.readings.length,
      ]);
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
    return all<SubjectSpan>(
      this.pool,
      `SELECT s.subject, s.device_id AS "deviceId", s.t_from AS "from", s.t_to AS "to", s.readings,
         (SELECT e.id FROM phi_envelopes e WHERE e.device_id = s.device_id AND e.subject = s.subject ORDER BY e.t DESC, e.id DESC LIMIT 1) AS "envelopeId"
       FROM phi_subject_spans s ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY s.t_to DESC, s.id DESC LIMIT ?`,
      [...args, q.limit],
    );
  }

  async getEnvelope(id: number): Promise<StoredEnvelope | undefined> {
    const row = await one(this.pool, 'SELECT * FROM phi_envelopes WHERE id = ?', [id]);
    if (!row) return undefined;
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

  async recordOpen(e: StoredEnvelope, actor: Actor | { sub: string; role: 'system' }, reason: string, outcome: PhiOpenOutcome): Promise<void> {
    await tx(this.pool, (c) =>
      this.audit.append(c, {
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
      }),
    );
  }
}
