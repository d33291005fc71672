import type Database from 'better-sqlite3';
import type { TrendQuery, TrendSeries, TrendStore } from '../trend-store.js';

/** readings.kind of numeric values and readings.quality of `bad` (see telemetry.ts). */
const KIND_NUMBER = 1;
const QUALITY_BAD = 2;

/**
 * Time-bucketed aggregates straight from the (series_id, t) index: one range
 * scan per series of the metric and one GROUP BY, so the page gets at most
 * `buckets` rows whatever the reading rate. Readings of `bad` quality carry
 * no value and are skipped; so are text and boolean values.
 */
export class SqliteTrends implements TrendStore {
  private readonly seriesOfMetric: Database.Statement;
  private readonly buckets: Database.Statement;

  constructor(db: Database.Database) {
    this.seriesOfMetric = db.prepare('SELECT id, unit FROM series WHERE device_id = ? AND metric = ? ORDER BY id');
    this.buckets = db.prepare(
      `SELECT (t - @from) / @width AS b, min(value_num) AS min, max(value_num) AS max, avg(value_num) AS avg, count(*) AS count
         FROM readings
        WHERE series_id = @series AND t >= @from AND t < @to AND kind = ${KIND_NUMBER} AND quality < ${QUALITY_BAD}
        GROUP BY b`,
    );
  }

  async trend(deviceId: string, q: TrendQuery): Promise<TrendSeries> {
    const series = this.seriesOfMetric.all(deviceId, q.metric) as Array<{ id: number; unit: string | null }>;
    // Integer width (SQLite divides integers exactly); at least 1 ms.
    const width = Math.max(1, Math.ceil((q.to - q.from) / q.buckets));
    // A metric can have several series (its unit or code changed); merge their buckets.
    const merged = new Map<number, { min: number; max: number; sum: number; count: number }>();
    for (const s of series) {
      for (const row of this.buckets.all({ series: s.id, from: q.from, to: q.to, width }) as Array<{
        b: number;
        min: number;
        max: number;
        avg: number;
        count: number;
      }>) {
        const b = Math.floor(row.b);
        const m = merged.get(b);
        if (!m) merged.set(b, { min: row.min, max: row.max, sum: row.avg * row.count, count: row.count });
        else {
          m.min = Math.min(m.min, row.min);
          m.max = Math.max(m.max, row.max);
          m.sum += row.avg * row.count;
          m.count += row.count;
        }
      }
    }
    const buckets = [...merged.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([b, m]) => ({ t: q.from + b * width, min: m.min, max: m.max, avg: m.sum / m.count, count: m.count }));
    return { unit: series.at(-1)?.unit ?? null, bucketMs: width, buckets };
  }
}
