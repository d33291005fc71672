import type { Logger } from '@medtel/shared';
import type { Lease } from '../cluster/lease.js';
import type { Store } from '../store/store.js';
import type { AlertService } from './alert-service.js';
import { Scheduler } from './scheduler.js';

/** The external source name these alerts carry (`sourceRef`). */
export const CALIBRATION_OVERDUE = 'calibration-overdue';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * "Calibration overdue" as an alert: every `everyMs` the devices whose
 * calibration is past due (HtmStore.calibrationsOverdue) are handed to the
 * alert service as the complete list of this source, so a device that gets a
 * passing calibration drops off the list and its alert is resolved by the
 * system on the next check. Life-support and high-risk devices get priority
 * high: those are the ones a surveyor asks about first.
 */
export class CalibrationOverdueAlerts {
  private readonly scheduler: Scheduler;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly alerts: AlertService,
    private readonly logger: Logger,
    everyMs: number,
    private readonly now: () => number = Date.now,
    /** Replicas: only the holder checks (docs/replicas.md); a single collector always holds it. */
    private readonly lease?: Lease,
  ) {
    this.scheduler = new Scheduler(() => void this.check(), everyMs, now);
  }

  /** Checks once now, then every `everyMs`. */
  async start(): Promise<void> {
    await this.check();
    this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.scheduler.stop();
    await this.running;
  }

  /** One check; overlapping calls share the one in progress. */
  check(): Promise<void> {
    this.running ??= this.sync().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sync(): Promise<void> {
    if (this.lease && !this.lease.held()) return;
    try {
      // The previous holder may have raised or resolved some since we last looked.
      if (this.lease) await this.alerts.refreshWhere(`ext:${CALIBRATION_OVERDUE}:`);
      const overdue = await this.store.htm.calibrationsOverdue(this.now());
      const active = await Promise.all(
        overdue.map(async ({ deviceId, dueAt }) => {
          const device = await this.store.getDevice(deviceId);
          const critical = device?.lifeSupport === true || device?.highRisk === true;
          return {
            deviceId,
            key: 'calibration',
            priority: critical ? ('high' as const) : ('medium' as const),
            text: `calibration overdue since ${day(dueAt)}`,
          };
        }),
      );
      const { raised, resolved } = await this.alerts.syncExternal(CALIBRATION_OVERDUE, active);
      if (raised > 0 || resolved > 0) this.logger.info({ overdue: active.length, raised, resolved }, 'calibration-overdue alerts updated');
    } catch (err) {
      // A failed check leaves the alerts as they were; the next one tries again.
      this.logger.error({ err: (err as Error).message }, 'calibration-overdue check failed');
    }
  }
}
