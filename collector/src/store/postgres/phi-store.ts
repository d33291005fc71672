import type pg from 'pg';
import type { DataMessage } from '@medtel/shared';
import type { PhiOpenOutcome, PhiStore, StoredEnvelope, SubjectQuery, SubjectSpan } from '../phi-store.js';
import * as rules from '../shared/phi.js';
import type { Actor } from '../store.js';
import type { PgAuditLog } from './audit.js';
import { type Queryable, all, one, run, tx } from './pg-db.js';

/** PhiStore in PostgreSQL (statements in ../shared/phi.ts); `recordData` runs on the ingest transaction. */
export class PgPhiStore implements PhiStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly audit: PgAuditLog,
  ) {}

  async recordData(c: Queryable, deviceId: string, gateway: string, d: DataMessage, receivedAt: number): Promise<void> {
    if (!d.subject && !d.phi) return;
    const { from, to } = rules.readingSpan(d);
    if (d.phi) await run(c, rules.INSERT_ENVELOPE_SQL, rules.envelopeArgs(deviceId, gateway, d, d.phi, from, receivedAt));
    if (!d.subject) return;
    const last = await one<{ id: number; subject: string }>(c, rules.LAST_SPAN_SQL, [deviceId]);
    if (last && last.subject === d.subject)
      await run(c, 'UPDATE phi_subject_spans SET t_from = least(t_from, ?), t_to = greatest(t_to, ?), readings = readings + ? WHERE id = ?', [
        from,
        to,
        d.readings.length,
        last.id,
      ]);
    else await run(c, rules.INSERT_SPAN_SQL, [d.subject, deviceId, from, to, d.readings.length]);
  }

  async subjects(q: SubjectQuery): Promise<SubjectSpan[]> {
    const { sql, args } = rules.subjectsQuery(q);
    return all<SubjectSpan>(this.pool, sql, args);
  }

  async getEnvelope(id: number): Promise<StoredEnvelope | undefined> {
    const row = await one(this.pool, 'SELECT * FROM phi_envelopes WHERE id = ?', [id]);
    return row ? rules.toEnvelope(row) : undefined;
  }

  async recordOpen(e: StoredEnvelope, actor: Actor | { sub: string; role: 'system' }, reason: string, outcome: PhiOpenOutcome): Promise<void> {
    await tx(this.pool, (c) => this.audit.append(c, rules.phiOpenAudit(e, actor, reason, outcome)));
  }
}
