export interface BackoffOptions {
  /** First delay, ms. */
  initialMs: number;
  /** Ceiling, ms. */
  maxMs: number;
  /** Growth per failed attempt. */
  factor?: number;
}

/**
 * Exponential backoff with "full jitter" (delay drawn uniformly from
 * [initial/2, cap]) so that a fleet of gateways losing the collector at the same
 * moment does not come back in one wave.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next attempt; each call counts as one more failure. */
  next(): number {
    const factor = this.options.factor ?? 2;
    const cap = Math.min(this.options.maxMs, this.options.initialMs * factor ** this.attempt);
    this.attempt += 1;
    const floor = Math.min(cap, this.options.initialMs / 2);
    return Math.round(floor + this.random() * (cap - floor));
  }

  /** Call after a success so the next failure starts small again. */
  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
