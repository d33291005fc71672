import type pg from 'pg';
import { LOCKS, tx } from './pg-db.js';

export const DAY_MS = 86_400_000;

const partitionName = (day: number) => {
  const d = new Date(day * DAY_MS);
  return `readings_p${d.getUTCFullYear().toString().padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
};

/**
 * Daily partitions of `readings` (range on `t`, epoch ms, UTC days). The
 * store creates today's and the next days' ahead of time, and the one an
 * incoming reading needs on demand: readings can be days old after a
 * gateway's outbox drains. Creation is serialized across replicas with an
 * advisory lock (two CREATE TABLE IF NOT EXISTS can otherwise collide).
 * Retention drops whole partitions: no row-by-row DELETE, no vacuum debt.
 */
export class Partitions {
  private readonly known = new Set<number>();

  constructor(private readonly pool: pg.Pool) {}

  /** Makes sure a partition exists for each of these reading times; outside the batch transaction (DDL locks the parent briefly). */
  async ensureFor(times: Iterable<number>): Promise<void> {
    const missing = new Set<number>();
    for (const t of times) {
      const day = Math.floor(t / DAY_MS);
      if (!this.known.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await tx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.partitions]);
      for (const day of [...missing].sort((a, b) => a - b)) {
        await c.query(`CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF readings FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`);
      }
    });
    for (const day of missing) this.known.add(day);
  }

  /** Another replica may have dropped a partition this one remembers: forget them all. */
  forget(): void {
    this.known.clear();
  }

  /** Today's partition and `days` after it. */
  async createAhead(now: number, days = 2): Promise<void> {
    await this.ensureFor(Array.from({ length: days + 1 }, (_, i) => now + i * DAY_MS));
  }

  /** The day partitions that exist, oldest first: [name, first ms, end ms). */
  async list(): Promise<Array<{ name: string; from: number; to: number }>> {
    const rows = (
      await this.pool.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = 'readings' AND c.relname ~ '^readings_p[0-9]{8}$' ORDER BY c.relname`,
      )
    ).rows;
    return rows.map(({ name }) => {
      const m = /^readings_p(\d{4})(\d{2})(\d{2})$/.exec(name) as RegExpExecArray;
      const from = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      return { name, from, to: from + DAY_MS };
    });
  }

  /**
   * Drops partitions whose whole day is before `cutoff`, and rollups older
   * than `rollupCutoff`. Runs on one replica at a time (pg_try_advisory_lock:
   * the others skip this round). Returns the partitions dropped, or null if
   * another replica holds the job.
   */
  async retain(cutoff: number, rollupCutoff: number | null): Promise<string[] | null> {
    const client = await this.pool.connect();
    try {
      const got = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LOCKS.retention])).rows[0]?.ok;
      if (!got) return null;
      try {
        const dropped: string[] = [];
        for (const p of await this.list()) {
          if (p.to > cutoff) break;
          await client.query(`DROP TABLE IF EXISTS ${p.name}`);
          this.known.delete(Math.floor(p.from / DAY_MS));
          dropped.push(p.name);
        }
        if (rollupCutoff !== null) await client.query('DELETE FROM readings_minute WHERE minute < $1', [rollupCutoff]);
        return dropped;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [LOCKS.retention]);
      }
    } finally {
      client.release();
    }
  }
}
