import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../dist/token-bucket.js';

describe('token bucket (publish rate limit)', () => {
  it('allows a burst, then the configured rate, and takes back what was not used', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 10, () => now);
    expect(bucket.take(50)).toBe(10); // the burst
    expect(bucket.take(1)).toBe(0);
    expect(bucket.waitMs()).toBe(10); // one token per 10 ms at 100/s
    now += 50;
    expect(bucket.take(50)).toBe(5);
    bucket.refund(3);
    expect(bucket.take(50)).toBe(3);
    now += 10_000;
    expect(bucket.take(50)).toBe(10); // never more than the burst, however long it waited
  });
});
