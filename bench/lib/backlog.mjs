/**
 * A gateway's backlog, as if it had been offline: an agent outbox file
 * (`outbox.db`) filled with `data` messages by the agent's own Outbox class,
 * so the rows, their seq numbers, sizes and indexes are exactly what a real
 * agent would have written, and the write itself measures the outbox's group
 * commit (SQLite WAL, synchronous=FULL, a transaction per 2,000 pending
 * messages, its own MAX_PENDING).
 */
import { Outbox } from '@medtel/agent';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { topics } from '@medtel/shared';
import { makeReadingsBuilder } from './payload.mjs';

/**
 * Writes `messages` data messages of `readings` readings each to the outbox
 * `file`, cycling over `devices` devices ("pump-1".."pump-N"), as one poll of
 * every device per `intervalMs`, the newest poll ending now (so the backlog
 * spans messages / devices * intervalMs of device time). Returns
 * {seconds, messages, readings, firstSeq, lastSeq, commits, bytes, fileBytes, spanSeconds}
 * (counts as read back from the file after the outbox closed it).
 */
export function fillBacklog({ file, site, gateway, maxBytes, messages, readings, devices, intervalMs = 1000 }) {
  const build = makeReadingsBuilder(readings);
  const deviceIds = Array.from({ length: devices }, (_, i) => `pump-${i + 1}`);
  const topicOf = deviceIds.map((d) => topics.device(site, gateway, d, 'data'));
  const polls = Math.ceil(messages / devices);
  const end = Date.now();
  let commits = 0;
  const started = performance.now();
  const outbox = Outbox.open(file, { site, gateway, maxBytes, onCommit: () => (commits += 1) });
  try {
    let n = 0;
    for (let poll = 0; poll < polls && n < messages; poll++) {
      // One poll of every device, enqueued as the agent's device runners do; the
      // outbox commits on its own once 2,000 messages are pending.
      const t = end - (polls - 1 - poll) * intervalMs;
      const batch = [];
      for (let d = 0; d < devices && n < messages; d++, n++) {
        const device = deviceIds[d];
        const body = { device, clock: 'agent', readings: build(n, t) };
        batch.push({ topic: topicOf[d], kind: 'data', device, body, readings: { count: readings, from: t - (readings - 1) * 100, to: t } });
      }
      outbox.enqueue(batch);
    }
    outbox.flush();
  } finally {
    outbox.close();
  }
  const seconds = (performance.now() - started) / 1000;
  // What is in the file, read back independently of the class that wrote it.
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  const row = conn
    .prepare(
      'SELECT count(*) AS n, min(seq) AS firstSeq, max(seq) AS lastSeq, coalesce(sum(bytes), 0) AS bytes, coalesce(sum(readings), 0) AS readings FROM outbox',
    )
    .get();
  conn.close();
  return {
    seconds,
    messages: row.n,
    readings: row.readings,
    firstSeq: row.firstSeq,
    lastSeq: row.lastSeq,
    commits,
    bytes: row.bytes,
    fileBytes: statSync(file).size,
    spanSeconds: (polls * intervalMs) / 1000,
  };
}
