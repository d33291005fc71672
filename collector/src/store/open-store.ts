import { readFileSync } from 'node:fs';
import { ConfigError, type Logger, parseDuration } from '@medtel/shared';
import type { CollectorConfig } from '../config.js';
import type { SiteCalendar } from '../htm/pm-schedule.js';
import { DAY_MS } from './postgres/partitions.js';
import { maskUrl } from './postgres/pg-db.js';
import { PgStore } from './postgres/pg-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/**
 * The backend the config asks for: SQLite (`store.path`, the default) or
 * PostgreSQL (`store.url`). Both migrate when opened (PostgreSQL under an
 * advisory lock, so replicas starting together do not race).
 */
export async function openStore(config: CollectorConfig, options: { calendar?: SiteCalendar } = {}): Promise<Store> {
  const s = config.store;
  if (!s.url) return new SqliteStore(s.path, options);
  return PgStore.open({ url: s.url, poolSize: s.poolSize, ...passwordOf(config), ...options });
}

/** Where the store is, safe to log (a password in the URL is masked). */
export function describeStore(config: CollectorConfig): string {
  return config.store.url ? maskUrl(config.store.url) : config.store.path;
}

function passwordOf(config: CollectorConfig): { password?: string } {
  const file = config.store.passwordFile;
  if (!file) return {}; // node-postgres reads PGPASSWORD (and ~/.pgpass) itself
  try {
    return { password: readFileSync(file, 'utf8').trim() };
  } catch (err) {
    throw new ConfigError(`store.passwordFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, '(config)', 'store.passwordFile');
  }
}

/**
 * PostgreSQL's housekeeping: every `retentionCheckEvery`, create the next
 * days' partitions and drop those past `retention` (and rollups past
 * `rollupRetention`). The drop runs on one replica at a time (a try-lock:
 * the others skip the round). Returns a stop function; a no-op on SQLite.
 */
export function startRetention(store: Store, config: CollectorConfig, logger: Logger): () => void {
  if (!(store instanceof PgStore)) return () => undefined;
  const days = (text: string) => Number.parseInt(text, 10) * DAY_MS;
  const round = async () => {
    const now = Date.now();
    try {
      await store.partitions.createAhead(now);
      const dropped = await store.partitions.retain(now - days(config.store.retention), now - days(config.store.rollupRetention));
      if (dropped?.length) logger.info({ partitions: dropped }, 'readings past store.retention dropped');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'store retention round failed; retrying at the next one');
    }
  };
  void round();
  const timer = setInterval(() => void round(), parseDuration(config.store.retentionCheckEvery));
  timer.unref();
  return () => clearInterval(timer);
}
