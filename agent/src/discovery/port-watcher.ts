import { existsSync, readdirSync, type FSWatcher, watch } from 'node:fs';

export interface PortWatcherOptions {
  dir: string;
  rescanMs: number;
  added(name: string): void;
  removed(name: string): void;
}

/**
 * Watches a directory of serial port links (/dev/serial/by-id by default) for
 * links appearing and disappearing. fs.watch reports changes at once; a full
 * rescan every `rescanMs` catches what it missed (inotify overflow, the
 * directory itself created or removed: udev makes by-id only once the first
 * adapter is plugged in). A dangling link counts as gone.
 */
export class PortWatcher {
  private readonly known = new Set<string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(private readonly o: PortWatcherOptions) {}

  start(): void {
    this.stopped = false;
    this.scan();
    this.timer = setInterval(() => this.scan(), this.o.rescanMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** The links present now (each checked to lead somewhere). */
  static list(dir: string): string[] {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names.filter((name) => existsSync(`${dir}/${name}`)).sort();
  }

  private arm(): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = watch(this.o.dir, () => {
        clearTimeout(this.debounce);
        // A burst of events (udev writes several links per adapter) becomes one scan.
        this.debounce = setTimeout(() => this.scan(), 50);
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // No directory yet: the periodic rescan tries again.
    }
  }

  private scan(): void {
    if (this.stopped) return;
    this.arm();
    const now = new Set(PortWatcher.list(this.o.dir));
    if (now.size === 0 && this.watcher && !existsSync(this.o.dir)) {
      this.watcher.close();
      this.watcher = undefined;
    }
    for (const name of this.known) {
      if (now.has(name)) continue;
      this.known.delete(name);
      this.o.removed(name);
    }
    for (const name of now) {
      if (this.known.has(name)) continue;
      this.known.add(name);
      this.o.added(name);
    }
  }
}
