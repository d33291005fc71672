import type { AlarmMessage } from '@medtel/shared';
import type { AlertService } from './alert-service.js';

export const deviceAlarmKey = (deviceId: string, alarm: string) => `alarm:${deviceId}:${alarm}`;
export const deviceConnectivityKey = (deviceId: string) => `conn:device:${deviceId}`;
export const gatewayConnectivityKey = (gateway: string) => `conn:gateway:${gateway}`;

/**
 * Alerts that devices and gateways raise themselves:
 * - a device's own alarm: phase start raises, continue re-states, end clears;
 * - a device `unreachable` or `error`, or a gateway `offline`, for longer than
 *   the grace period (short blips do not page anyone); `connected`/`online`
 *   clears it.
 * The grace clock starts at the status' own time, so after a collector
 * restart it resumes from what the registry says instead of starting over.
 */
export class DeviceSources {
  /** key -> what to raise once the grace has passed. */
  private readonly pending = new Map<string, { since: number; deviceId: string | null; gateway: string; text: string }>();

  constructor(
    private readonly service: AlertService,
    private readonly graceMs: number,
    /**
     * Replicas: is the gateway connected to some replica right now? A will ingested here may be
     * stale — the gateway reconnected to another replica, which this one never hears from.
     */
    private readonly gatewayConnectedSomewhere?: (gateway: string) => Promise<boolean>,
  ) {}

  alarm(deviceId: string, gateway: string, m: AlarmMessage, receivedAt: number): void {
    const key = deviceAlarmKey(deviceId, m.alarm);
    if (m.phase === 'end' || m.state === 'inactive') {
      void this.service.clear(key, receivedAt);
      return;
    }
    void this.service.raise({
      key,
      source: 'device-alarm',
      sourceRef: m.alarm,
      deviceId,
      gateway,
      metric: m.refId ?? (m.code !== undefined ? String(m.code) : null),
      priority: m.priority,
      text: m.text,
      at: receivedAt,
      repeat: m.phase === 'start',
    });
  }

  deviceStatus(deviceId: string, gateway: string, status: string, reason: string | null, since: number, receivedAt: number): void {
    const key = deviceConnectivityKey(deviceId);
    if (status === 'connected') {
      this.pending.delete(key);
      void this.service.clear(key, receivedAt);
      return;
    }
    const text = `Device ${status}${reason ? `: ${reason}` : ''}`;
    const known = this.pending.get(key);
    this.pending.set(key, { since: known?.since ?? since, deviceId, gateway, text });
  }

  gatewayState(gateway: string, state: string, since: number, receivedAt: number): void {
    const key = gatewayConnectivityKey(gateway);
    if (state === 'online') {
      this.pending.delete(key);
      void this.service.clear(key, receivedAt);
      return;
    }
    if (!this.pending.has(key)) this.pending.set(key, { since, deviceId: null, gateway, text: `Gateway ${gateway} offline` });
  }

  tick(now: number): void {
    for (const [key, p] of this.pending) {
      if (now - p.since < this.graceMs) continue;
      this.pending.delete(key);
      if (!p.deviceId && this.gatewayConnectedSomewhere) {
        const raise = this.raiseInput(key, p, now);
        void this.gatewayConnectedSomewhere(p.gateway)
          .catch(() => false)
          .then((connected) => (connected ? undefined : this.service.raise(raise)));
        continue;
      }
      void this.service.raise(this.raiseInput(key, p, now));
    }
  }

  private raiseInput(key: string, p: { deviceId: string | null; gateway: string; text: string }, now: number) {
    return {
      key,
      source: 'connectivity',
      sourceRef: p.deviceId ? 'device' : 'gateway',
      deviceId: p.deviceId,
      gateway: p.gateway,
      priority: p.deviceId ? 'medium' : 'high',
      text: p.text,
      at: now,
      repeat: false,
    } as const;
  }
}
