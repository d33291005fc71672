import { getJson, postJson } from './api.js';
import { clearCue, highPriorityCue } from './cue.js';
import { LiveStream } from './stream.js';

export interface Alert {
  id: number;
  key: string;
  source: string;
  deviceId: string | null;
  gatewayId: string | null;
  priority: 'high' | 'medium' | 'low';
  state: 'active' | 'acknowledged' | 'resolved';
  text: string;
  value: number | null;
  count: number;
  raisedAt: string;
  lastSeenAt: string;
  clearedAt: string | null;
  acknowledged: { by: string; role: string; at: string; note: string } | null;
  resolved: { by: string; role: string; at: string; note: string } | null;
  version: number;
}

const PRIORITY_RANK = { high: 0, medium: 1, low: 2 } as const;

/**
 * The open alerts, kept current from the live stream: read once
 * (GET /alerts?state=open), then every `alert` event replaces its alert.
 * Views subscribe and re-render; a new high-priority alert gives the cue.
 */
class OpenAlerts {
  private readonly alerts = new Map<number, Alert>();
  private readonly listeners = new Set<() => void>();
  private stream: LiveStream | null = null;
  connected = false;

  start(): void {
    this.stop();
    this.stream = new LiveStream('types=alerts', {
      onOpen: () => void this.reload(),
      onState: (connected) => {
        this.connected = connected;
        this.changed();
      },
      onEvent: (event, data) => {
        if (event === 'alert') this.apply(data as { change: string; alert: Alert });
        if (event === 'dropped') void this.reload();
      },
    });
  }

  stop(): void {
    this.stream?.close();
    this.stream = null;
    this.alerts.clear();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Open alerts, high priority first, then newest first; optionally of one device. */
  list(deviceId?: string): Alert[] {
    return [...this.alerts.values()]
      .filter((a) => deviceId === undefined || a.deviceId === deviceId)
      .sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || Date.parse(b.raisedAt) - Date.parse(a.raisedAt));
  }

  async reload(): Promise<void> {
    const page = await getJson<{ items: Alert[] }>('/api/v1/alerts?state=open&limit=1000');
    const known = new Map(this.alerts);
    this.alerts.clear();
    // An event may have overtaken the list (the stream is already live): keep the newer version.
    for (const a of page.items) {
      const seen = known.get(a.id);
      this.alerts.set(a.id, seen && seen.version > a.version ? seen : a);
    }
    this.changed();
  }

  /** Acknowledge or resolve with a note; 409 (someone acted meanwhile) re-reads and rethrows. */
  async act(alert: Alert, action: 'ack' | 'resolve', note: string): Promise<void> {
    try {
      const { body } = await postJson<Alert>(`/api/v1/alerts/${alert.id}/${action}`, { reason: note }, alert.version);
      this.put(body);
    } catch (err) {
      void this.reload();
      throw err;
    }
  }

  private apply({ change, alert }: { change: string; alert: Alert }): void {
    const known = this.alerts.get(alert.id);
    if (known && known.version > alert.version) return; // an older event after our own answer
    this.put(alert);
    if (change === 'raised' && alert.priority === 'high') highPriorityCue(`High priority: ${alert.text}${alert.deviceId ? ` (${alert.deviceId})` : ''}`);
  }

  private put(alert: Alert): void {
    if (alert.state === 'resolved') this.alerts.delete(alert.id);
    else this.alerts.set(alert.id, alert);
    if (!this.list().some((a) => a.priority === 'high' && a.state === 'active')) clearCue();
    this.changed();
  }

  /** Re-render subscribers (e.g. after a note form was cancelled). */
  changed(): void {
    for (const l of this.listeners) l();
  }
}

export const openAlerts = new OpenAlerts();
