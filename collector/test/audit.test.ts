import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditError, AuditLog, GENESIS_HASH, canonicalJson, describeVerifyResult, migrateAudit, sha256Hex, type AuditInput } from '../dist/audit/index.js';
import { tempDir } from '../../test/helpers.js';

const dir = tempDir();
const open: Database.Database[] = [];
afterAll(() => {
  for (const db of open) db.close();
  dir.remove();
});

let files = 0;
/** A fresh database file with the audit tables, as the store will open it. */
function freshDb(): { db: Database.Database; file: string } {
  const file = join(dir.path, `audit-${++files}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrateAudit(db);
  open.push(db);
  return { db, file };
}

/** A clock that ticks one second per call from a fixed instant. */
function clock(start = Date.UTC(2025, 0, 1, 8, 0, 0)) {
  let t = start;
  return () => {
    t += 1000;
    return new Date(t);
  };
}

const change = (n: number): AuditInput => ({
  actor: 'alice',
  role: 'technician',
  action: 'device:update',
  objectType: 'device',
  objectId: `gw-1.pump-${n}`,
  oldValue: { location: 'ICU 1', n },
  newValue: { location: 'ICU 2', n },
});

/** A log with n entries, and a second raw connection with the triggers dropped, as an attacker with file access would. */
function tamperable(n: number) {
  const { db, file } = freshDb();
  const log = new AuditLog(db, { now: clock() });
  for (let i = 1; i <= n; i++) log.append(change(i));
  expect(log.verify()).toMatchObject({ ok: true, entries: n });
  const raw = new Database(file);
  open.push(raw);
  for (const t of ['audit_no_update', 'audit_no_delete', 'audit_insert_at_head', 'audit_head_forward', 'audit_head_no_delete']) raw.exec(`DROP TRIGGER ${t}`);
  return { log, raw };
}

describe('audit log', () => {
  it('appends hash-chained entries with UTC timestamps and lists them newest first, filtered', () => {
    const { db } = freshDb();
    const log = new AuditLog(db, { now: clock() });
    const first = log.append(change(1));
    expect(first).toMatchObject({ seq: 1, ts: '2025-01-01T08:00:01.000Z', actor: 'alice', role: 'technician', reason: null, prevHash: GENESIS_HASH });
    const body = canonicalJson({
      seq: 1,
      ts: first.ts,
      actor: 'alice',
      role: 'technician',
      action: 'device:update',
      objectType: 'device',
      objectId: 'gw-1.pump-1',
      oldValue: '{"location":"ICU 1","n":1}',
      newValue: '{"location":"ICU 2","n":1}',
      reason: null,
    });
    expect(first.hash).toBe(sha256Hex(GENESIS_HASH + body));
    const cal = log.append({
      actor: 'bob',
      role: 'technician',
      action: 'calibration:create',
      objectType: 'calibration',
      objectId: 'cal-7',
      newValue: { asLeft: { flowError: 0.021 }, asFound: { flowError: 0.064 } },
      reason: ' annual PM ',
    });
    expect(cal).toMatchObject({
      seq: 2,
      prevHash: first.hash,
      reason: 'annual PM',
      oldValue: null,
      newValue: { asFound: { flowError: 0.064 }, asLeft: { flowError: 0.021 } },
    });
    log.append({ ...change(1), actor: 'carol', role: 'admin', action: 'device:delete', newValue: undefined });

    expect(log.list().items.map((e) => e.seq)).toEqual([3, 2, 1]);
    expect(log.list({ objectType: 'device', objectId: 'gw-1.pump-1' })).toMatchObject({ total: 2, items: [{ seq: 3 }, { seq: 1 }] });
    expect(log.list({ actor: 'bob' }).items.map((e) => e.action)).toEqual(['calibration:create']);
    expect(log.list({ from: '2025-01-01T08:00:02Z', to: new Date('2025-01-01T08:00:03Z') }).items.map((e) => e.seq)).toEqual([2]);
    expect(log.list({ from: Date.UTC(2025, 0, 1, 8, 0, 3) }).items.map((e) => e.seq)).toEqual([3]);
    expect(log.list({ limit: 1, offset: 1 })).toMatchObject({ total: 3, items: [{ seq: 2 }] });
    expect(() => log.list({ from: 'yesterday' })).toThrow('from: "yesterday" is not a time');
    expect(() => log.list({ limit: 0 })).toThrow('limit');
    expect(log.head()).toEqual({ seq: 3, hash: log.list({ limit: 1 }).items[0]!.hash });
    expect(describeVerifyResult(log.verify())).toMatch(/^audit trail intact: 3 entries, head 3 [0-9a-f]{64}$/);
  });

  it('requires a reason for calibration and alert actions, and appends nothing without one', () => {
    const { db } = freshDb();
    const log = new AuditLog(db);
    for (const action of ['calibration:create', 'calibration:update', 'alert:ack', 'alerts:ack']) {
      expect(() => log.append({ ...change(1), action })).toThrow(new AuditError(`reason is required for ${action}`));
      expect(() => log.append({ ...change(1), action, reason: '   ' })).toThrow(AuditError);
    }
    expect(() => log.append({ ...change(1), action: 'Device Update' })).toThrow('must look like type:verb');
    expect(() => log.append({ ...change(1), role: 'root' as 'admin' })).toThrow('is not a role');
    expect(() => log.append({ ...change(1), newValue: { rate: Number.NaN } })).toThrow('not a JSON number');
    expect(log.verify()).toMatchObject({ ok: true, entries: 0, head: { seq: 0, hash: GENESIS_HASH } });
    expect(log.append({ ...change(1), action: 'alert:ack', reason: 'occlusion cleared at bedside' }).seq).toBe(1);
  });

  it('commits with the caller’s transaction, or not at all', () => {
    const { db } = freshDb();
    const log = new AuditLog(db);
    db.exec('CREATE TABLE devices (id TEXT PRIMARY KEY, location TEXT)');
    const update = db.transaction((fail: boolean) => {
      db.prepare('INSERT INTO devices VALUES (?, ?)').run(`d-${fail}`, 'ICU');
      log.append(change(1));
      if (fail) throw new Error('change failed after the audit entry');
    });
    expect(() => update(true)).toThrow('change failed');
    expect(log.verify()).toMatchObject({ ok: true, entries: 0 });
    update(false);
    expect(log.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it('refuses UPDATE and DELETE in SQL, and migrateAudit can run again', () => {
    const { db } = freshDb();
    const log = new AuditLog(db);
    log.append(change(1));
    expect(() => db.exec("UPDATE audit SET actor = 'mallory'")).toThrow('append-only');
    expect(() => db.exec('DELETE FROM audit')).toThrow('append-only');
    expect(() => db.exec('DELETE FROM audit_head')).toThrow('cannot be deleted');
    expect(() => db.exec('UPDATE audit_head SET seq = 0')).toThrow('only moves forward');
    expect(() => db.prepare("INSERT INTO audit VALUES (5, 't', 'a', 'admin', 'x:y', 'o', 'i', NULL, NULL, NULL, 'p', 'h')").run()).toThrow('must follow');
    migrateAudit(db);
    expect(log.verify()).toMatchObject({ ok: true, entries: 1 });
  });
});

describe('audit verify detects tampering made with the triggers dropped', () => {
  it('an edited entry', () => {
    const { log, raw } = tamperable(5);
    raw.prepare('UPDATE audit SET new_value = ? WHERE seq = 3').run('{"location":"ICU 9","n":3}');
    expect(log.verify()).toMatchObject({ ok: false, entries: 2, firstBadSeq: 3, problem: expect.stringContaining('entry 3 does not match its hash') });
  });

  it('an edited entry whose hash was recomputed', () => {
    const { log, raw } = tamperable(5);
    raw.prepare("UPDATE audit SET reason = 'backdated', hash = ? WHERE seq = 3").run('f'.repeat(64));
    expect(log.verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('an inserted entry (later entries renumbered, the forged one correctly chained)', () => {
    const { log, raw } = tamperable(5);
    for (let seq = 5; seq >= 3; seq--) raw.prepare('UPDATE audit SET seq = seq + 1 WHERE seq = ?').run(seq);
    // The forger computes a valid hash for the new entry, chained to entry 2.
    const prev = raw.prepare<[], { hash: string }>('SELECT hash FROM audit WHERE seq = 2').get()!.hash;
    const forged = { seq: 3, ts: '2025-01-01T08:00:02.500Z', actor: 'alice', role: 'admin', action: 'device:update', objectType: 'device', objectId: 'x' };
    const hash = sha256Hex(prev + canonicalJson({ ...forged, oldValue: null, newValue: null, reason: null }));
    raw
      .prepare(
        'INSERT INTO audit (seq, ts, actor, role, action, object_type, object_id, prev_hash, hash) VALUES (@seq, @ts, @actor, @role, @action, @objectType, @objectId, @prev, @hash)',
      )
      .run({ ...forged, prev, hash });
    const result = log.verify();
    expect(result).toMatchObject({ ok: false, entries: 3, firstBadSeq: 4 });
  });

  it('an entry added after the chain head', () => {
    const { log, raw } = tamperable(3);
    raw.exec("INSERT INTO audit SELECT 4, ts, actor, role, action, object_type, object_id, old_value, new_value, reason, hash, 'x' FROM audit WHERE seq = 3");
    expect(log.verify()).toMatchObject({ ok: false, firstBadSeq: 4 });
  });

  it('a deleted entry in the middle', () => {
    const { log, raw } = tamperable(5);
    raw.exec('DELETE FROM audit WHERE seq = 3');
    expect(log.verify()).toMatchObject({ ok: false, entries: 2, firstBadSeq: 3, problem: 'entry 3 is missing: deleted' });
  });

  it('the last entry deleted, and the last two', () => {
    const one = tamperable(5);
    one.raw.exec('DELETE FROM audit WHERE seq = 5');
    expect(one.log.verify()).toMatchObject({
      ok: false,
      entries: 4,
      firstBadSeq: 5,
      problem: 'the log ends at entry 4 but the chain head is entry 5: entry 5 was deleted',
    });
    const two = tamperable(5);
    two.raw.exec('DELETE FROM audit WHERE seq >= 4');
    expect(two.log.verify()).toMatchObject({ ok: false, firstBadSeq: 4, problem: expect.stringContaining('entries 4-5 were deleted') });
    expect(describeVerifyResult(two.log.verify())).toMatch(/^audit trail NOT intact at entry 4: /);
  });

  it('every entry deleted, and the chain head deleted', () => {
    const all = tamperable(3);
    all.raw.exec('DELETE FROM audit');
    expect(all.log.verify()).toMatchObject({ ok: false, entries: 0, firstBadSeq: 1 });
    const head = tamperable(3);
    head.raw.exec('DELETE FROM audit_head');
    expect(head.log.verify()).toMatchObject({ ok: false, firstBadSeq: 4, problem: expect.stringContaining('chain head') });
  });

  it('two entries swapped', () => {
    const { log, raw } = tamperable(5);
    raw.exec('UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 100;');
    expect(log.verify()).toMatchObject({ ok: false, entries: 1, firstBadSeq: 2 });
  });

  it('an entry replaced by a different, correctly chained one at the end', () => {
    const { log, raw } = tamperable(3);
    const prev = raw.prepare<[], { prev_hash: string }>('SELECT prev_hash FROM audit WHERE seq = 3').get()!.prev_hash;
    const body = {
      seq: 3,
      ts: '2025-01-01T08:00:03.000Z',
      actor: 'alice',
      role: 'technician',
      action: 'device:update',
      objectType: 'device',
      objectId: 'gw-1.pump-3',
      oldValue: null,
      newValue: null,
      reason: null,
    };
    raw.prepare('UPDATE audit SET old_value = NULL, new_value = NULL, hash = ? WHERE seq = 3').run(sha256Hex(prev + canonicalJson(body)));
    expect(log.verify()).toMatchObject({ ok: false, entries: 2, firstBadSeq: 3, problem: expect.stringContaining('replaced') });
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every level and refuses what JSON cannot carry', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ t: new Date(0) })).toBe('{"t":"1970-01-01T00:00:00.000Z"}');
    expect(() => canonicalJson({ n: Number.POSITIVE_INFINITY })).toThrow('not a JSON number');
    expect(() => canonicalJson({ n: 1n })).toThrow('bigint');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow('cycle');
  });
});
