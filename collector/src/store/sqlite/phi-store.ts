import type Database from 'better-sqlite3';
import type { DataMessage } from '@medtel/shared';
import type { AuditLog } from '../../audit/audit-log.js';
import type { PhiOpenOutcome, PhiStore, StoredEnvelope, SubjectQuery, SubjectSpan } from '../phi-store.js';
import * as rules from '../shared/phi.js';
import type { Actor } from '../store.js';

type Row = Record<string, unknown>;

/** PhiStore on the collector's SQLite file (statements in ../shared/phi.ts); `recordData` runs inside the ingest transaction. */
export class SqlitePhiStore implements PhiStore {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly audit: AuditLog,
  ) {
    this.s = {
      insertEnvelope: db.prepare(rules.INSERT_ENVELOPE_SQL),
      lastSpan: db.prepare(rules.LAST_SPAN_SQL),
      extendSpan: db.prepare('UPDATE phi_subject_spans SET t_from = min(t_from, ?), t_to = max(t_to, ?), readings = readings + ? WHERE id = ?'),
      insertSpan: db.prepare(rules.INSERT_SPAN_SQL),
      envelope: db.prepare('SELECT * FROM phi_envelopes WHERE id = ?'),
    };
  }

  /** Call inside the batch transaction, for every stored data message. */
  recordData(deviceId: string, gateway: string, d: DataMessage, receivedAt: number): void {
    if (!d.subject && !d.phi) return;
    const { from, to } = rules.readingSpan(d);
    if (d.phi) this.s.insertEnvelope.run(...rules.envelopeArgs(deviceId, gateway, d, d.phi, from, receivedAt));
    if (!d.subject) return;
    const last = this.s.lastSpan.get(deviceId) as { id: number; subject: string } | undefined;
    if (last && last.subject === d.subject) this.s.extendSpan.run(from, to, d.readings.length, last.id);
    else this.s.insertSpan.run(d.subject, deviceId, from, to, d.readings.length);
  }

  async subjects(q: SubjectQuery): Promise<SubjectSpan[]> {
    const { sql, args } = rules.subjectsQuery(q);
    return this.db.prepare(sql).all(...args) as SubjectSpan[];
  }

  async getEnvelope(id: number): Promise<StoredEnvelope | undefined> {
    const row = this.s.envelope.get(id) as Row | undefined;
    return row ? rules.toEnvelope(row) : undefined;
  }

  async recordOpen(e: StoredEnvelope, actor: Actor | { sub: string; role: 'system' }, reason: string, outcome: PhiOpenOutcome): Promise<void> {
    this.audit.append(rules.phiOpenAudit(e, actor, reason, outcome));
  }
}
