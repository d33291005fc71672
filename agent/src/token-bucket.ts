/**
 * A token bucket: at most `ratePerSecond` on average, bursts up to `burst`.
 * Lets a fleet of gateways that come back together drain their backlogs
 * without flattening the collector (optional, off by default).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number = Math.max(1, ratePerSecond),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = this.burst;
    this.last = now();
  }

  /** Takes up to `wanted` tokens; returns how many were available. */
  take(wanted: number): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** Gives back tokens taken but not used (nothing was waiting to be sent). */
  refund(unused: number): void {
    this.tokens = Math.min(this.burst, this.tokens + unused);
  }

  /** Milliseconds until at least one token is available. */
  waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
  }
}
