import type pg from 'pg';
import type { TrendQuery, TrendSeries, TrendStore } from '../trend-store.js';
import { all } from './pg-db.js';

const MINUTE = 60_000;

/**
 * Trends in PostgreSQL: when the buckets are whole minutes aligned to the
 * minute (any range a chart of a day or more asks for, rounded), they are
 * summed from the per-minute rollups (`readings_minute`, kept longer than
 * readings); otherwise from the readings themselves, as SQLite does.
 */
export class PgTrends implements TrendStore {
  constructor(private readonly pool: pg.Pool) {}

  async trend(deviceId: string, q: TrendQuery): Promise<TrendSeries> {
    const width = Math.max(1, Math.ceil((q.to - q.from) / q.buckets));
    const fromRollups = width % MINUTE === 0 && q.from % MINUTE === 0;
    const rows = await all<{ b: number; min: number; max: number; sum: number; count: number }>(
      this.pool,
      fromRollups
        ? `SELECT floor((m.minute - @from)::float8 / @width)::bigint AS b, min(m.min) AS min, max(m.max) AS max, sum(m.sum) AS sum, sum(m.count)::bigint AS count
             FROM series s JOIN readings_minute m ON m.series_id = s.id
            WHERE s.device_id = @device AND s.metric = @metric AND m.minute >= @from AND m.minute < @to
            GROUP BY b ORDER BY b`
        : `SELECT floor((r.t - @from)::float8 / @width)::bigint AS b, min(r.value_num) AS min, max(r.value_num) AS max, sum(r.value_num) AS sum, count(*) AS count
             FROM series s JOIN readings r ON r.series_id = s.id
            WHERE s.device_id = @device AND s.metric = @metric AND r.t >= @from AND r.t < @to AND r.kind = 1 AND r.quality < 2
            GROUP BY b ORDER BY b`,
      { device: deviceId, metric: q.metric, from: q.from, to: q.to, width },
    );
    const unit = await all<{ unit: string | null }>(this.pool, 'SELECT unit FROM series WHERE device_id = ? AND metric = ? ORDER BY id DESC LIMIT 1', [
      deviceId,
      q.metric,
    ]);
    return {
      unit: unit[0]?.unit ?? null,
      bucketMs: width,
      buckets: rows.map((r) => ({ t: q.from + r.b * width, min: r.min, max: r.max, avg: r.sum / r.count, count: r.count })),
    };
  }
}
