import type Database from 'better-sqlite3';

/** Listings with filters and paging, as every list endpoint of the API reads them. */

type Row = Record<string, unknown>;

export interface Where {
  /** `WHERE a = ? AND b = ?`, or '' when nothing filters. */
  clause: string;
  args: unknown[];
}

/** `[condition with its ?, value]` pairs; a pair whose value is undefined is a filter not asked for and left out. */
export function where(parts: Array<[string, unknown]>): Where {
  const given = parts.filter(([, value]) => value !== undefined);
  return { clause: given.length ? `WHERE ${given.map(([cond]) => cond).join(' AND ')}` : '', args: given.map(([, value]) => value) };
}

/** One page of rows and how many match in all, counted over the same FROM and WHERE. */
export function selectPage(
  db: Database.Database,
  q: { columns?: string; from: string; where: Where; orderBy: string; limit: number; offset: number },
): { rows: Row[]; total: number } {
  const { clause, args } = q.where;
  const total = (db.prepare(`SELECT count(*) AS n FROM ${q.from} ${clause}`).get(...args) as { n: number }).n;
  const rows = db
    .prepare(`SELECT ${q.columns ?? '*'} FROM ${q.from} ${clause} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?`)
    .all(...args, q.limit, q.offset) as Row[];
  return { rows, total };
}
