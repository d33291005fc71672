import type { Logger } from '@medtel/shared';
import type { CollectorMetrics } from '../metrics.js';
import type { ApplyOutcome, IngestItem, Store } from '../store/store.js';

interface Pending {
  item: IngestItem;
  resolve: (outcome: ApplyOutcome) => void;
  reject: (err: Error) => void;
}

/**
 * Group commit: whatever arrived while the previous batch was committing goes
 * into the next transaction (a fixed batch size would wait for a timer and
 * starve the committer). Submissions resolve in arrival order, which keeps the
 * broker's PUBACKs in PUBLISH order per connection (MQTT-4.6.0-2).
 */
export class Ingestor {
  private queue: Pending[] = [];
  private committing = false;
  private scheduled = false;
  private idle: Array<() => void> = [];
  private listeners: Array<(items: IngestItem[]) => void> = [];
  /** Why the last commit failed, until one succeeds: /readyz reports it (the store cannot take data). */
  commitError: string | undefined;

  constructor(
    private readonly store: Store,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
    private readonly maxBatch = 5000,
  ) {}

  /** Resolves once the item is durable (or known to be a duplicate); rejects if the commit failed. */
  submit(item: IngestItem): Promise<ApplyOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.metrics.queueDepth.set(this.queue.length);
      if (!this.committing && !this.scheduled) {
        // One turn of the event loop lets every packet of the same socket read join this batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  /**
   * Called after each commit with the items newly stored (duplicates left
   * out), in arrival order. Alert rules, live streams and command results
   * listen here, so they only ever see data that is durable.
   * A listener that throws is logged and does not affect ingest.
   */
  onStored(listener: (items: IngestItem[]) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Resolves when nothing is queued or committing (for orderly shutdown). */
  flushed(): Promise<void> {
    if (!this.committing && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async drain(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.metrics.queueDepth.set(this.queue.length);
      const started = performance.now();
      try {
        const outcomes = await this.store.apply(batch.map((p) => p.item));
        this.metrics.commitSeconds.observe((performance.now() - started) / 1000);
        this.metrics.batchSize.observe(batch.length);
        batch.forEach((p, i) => {
          const outcome = outcomes[i] as ApplyOutcome;
          this.count(p.item, outcome);
          p.resolve(outcome);
        });
        this.commitError = undefined;
        this.notify(batch.filter((_, i) => outcomes[i] === 'stored').map((p) => p.item));
      } catch (err) {
        this.commitError = (err as Error).message;
        // Nothing in the batch is acknowledged: gateways keep the messages and send them again.
        this.metrics.commitErrors.inc();
        this.logger.error({ err: (err as Error).message, messages: batch.length }, 'store commit failed; gateways will re-send');
        for (const p of batch) p.reject(err as Error);
      }
    }
    this.committing = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private notify(items: IngestItem[]): void {
    if (items.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(items);
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'ingest listener failed');
      }
    }
  }

  private count(item: IngestItem, outcome: ApplyOutcome): void {
    if (item.kind === 'quarantine') {
      const kind = item.reason.split(':')[0] ?? 'unknown';
      this.metrics.quarantined.inc({ kind });
      this.metrics.messages.inc({ kind, outcome: 'quarantined' });
      return;
    }
    this.metrics.messages.inc({ kind: item.kind, outcome });
    if (item.kind === 'data' && outcome === 'stored') this.metrics.readings.inc(item.message.readings.length);
  }
}
