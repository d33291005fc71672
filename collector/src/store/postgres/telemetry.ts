import type { Reading } from '@medtel/shared';
import type { TelemetryQuery, TelemetryRow } from '../store.js';
import { type Queryable, all } from './pg-db.js';

const KIND = { null: 0, number: 1, text: 2, boolean: 3 } as const;
const QUALITY = ['good', 'questionable', 'bad'] as const;
const QUALITY_CODE: Record<string, number> = { good: 0, questionable: 1, bad: 2 };

/** One batch's readings, column by column: inserted with one multi-row statement (unnest of arrays). */
export class ReadingBatch {
  private readonly pending: Array<{ descriptor: string; deviceId: string; r: Reading; seq: number }> = [];

  add(deviceId: string, r: Reading, seq: number): void {
    const descriptor = JSON.stringify([deviceId, r.metric, r.code ?? null, r.refId ?? null, r.unit ?? null, r.unitCode ?? null]);
    this.pending.push({ descriptor, deviceId, r, seq });
  }

  get size(): number {
    return this.pending.length;
  }

  /** Inside the batch transaction: series (upserted), readings and their minute rollups. */
  async write(c: Queryable, series: PgSeries): Promise<void> {
    if (this.pending.length === 0) return;
    const ids = await series.ids(
      c,
      this.pending.map((p) => ({ descriptor: p.descriptor, deviceId: p.deviceId, r: p.r })),
    );
    const cols = {
      series: [] as number[],
      t: [] as number[],
      num: [] as Array<number | null>,
      text: [] as Array<string | null>,
      kind: [] as number[],
      quality: [] as number[],
      seq: [] as number[],
    };
    for (const p of this.pending) {
      const v = p.r.value;
      const [num, text, kind] =
        typeof v === 'number'
          ? [v, null, KIND.number]
          : typeof v === 'string'
            ? [null, v, KIND.text]
            : typeof v === 'boolean'
              ? [v ? 1 : 0, null, KIND.boolean]
              : [null, null, KIND.null];
      cols.series.push(ids.get(p.descriptor) as number);
      cols.t.push(p.r.t);
      cols.num.push(num);
      cols.text.push(text);
      cols.kind.push(kind);
      cols.quality.push(QUALITY_CODE[p.r.quality] ?? 2);
      cols.seq.push(p.seq);
    }
    const values = [cols.series, cols.t, cols.num, cols.text, cols.kind, cols.quality, cols.seq];
    await c.query(
      `INSERT INTO readings (series_id, t, value_num, value_text, kind, quality, seq)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::text[], $5::smallint[], $6::smallint[], $7::bigint[])`,
      values,
    );
    // Rows locked in (series, minute) order so two replicas' batches cannot deadlock.
    await c.query(
      `INSERT INTO readings_minute (series_id, minute, min, max, sum, count)
       SELECT s, (t / 60000) * 60000 AS m, min(v), max(v), sum(v), count(*)
         FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::smallint[], $5::smallint[]) AS r(s, t, v, k, q)
        WHERE k = ${KIND.number} AND q < 2
        GROUP BY s, m ORDER BY s, m
       ON CONFLICT (series_id, minute) DO UPDATE SET
         min = least(readings_minute.min, EXCLUDED.min), max = greatest(readings_minute.max, EXCLUDED.max),
         sum = readings_minute.sum + EXCLUDED.sum, count = readings_minute.count + EXCLUDED.count`,
      [cols.series, cols.t, cols.num, cols.kind, cols.quality],
    );
  }
}

/**
 * Series ids (device, metric, codes, unit): cached in memory once committed;
 * new ones upserted by their unique descriptor, so replicas creating the
 * same series at once get the same id.
 */
export class PgSeries {
  private readonly cache = new Map<string, number>();
  private uncommitted = new Map<string, number>();

  async ids(c: Queryable, wanted: Array<{ descriptor: string; deviceId: string; r: Reading }>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing = new Map<string, { deviceId: string; r: Reading }>();
    for (const w of wanted) {
      const id = this.cache.get(w.descriptor);
      if (id !== undefined) out.set(w.descriptor, id);
      else missing.set(w.descriptor, w);
    }
    if (missing.size > 0) {
      const list = [...missing.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const rows = await all<{ id: number; descriptor: string }>(
        c,
        `INSERT INTO series (device_id, metric, code, ref_id, unit, unit_code, descriptor)
         SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[])
         ON CONFLICT (descriptor) DO UPDATE SET descriptor = EXCLUDED.descriptor RETURNING id, descriptor`,
        [
          list.map(([, w]) => w.deviceId),
          list.map(([, w]) => w.r.metric),
          list.map(([, w]) => w.r.code ?? null),
          list.map(([, w]) => w.r.refId ?? null),
          list.map(([, w]) => w.r.unit ?? null),
          list.map(([, w]) => w.r.unitCode ?? null),
          list.map(([d]) => d),
        ],
      );
      for (const r of rows) {
        out.set(r.descriptor, r.id);
        this.uncommitted.set(r.descriptor, r.id);
      }
    }
    return out;
  }

  /** After the batch committed: its new series are durable. */
  committed(): void {
    for (const [d, id] of this.uncommitted) this.cache.set(d, id);
    this.uncommitted = new Map();
  }

  rolledBack(): void {
    this.uncommitted = new Map();
  }
}

/** Newest first across the device's series: each series read through its (series_id, t) index with the limit (LATERAL), then merged. */
export async function queryTelemetry(db: Queryable, deviceId: string, q: TelemetryQuery): Promise<TelemetryRow[]> {
  const rows = await all(
    db,
    `SELECT s.metric, s.code, s.ref_id, s.unit, s.unit_code, r.t, r.value_num, r.value_text, r.kind, r.quality, r.seq
       FROM series s CROSS JOIN LATERAL (
         SELECT t, value_num, value_text, kind, quality, seq, id FROM readings
          WHERE series_id = s.id AND t >= @from AND t < @to ORDER BY t DESC, id DESC LIMIT @limit) r
      WHERE s.device_id = @device ${q.metric ? 'AND s.metric = @metric' : ''}
      ORDER BY r.t DESC, r.id DESC LIMIT @limit`,
    { device: deviceId, metric: q.metric, from: q.from ?? Number.MIN_SAFE_INTEGER, to: q.to ?? Number.MAX_SAFE_INTEGER, limit: q.limit },
  );
  return rows.map((r) => ({
    t: r.t as number,
    metric: r.metric as string,
    code: r.code as number | null,
    refId: r.ref_id as string | null,
    unit: r.unit as string | null,
    unitCode: r.unit_code as number | null,
    value:
      r.kind === KIND.number ? (r.value_num as number) : r.kind === KIND.text ? (r.value_text as string) : r.kind === KIND.boolean ? r.value_num === 1 : null,
    quality: QUALITY[r.quality as number] ?? 'bad',
    seq: r.seq as number,
  }));
}
