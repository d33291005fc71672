import type Database from 'better-sqlite3';
import type { Reading } from '@medtel/shared';
import type { TelemetryQuery, TelemetryRow } from '../store.js';
import { SeriesIds } from './series-ids.js';

const KIND = { null: 0, number: 1, text: 2, boolean: 3 } as const;
const QUALITY = ['good', 'questionable', 'bad'] as const;
const QUALITY_CODE: Record<string, number> = { good: 0, questionable: 1, bad: 2 };
/** Columns of a readings row as inserted. */
const COLUMNS = 7;
/** Rows per INSERT statement: 32 × 7 = 224 parameters, far under SQLite's limit (32,766). */
const ROWS_PER_INSERT = 32;

interface SeriesRow {
  id: number;
  metric: string;
  code: number | null;
  ref_id: string | null;
  unit: string | null;
  unit_code: number | null;
}

interface ReadingRow {
  rowid: number;
  t: number;
  value_num: number | null;
  value_text: string | null;
  kind: number;
  quality: number;
  seq: number;
}

/**
 * Readings stored as (series, time, value): the metric, its codes and unit are
 * kept once per series, not on every row, which keeps rows small and inserts
 * cheap. Series ids are cached in memory; the cache is rebuilt from the table.
 */
export class TelemetryTables {
  private readonly seriesIds: SeriesIds;
  /** Multi-row INSERTs by row count (index), prepared on first use. */
  private readonly insertStatements: Database.Statement[] = [];
  private readonly seriesOfDevice: Database.Statement;
  private readonly seriesOfMetric: Database.Statement;
  private readonly readingsOfSeries: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.seriesIds = new SeriesIds(db);
    this.seriesOfDevice = db.prepare('SELECT id, metric, code, ref_id, unit, unit_code FROM series WHERE device_id = ?');
    this.seriesOfMetric = db.prepare('SELECT id, metric, code, ref_id, unit, unit_code FROM series WHERE device_id = ? AND metric = ?');
    this.readingsOfSeries = db.prepare(
      'SELECT rowid, t, value_num, value_text, kind, quality, seq FROM readings WHERE series_id = ? AND t >= ? AND t < ? ORDER BY t DESC, rowid DESC LIMIT ?',
    );
  }

  /**
   * All readings of one data message. Call inside the batch transaction.
   * Rows go in through multi-row INSERTs of up to ROWS_PER_INSERT rows: one
   * statement step per message instead of one per reading is most of the
   * cost saved (the rows, the index and the fsync are the same).
   */
  insertAll(deviceId: string, readings: readonly Reading[], seq: number): void {
    const n = readings.length;
    for (let start = 0; start < n; start += ROWS_PER_INSERT) {
      const rows = Math.min(ROWS_PER_INSERT, n - start);
      const args = new Array<number | string | null>(rows * COLUMNS);
      for (let i = 0; i < rows; i++) {
        const r = readings[start + i] as Reading;
        const o = i * COLUMNS;
        const v = r.value;
        args[o] = this.seriesIds.idOf(deviceId, r);
        args[o + 1] = r.t;
        if (typeof v === 'number') {
          args[o + 2] = v;
          args[o + 3] = null;
          args[o + 4] = KIND.number;
        } else if (typeof v === 'string') {
          args[o + 2] = null;
          args[o + 3] = v;
          args[o + 4] = KIND.text;
        } else if (typeof v === 'boolean') {
          args[o + 2] = v ? 1 : 0;
          args[o + 3] = null;
          args[o + 4] = KIND.boolean;
        } else {
          args[o + 2] = null;
          args[o + 3] = null;
          args[o + 4] = KIND.null;
        }
        args[o + 5] = QUALITY_CODE[r.quality] ?? 2;
        args[o + 6] = seq;
      }
      this.insertRows(rows).run(args);
    }
  }

  /** The prepared INSERT of `rows` rows, prepared on first use. */
  private insertRows(rows: number): Database.Statement {
    let stmt = this.insertStatements[rows];
    if (stmt === undefined) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
      stmt = this.db.prepare(`INSERT INTO readings (series_id, t, value_num, value_text, kind, quality, seq) VALUES ${values}`);
      this.insertStatements[rows] = stmt;
    }
    return stmt;
  }

  /** If the batch transaction rolls back, series created in it are gone: forget them. */
  forgetUncommitted(): void {
    this.seriesIds.reload();
  }

  /**
   * Newest first across the device's series: each series is read through its
   * (series, t) index with the limit, then merged, so a query without `metric`
   * stays cheap however long the history is.
   */
  query(deviceId: string, q: TelemetryQuery): TelemetryRow[] {
    const series = (q.metric ? this.seriesOfMetric.all(deviceId, q.metric) : this.seriesOfDevice.all(deviceId)) as SeriesRow[];
    const from = q.from ?? Number.MIN_SAFE_INTEGER;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    const merged: Array<{ s: SeriesRow; r: ReadingRow }> = [];
    for (const s of series) {
      for (const r of this.readingsOfSeries.all(s.id, from, to, q.limit) as ReadingRow[]) merged.push({ s, r });
    }
    merged.sort((a, b) => b.r.t - a.r.t || b.r.rowid - a.r.rowid);
    return merged.slice(0, q.limit).map(({ s, r }) => ({
      t: r.t,
      metric: s.metric,
      code: s.code,
      refId: s.ref_id,
      unit: s.unit,
      unitCode: s.unit_code,
      value: r.kind === KIND.number ? r.value_num : r.kind === KIND.text ? r.value_text : r.kind === KIND.boolean ? r.value_num === 1 : null,
      quality: QUALITY[r.quality] ?? 'bad',
      seq: r.seq,
    }));
  }
}
