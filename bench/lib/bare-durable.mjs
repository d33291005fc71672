/**
 * The "bare durable relay"'s store: the floor cost of medtel's promise (a
 * reading is committed to disk before its PUBACK), without anything else the
 * collector does (no contract validation, no de-duplication by (gateway, seq),
 * no registry, alerts, live streams or metrics).
 *
 * Same SQLite settings as the collector (WAL, synchronous=FULL: the commit is
 * on disk when it returns) and the same group commit as its Ingestor
 * (collector/src/ingest/ingestor.ts): whatever arrived by the next turn of the
 * event loop, and while a batch commits, goes into one transaction, at most
 * 5,000 messages. A commit per message would make the floor an fsync per
 * message, which no one would build; so the yardstick batches exactly as the
 * collector does, and the ratio compares the work per message, not the
 * batching policy. Each reading is one row (series id, time, value), as the
 * collector stores it, with the same (series, t) index.
 */
import Database from 'better-sqlite3';

const MAX_BATCH = 5000;

export function openBareDurable(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, device TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (device, metric));
    CREATE TABLE IF NOT EXISTS readings (series_id INTEGER NOT NULL, t INTEGER NOT NULL, value REAL, seq INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS readings_series_t ON readings (series_id, t);
  `);
  const insertSeries = db.prepare('INSERT INTO series (device, metric) VALUES (?, ?)');
  const insertReading = db.prepare('INSERT INTO readings (series_id, t, value, seq) VALUES (?, ?, ?, ?)');
  const seriesIds = new Map();
  const seriesOf = (device, metric) => {
    const key = `${device}\u0000${metric}`;
    let id = seriesIds.get(key);
    if (id === undefined) {
      id = Number(insertSeries.run(device, metric).lastInsertRowid);
      seriesIds.set(key, id);
    }
    return id;
  };
  const commit = db.transaction((batch) => {
    for (const { device, message } of batch) {
      for (const r of message.readings) insertReading.run(seriesOf(device, r.metric), r.t, typeof r.value === 'number' ? r.value : null, message.seq);
    }
  });

  let queue = [];
  let scheduled = false;
  const counts = { messages: 0, readings: 0, commits: 0, errors: 0, batchSum: 0, commitSecondsSum: 0 };
  const drain = () => {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
      queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
      try {
        const started = performance.now();
        commit(batch);
        counts.commitSecondsSum += (performance.now() - started) / 1000;
        counts.commits += 1;
        counts.batchSum += batch.length;
        for (const p of batch) {
          counts.messages += 1;
          counts.readings += p.message.readings.length;
          p.done(null);
        }
      } catch (err) {
        // Nothing acknowledged: the client keeps the messages.
        counts.errors += 1;
        for (const p of batch) p.done(err);
      }
    }
  };
  return {
    counts,
    /** Calls `done(err)` once the message's readings are committed (or the commit failed). */
    submit(device, message, done) {
      queue.push({ device, message, done });
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    close: () => db.close(),
  };
}
