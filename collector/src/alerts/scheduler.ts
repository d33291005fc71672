/**
 * The clock of the time-based conditions (sustained, no data, grace periods,
 * flap hold-offs): calls `tick(now)` every `everyMs`. Conditions that depend
 * on time passing without data cannot wait for the next reading.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tick: (now: number) => void,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(this.now()), this.everyMs);
    // The collector stops by closing its servers; a pending tick must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
