import type Database from 'better-sqlite3';
import type { Reading } from '@medtel/shared';

/** One series of a (device, metric): the rest of its descriptor and its row id. */
interface SeriesEntry {
  code: number | null;
  refId: string | null;
  unit: string | null;
  unitCode: number | null;
  id: number;
}

interface SeriesColumns {
  id: number;
  device_id: string;
  metric: string;
  code: number | null;
  ref_id: string | null;
  unit: string | null;
  unit_code: number | null;
}

/**
 * Series ids by device, then metric, then the rest of the descriptor (codes
 * and unit), kept in memory. Looked up once per reading on the ingest hot
 * path, so a lookup builds no string: two Map gets and a comparison of four
 * fields against the (almost always single) series of that metric. The
 * descriptor string the table's UNIQUE constraint uses is built only when a
 * series is created.
 */
export class SeriesIds {
  private readonly byDevice = new Map<string, Map<string, SeriesEntry[]>>();
  private readonly insertSeries: Database.Statement;
  private readonly allSeries: Database.Statement;

  constructor(db: Database.Database) {
    this.insertSeries = db.prepare('INSERT INTO series (device_id, metric, code, ref_id, unit, unit_code, descriptor) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.allSeries = db.prepare('SELECT id, device_id, metric, code, ref_id, unit, unit_code FROM series');
    this.reload();
  }

  /** The series id of the reading's descriptor, created if new. Call inside the batch transaction. */
  idOf(deviceId: string, r: Reading): number {
    let metrics = this.byDevice.get(deviceId);
    if (metrics === undefined) {
      metrics = new Map();
      this.byDevice.set(deviceId, metrics);
    }
    const code = r.code ?? null;
    const refId = r.refId ?? null;
    const unit = r.unit ?? null;
    const unitCode = r.unitCode ?? null;
    let entries = metrics.get(r.metric);
    if (entries === undefined) {
      entries = [];
      metrics.set(r.metric, entries);
    }
    for (const e of entries) {
      if (e.code === code && e.refId === refId && e.unit === unit && e.unitCode === unitCode) return e.id;
    }
    // Same descriptor text as before this cache existed, so rows written by older versions still match.
    const descriptor = JSON.stringify([deviceId, r.metric, code, refId, unit, unitCode]);
    const id = Number(this.insertSeries.run(deviceId, r.metric, code, refId, unit, unitCode, descriptor).lastInsertRowid);
    entries.push({ code, refId, unit, unitCode, id });
    return id;
  }

  /** Rebuilt from the table, e.g. after a rolled-back batch took the series it created with it. */
  reload(): void {
    this.byDevice.clear();
    for (const row of this.allSeries.all() as SeriesColumns[]) {
      let metrics = this.byDevice.get(row.device_id);
      if (metrics === undefined) {
        metrics = new Map();
        this.byDevice.set(row.device_id, metrics);
      }
      let entries = metrics.get(row.metric);
      if (entries === undefined) {
        entries = [];
        metrics.set(row.metric, entries);
      }
      entries.push({ code: row.code, refId: row.ref_id, unit: row.unit, unitCode: row.unit_code, id: row.id });
    }
  }
}
