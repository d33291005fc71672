import type Database from 'better-sqlite3';
import type { Reading } from '@medtel/shared';
import type { TelemetryQuery, TelemetryRow } from '../store.js';

const KIND = { null: 0, number: 1, text: 2, boolean: 3 } as const;
const QUALITY = ['good', 'questionable', 'bad'] as const;
const QUALITY_CODE: Record<string, number> = { good: 0, questionable: 1, bad: 2 };

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
  private readonly seriesIds = new Map<string, number>();
  private readonly insertSeries: Database.Statement;
  private readonly insertReading: Database.Statement;
  private readonly seriesOfDevice: Database.Statement;
  private readonly seriesOfMetric: Database.Statement;
  private readonly readingsOfSeries: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertSeries = db.prepare('INSERT INTO series (device_id, metric, code, ref_id, unit, unit_code, descriptor) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.insertReading = db.prepare('INSERT INTO readings (series_id, t, value_num, value_text, kind, quality, seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.seriesOfDevice = db.prepare('SELECT id, metric, code, ref_id, unit, unit_code FROM series WHERE device_id = ?');
    this.seriesOfMetric = db.prepare('SELECT id, metric, code, ref_id, unit, unit_code FROM series WHERE device_id = ? AND metric = ?');
    this.readingsOfSeries = db.prepare(
      'SELECT rowid, t, value_num, value_text, kind, quality, seq FROM readings WHERE series_id = ? AND t >= ? AND t < ? ORDER BY t DESC, rowid DESC LIMIT ?',
    );
    for (const row of db.prepare('SELECT id, descriptor FROM series').all() as Array<{ id: number; descriptor: string }>)
      this.seriesIds.set(row.descriptor, row.id);
  }

  /** Call inside the batch transaction. */
  insert(deviceId: string, r: Reading, seq: number): void {
    const seriesId = this.series(deviceId, r);
    const v = r.value;
    const [num, text, kind] =
      typeof v === 'number'
        ? [v, null, KIND.number]
        : typeof v === 'string'
          ? [null, v, KIND.text]
          : typeof v === 'boolean'
            ? [v ? 1 : 0, null, KIND.boolean]
            : [null, null, KIND.null];
    this.insertReading.run(seriesId, r.t, num, text, kind, QUALITY_CODE[r.quality] ?? 2, seq);
  }

  private series(deviceId: string, r: Reading): number {
    const descriptor = JSON.stringify([deviceId, r.metric, r.code ?? null, r.refId ?? null, r.unit ?? null, r.unitCode ?? null]);
    let id = this.seriesIds.get(descriptor);
    if (id === undefined) {
      id = Number(this.insertSeries.run(deviceId, r.metric, r.code ?? null, r.refId ?? null, r.unit ?? null, r.unitCode ?? null, descriptor).lastInsertRowid);
      this.seriesIds.set(descriptor, id);
    }
    return id;
  }

  /** If the batch transaction rolls back, series created in it are gone: forget them. */
  forgetUncommitted(): void {
    this.seriesIds.clear();
    for (const row of this.db.prepare('SELECT id, descriptor FROM series').all() as Array<{ id: number; descriptor: string }>)
      this.seriesIds.set(row.descriptor, row.id);
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
