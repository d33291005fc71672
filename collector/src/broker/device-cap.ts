/**
 * The devices-per-gateway limit: a gateway with a runaway config (or a stolen
 * secret) must not fill the registry with thousands of devices. Each
 * gateway's known devices are loaded from the store once, at its first
 * device-scoped message; a device beyond the limit is refused (its messages
 * quarantined and counted), devices already known keep working.
 */
export class DeviceCap {
  private readonly known = new Map<string, Promise<Set<string>>>();
  /** Refusals already logged, so a refused device that keeps publishing logs once (bounded). */
  private readonly logged = new Set<string>();

  constructor(
    readonly limit: number,
    private readonly loadKnown: (gateway: string) => Promise<string[]>,
  ) {}

  /** True if `device` of `gateway` is known or fits under the limit (it is then known). */
  async admit(gateway: string, device: string): Promise<boolean> {
    let pending = this.known.get(gateway);
    if (!pending) {
      pending = this.loadKnown(gateway).then((ids) => new Set(ids));
      // A failed load is retried at the next message rather than cached.
      pending.catch(() => this.known.delete(gateway));
      this.known.set(gateway, pending);
    }
    const devices = await pending;
    if (devices.has(device)) return true;
    if (devices.size >= this.limit) return false;
    devices.add(device);
    return true;
  }

  /** True the first time a refusal of this device is seen (for logging once). */
  firstRefusal(gateway: string, device: string): boolean {
    const key = `${gateway}.${device}`;
    if (this.logged.has(key) || this.logged.size >= 10_000) return false;
    this.logged.add(key);
    return true;
  }
}
