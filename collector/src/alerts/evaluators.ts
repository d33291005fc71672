import type { RuleCondition } from '../store/alert-store.js';

/**
 * Rule conditions as small state machines, one per (rule, device). They know
 * nothing about storage or alerts: they are fed readings and clock ticks and
 * answer "raise", "clear" or nothing (no change), so they can be tested with
 * a fake clock and driven at ingest rates without touching the database.
 */

export type Verdict = { kind: 'raise'; value: number | null; at: number } | { kind: 'clear'; at: number } | null;

export interface Evaluator {
  /** A numeric reading at device time `t` (ms), received at `receivedAt` (collector clock, ms). */
  reading(t: number, value: number, receivedAt: number): Verdict;
  /** The scheduler's clock tick (collector clock, ms). */
  tick(now: number): Verdict;
}

/**
 * "Sustained for N seconds": a condition becomes a raise only once it has
 * held for N s — measured on reading timestamps, or, when readings are sparse,
 * when the clock passes the same point with no reading saying otherwise.
 * The first verdict of a fresh state is always given (even "clear"), so an
 * alert left open before a restart is cleared once values are normal.
 */
export class Sustain {
  private state: 'unknown' | 'clear' | 'pending' | 'raised' = 'unknown';
  private since = 0;
  private lastValue: number | null = null;

  constructor(private readonly sustainMs: number) {}

  update(holds: boolean, t: number, value: number | null): Verdict {
    if (!holds) {
      const was = this.state;
      this.state = 'clear';
      return was === 'clear' || was === 'pending' ? null : { kind: 'clear', at: t };
    }
    this.lastValue = value;
    if (this.state === 'raised') return null;
    if (this.state !== 'pending') {
      this.state = 'pending';
      this.since = t;
    }
    return t - this.since >= this.sustainMs ? this.fire(t) : null;
  }

  tick(now: number): Verdict {
    return this.state === 'pending' && now - this.since >= this.sustainMs ? this.fire(now) : null;
  }

  private fire(at: number): Verdict {
    this.state = 'raised';
    return { kind: 'raise', value: this.lastValue, at };
  }
}

/** Above or below a limit (strictly: a value equal to the limit does not raise). */
export class LimitEvaluator implements Evaluator {
  private readonly sustain: Sustain;

  constructor(private readonly condition: { kind: 'above' | 'below'; limit: number; sustainedSeconds?: number }) {
    this.sustain = new Sustain((condition.sustainedSeconds ?? 0) * 1000);
  }

  reading(t: number, value: number, _receivedAt?: number): Verdict {
    const holds = this.condition.kind === 'above' ? value > this.condition.limit : value < this.condition.limit;
    return this.sustain.update(holds, t, value);
  }

  tick(now: number): Verdict {
    return this.sustain.tick(now);
  }
}

const PER_MS = { s: 1000, min: 60_000, h: 3_600_000 } as const;
/** A window is kept as this many buckets: memory stays bounded whatever the reading rate. */
const BUCKETS_PER_WINDOW = 120;

/**
 * Rate of change over a window: the least-squares slope of the readings of
 * the last `windowSeconds` (noise on single readings barely moves it), in
 * units per `per`. Readings are averaged into buckets of window/120, so a
 * device reading 100 times a second costs no more memory than one reading
 * once a minute. No verdict until the data spans half the window.
 */
export class RateEvaluator implements Evaluator {
  private readonly buckets: Array<{ start: number; sumT: number; sumV: number; n: number }> = [];
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly sustain: Sustain;

  constructor(private readonly condition: Extract<RuleCondition, { kind: 'rate' }>) {
    this.windowMs = condition.windowSeconds * 1000;
    this.bucketMs = Math.max(1, this.windowMs / BUCKETS_PER_WINDOW);
    this.sustain = new Sustain((condition.sustainedSeconds ?? 0) * 1000);
  }

  /** Units per `per` over the current window, or null while the window is too thin. */
  slope(): number | null {
    const first = this.buckets[0];
    const last = this.buckets.at(-1);
    if (!first || !last || this.buckets.length < 2) return null;
    if (last.sumT / last.n - first.sumT / first.n < this.windowMs / 2) return null;
    // Times relative to the first bucket keep the sums well inside double precision.
    const t0 = first.sumT / first.n;
    let n = 0;
    let st = 0;
    let sv = 0;
    let stt = 0;
    let stv = 0;
    for (const b of this.buckets) {
      const t = b.sumT / b.n - t0;
      const v = b.sumV / b.n;
      n++;
      st += t;
      sv += v;
      stt += t * t;
      stv += t * v;
    }
    const denominator = n * stt - st * st;
    if (denominator === 0) return null;
    return ((n * stv - st * sv) / denominator) * PER_MS[this.condition.per ?? 'h'];
  }

  reading(t: number, value: number, _receivedAt?: number): Verdict {
    const last = this.buckets.at(-1);
    if (last && t < last.start) return null; // out of order (a late backlog): the window only moves forward
    if (last && t < last.start + this.bucketMs) {
      last.sumT += t;
      last.sumV += value;
      last.n++;
    } else {
      this.buckets.push({ start: t, sumT: t, sumV: value, n: 1 });
    }
    while (this.buckets.length > 0 && (this.buckets[0] as { start: number }).start < t - this.windowMs) this.buckets.shift();
    const slope = this.slope();
    if (slope === null) return null;
    const holds = this.condition.direction === 'falling' ? slope <= -this.condition.limit : slope >= this.condition.limit;
    return this.sustain.update(holds, t, Math.round(slope * 1e6) / 1e6);
  }

  tick(now: number): Verdict {
    return this.sustain.tick(now);
  }
}

/**
 * No data for N seconds, on the collector's clock (when readings arrived, not
 * the device's timestamps: a device with a wrong clock still counts as
 * talking). Seeded with the device's last-seen time, so it resumes after a
 * collector restart instead of starting the wait again.
 */
export class NoDataEvaluator implements Evaluator {
  /** null until the first verdict: the first reading clears an alert left open before a restart. */
  private raised: boolean | null = null;

  constructor(
    private readonly seconds: number,
    private lastAt: number,
  ) {}

  reading(_t: number, _value: number, receivedAt: number): Verdict {
    return this.seen(receivedAt);
  }

  /** Any reading of the metric (numeric or not) counts as data. */
  seen(receivedAt: number): Verdict {
    this.lastAt = Math.max(this.lastAt, receivedAt);
    if (this.raised === false) return null;
    this.raised = false;
    return { kind: 'clear', at: receivedAt };
  }

  tick(now: number): Verdict {
    if (this.raised === true || now - this.lastAt < this.seconds * 1000) return null;
    this.raised = true;
    return { kind: 'raise', value: null, at: now };
  }
}

export function createEvaluator(condition: RuleCondition, seedLastSeen: number): Evaluator {
  switch (condition.kind) {
    case 'above':
    case 'below':
      return new LimitEvaluator(condition);
    case 'rate':
      return new RateEvaluator(condition);
    case 'no-data':
      return new NoDataEvaluator(condition.seconds, seedLastSeen);
  }
}
