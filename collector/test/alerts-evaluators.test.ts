import { describe, expect, it } from 'vitest';
import { LimitEvaluator, NoDataEvaluator, RateEvaluator } from '../dist/alerts/evaluators.js';

/** Pure state machines: fed readings (device time) and ticks of a fake clock, no timers. */

describe('above / below a limit', () => {
  it('raises strictly above the limit, not at it, and clears when back at or under', () => {
    const e = new LimitEvaluator({ kind: 'above', limit: 300 });
    expect(e.reading(1_000, 299, 1_000)).toEqual({ kind: 'clear', at: 1_000 }); // the first verdict is always given
    expect(e.reading(2_000, 300, 2_000)).toBeNull();
    expect(e.reading(3_000, 300.1, 3_000)).toEqual({ kind: 'raise', value: 300.1, at: 3_000 });
    expect(e.reading(4_000, 500, 4_000)).toBeNull(); // already raised: no second raise
    expect(e.reading(5_000, 300, 5_000)).toEqual({ kind: 'clear', at: 5_000 });
    expect(e.reading(6_000, 100, 6_000)).toBeNull();
  });

  it('below: strictly below raises', () => {
    const e = new LimitEvaluator({ kind: 'below', limit: 90 });
    expect(e.reading(0, 90, 0)?.kind).toBe('clear');
    expect(e.reading(1, 89.9, 1)).toMatchObject({ kind: 'raise', value: 89.9 });
  });

  it('sustained: the condition must hold N seconds of readings before raising; a dip restarts the wait', () => {
    const e = new LimitEvaluator({ kind: 'above', limit: 300, sustainedSeconds: 10 });
    expect(e.reading(0, 350, 0)).toBeNull();
    expect(e.reading(9_999, 350, 9_999)).toBeNull();
    expect(e.reading(10_500, 250, 10_500)).toBeNull(); // dipped before 10 s: nothing was raised, nothing to clear
    expect(e.reading(11_000, 350, 11_000)).toBeNull();
    expect(e.reading(20_999, 350, 20_999)).toBeNull();
    expect(e.reading(21_000, 351, 21_000)).toEqual({ kind: 'raise', value: 351, at: 21_000 });
  });

  it('sustained: with sparse readings the clock raises once N seconds pass with no reading saying otherwise', () => {
    const e = new LimitEvaluator({ kind: 'above', limit: 300, sustainedSeconds: 10 });
    expect(e.reading(1_000, 400, 1_000)).toBeNull();
    expect(e.tick(10_999)).toBeNull();
    expect(e.tick(11_000)).toEqual({ kind: 'raise', value: 400, at: 11_000 });
    expect(e.tick(20_000)).toBeNull();
  });
});

describe('rate of change over a window (helium boil-off)', () => {
  /** A helium level falling `perHour` %/h from 80 %, one reading a minute, with ±0.05 % noise. */
  function feed(e: RateEvaluator, fromMin: number, toMin: number, perHour: number, start = 80) {
    const verdicts = [];
    for (let m = fromMin; m <= toMin; m++) {
      const noise = m % 2 === 0 ? 0.05 : -0.05;
      verdicts.push(e.reading(m * 60_000, start - (perHour * m) / 60 + noise, m * 60_000));
    }
    return verdicts.filter((v) => v !== null);
  }

  it('says nothing until the readings span half the window', () => {
    const e = new RateEvaluator({ kind: 'rate', direction: 'falling', limit: 0.5, per: 'h', windowSeconds: 3600 });
    expect(feed(e, 0, 29, 2)).toEqual([]);
    expect(e.slope()).toBeNull();
    expect(feed(e, 30, 30, 2)).toEqual([expect.objectContaining({ kind: 'raise' })]);
  });

  it('raises when falling faster than the limit, with the fitted slope as the value, and clears when it levels off', () => {
    const e = new RateEvaluator({ kind: 'rate', direction: 'falling', limit: 0.5, per: 'h', windowSeconds: 3600 });
    const normal = feed(e, 0, 120, 0.1); // 0.1 %/h: a zero-boil-off magnet's drift
    expect(normal.map((v) => v.kind)).toEqual(['clear']);
    expect(e.slope()).toBeCloseTo(-0.1, 1);
    const leak = feed(e, 121, 240, 3, 80 + (3 - 0.1) * (121 / 60)); // continuous level, now falling 3 %/h
    const raise = leak.find((v) => v.kind === 'raise');
    expect(raise).toBeDefined();
    expect(e.slope()).toBeCloseTo(-3, 1);
    expect(leak.filter((v) => v.kind === 'raise')).toHaveLength(1);
  });

  it('rising: units per minute', () => {
    const e = new RateEvaluator({ kind: 'rate', direction: 'rising', limit: 5, per: 'min', windowSeconds: 60 });
    const verdicts = [];
    for (let s = 0; s <= 60; s++) verdicts.push(e.reading(s * 1000, 20 + s * 0.1, s * 1000)); // 6 per minute
    expect(verdicts.filter(Boolean)).toEqual([expect.objectContaining({ kind: 'raise', value: expect.closeTo(6, 3) })]);
  });

  it('keeps a bounded number of buckets however fast readings come', () => {
    const e = new RateEvaluator({ kind: 'rate', direction: 'falling', limit: 1, per: 'h', windowSeconds: 600 });
    for (let i = 0; i < 100_000; i++) e.reading(i * 10, 50, i * 10); // 100 readings/s for 1000 s
    expect((e as unknown as { buckets: unknown[] }).buckets.length).toBeLessThanOrEqual(122);
  });
});

describe('no data for N seconds (fake clock)', () => {
  it('raises once N seconds pass without a reading, clears at the next one', () => {
    const e = new NoDataEvaluator(30, 1_000);
    expect(e.tick(30_999)).toBeNull();
    expect(e.tick(31_000)).toEqual({ kind: 'raise', value: null, at: 31_000 });
    expect(e.tick(60_000)).toBeNull(); // raised once
    expect(e.seen(61_000)).toEqual({ kind: 'clear', at: 61_000 });
    expect(e.tick(90_999)).toBeNull();
    expect(e.tick(91_000)?.kind).toBe('raise');
  });

  it('the first reading after a (re)start clears an alert left open before it', () => {
    const e = new NoDataEvaluator(30, 0);
    expect(e.seen(5_000)).toEqual({ kind: 'clear', at: 5_000 });
    expect(e.seen(6_000)).toBeNull();
  });
});
