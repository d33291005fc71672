/**
 * A small HDR-like latency histogram with fixed log-linear buckets, so load
 * processes can record every sample in O(1) without allocating and the parent
 * can merge them exactly (bucket counts add up; percentiles of averages do not).
 *
 * Values are recorded in whole microseconds. 0..127 us are exact; above that
 * each power of two is split into 64 buckets, so a bucket is at most 1/64
 * (~1.6 %) wide relative to its value. Range: up to 2^32 us (~71 min); larger
 * values land in the last bucket (max is still kept exactly).
 */

const LINEAR = 128;
const SUB = 64;
const SUB_BITS = 6;
const MAX_SHIFT = 32 - 1 - SUB_BITS; // largest shift for a 32-bit value
export const BUCKETS = LINEAR + MAX_SHIFT * SUB;

/** Bucket index of a value in microseconds (non-negative). */
export function bucketOf(us) {
  let v = us < 0 ? 0 : us >= 0xffffffff ? 0xffffffff : Math.floor(us);
  if (v < LINEAR) return v;
  v >>>= 0;
  const magnitude = 31 - Math.clz32(v); // >= 7
  const shift = magnitude - SUB_BITS; // >= 1
  const mantissa = v >>> shift; // in [64, 128)
  return LINEAR + (shift - 1) * SUB + (mantissa - SUB);
}

/** [low, high) of a bucket in microseconds. */
export function bucketRange(index) {
  if (index < LINEAR) return [index, index + 1];
  const shift = Math.floor((index - LINEAR) / SUB) + 1;
  const mantissa = ((index - LINEAR) % SUB) + SUB;
  return [mantissa * 2 ** shift, (mantissa + 1) * 2 ** shift];
}

export class Histogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  /** Records one value in milliseconds (as performance.now() differences come). */
  recordMs(ms) {
    const us = ms * 1000;
    this.counts[bucketOf(us)] += 1;
    this.count += 1;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  /** Plain object for IPC (sparse: only non-empty buckets). */
  toJSON() {
    const buckets = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { count: this.count, sumUs: this.sum, minUs: this.count ? this.min : 0, maxUs: this.max, buckets };
  }

  static fromJSON(o) {
    const h = new Histogram();
    h.count = o.count;
    h.sum = o.sumUs;
    h.min = o.count ? o.minUs : Number.POSITIVE_INFINITY;
    h.max = o.maxUs;
    for (const [i, n] of o.buckets) h.counts[i] += n;
    return h;
  }

  merge(other) {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sum += other.sum;
    if (other.count && other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    return this;
  }

  /**
   * Value at percentile p (0..100) in milliseconds: the midpoint of the bucket
   * holding the sample of that rank, clamped to the observed min/max.
   */
  percentileMs(p) {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const [lo, hi] = bucketRange(i);
        const mid = hi - lo <= 1 ? lo : (lo + hi) / 2;
        return Math.min(Math.max(mid, this.min), this.max) / 1000;
      }
    }
    return this.max / 1000;
  }

  meanMs() {
    return this.count ? this.sum / this.count / 1000 : Number.NaN;
  }
}
