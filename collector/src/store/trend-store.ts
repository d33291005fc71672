/**
 * Downsampled readings for charts (the dashboard's trends), behind their own
 * interface so another backend (PostgreSQL: `GROUP BY` over the same time
 * buckets, or a continuous aggregate) can implement it. Downsampling happens
 * in the store, not in the browser: a day of 1 Hz readings is 86,400 rows,
 * a chart needs a few hundred points.
 */

export interface TrendQuery {
  /** The profile's metric id as stored (e.g. `line_pressure`). */
  metric: string;
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** How many equal buckets [from, to) is cut into. */
  buckets: number;
}

/** One time bucket with at least one numeric reading. Buckets without readings are left out (a gap in the chart). */
export interface TrendBucket {
  /** Start of the bucket, epoch ms. */
  t: number;
  min: number;
  max: number;
  avg: number;
  /** Numeric readings of good or questionable quality in the bucket. */
  count: number;
}

export interface TrendSeries {
  /** The unit of the newest series of the metric (null if the device gave none). */
  unit: string | null;
  /** Width of each bucket, ms. */
  bucketMs: number;
  /** Oldest first. */
  buckets: TrendBucket[];
}

export interface TrendStore {
  /** Min, max and average of a device's numeric readings of one metric per time bucket. */
  trend(deviceId: string, query: TrendQuery): Promise<TrendSeries>;
}
