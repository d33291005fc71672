/** Counts of the collector's SQLite file, as an independent check of what /metrics and the clients say. */

/**
 * Rows in `received`, `readings` and `quarantine`, read-only; call it after
 * the collector closed the file. {error} if the file cannot be read.
 */
export async function countStore(dbPath) {
  try {
    const { default: Database } = await import('better-sqlite3');
    const conn = new Database(dbPath, { readonly: true, fileMustExist: true });
    const counts = {
      messages: conn.prepare('SELECT count(*) AS n FROM received').get().n,
      readings: conn.prepare('SELECT count(*) AS n FROM readings').get().n,
      quarantined: conn.prepare('SELECT count(*) AS n FROM quarantine').get().n,
    };
    conn.close();
    return counts;
  } catch (err) {
    return { error: err.message };
  }
}
