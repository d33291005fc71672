import type { Where } from '../sqlite/paged.js';
import { type Queryable, type Row, all, one } from './pg-db.js';

export { where } from '../sqlite/paged.js';

/** One page of rows and how many match in all (the SQLite helper's twin; `?` placeholders). */
export async function selectPage(
  db: Queryable,
  q: { columns?: string; from: string; where: Where; orderBy: string; limit: number; offset: number },
): Promise<{ rows: Row[]; total: number }> {
  const { clause, args } = q.where;
  const total = (await one<{ n: number }>(db, `SELECT count(*) AS n FROM ${q.from} ${clause}`, args))?.n ?? 0;
  const rows = await all(db, `SELECT ${q.columns ?? '*'} FROM ${q.from} ${clause} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?`, [...args, q.limit, q.offset]);
  return { rows, total };
}
