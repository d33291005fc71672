import { expect } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashSecret } from '@medtel/collector';
import { type PumpScenario, type PumpSimulator, startPumpSimulator } from '@medtel/simulators';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from '../helpers.js';

/**
 * Shared set-up for the store-and-forward tests: real collector and agent
 * processes (the compiled CLIs), pump simulators in the test process, real
 * SQLite files, and the counting done on the collector's own database.
 */

export const READINGS_PER_POLL = 12;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The simulators' seeded PRNG (mulberry32), so a failing run can be replayed with its seed. */
export { seededRandom } from '@medtel/simulators';

export interface PumpSpec {
  id: string;
  scenario?: PumpScenario;
}

export interface BenchOptions {
  gateway: string;
  site?: string;
  pumps: PumpSpec[];
  pollInterval: string;
  /** Extra lines under `collector:` in agent.yaml, e.g. `keepalive: 2s`. */
  collector?: Record<string, string | number>;
  outbox?: Record<string, string>;
  /** The agent's MQTT URL port (a proxy's); defaults to the collector's. */
  mqttPortForAgent?: number;
}

export interface OutboxStats {
  rows: number;
  bytes: number;
  oldestCreatedAt: number | null;
  /** `outbox stats --json` has it; /readyz may not. */
  byKind?: Record<string, number>;
}

/** One test's world: a temp dir with both configs, the processes, the simulators. */
export class Bench {
  private tmp: ReturnType<typeof tempDir> | undefined;
  /** Made on first use, so that a Bench whose tests are filtered out leaves nothing behind. */
  get dir(): ReturnType<typeof tempDir> {
    this.tmp ??= tempDir('medtel-saf-');
    return this.tmp;
  }
  readonly secret = 'saf-secret-0123456789abcdef';
  ports: { mqtt: number; http: number; agentHttp: number; modbus: number[] } = { mqtt: 0, http: 0, agentHttp: 0, modbus: [] };
  collector: Proc | undefined;
  agent: Proc | undefined;
  /** Every agent process started, for its output when a test fails. */
  readonly agentRuns: Proc[] = [];
  readonly collectorRuns: Proc[] = [];
  simulators: PumpSimulator[] = [];

  constructor(readonly o: BenchOptions) {}

  get agentConfig(): string {
    return join(this.dir.path, 'agent.yaml');
  }
  get stateDir(): string {
    return join(this.dir.path, 'agent-state');
  }
  get collectorDb(): string {
    return join(this.dir.path, 'collector', 'collector.db');
  }

  async init(): Promise<void> {
    this.ports = { mqtt: await freePort(), http: await freePort(), agentHttp: await freePort(), modbus: [] };
    for (const _ of this.o.pumps) this.ports.modbus.push(await freePort());
    writeFileSync(join(this.dir.path, 'gateway.secret'), `${this.secret}\n`);
    writeFileSync(
      join(this.dir.path, 'collector.yaml'),
      [
        `mqtt: { port: ${this.ports.mqtt}, plain: { enabled: true } }`,
        `http: { port: ${this.ports.http} }`,
        'store: { path: ./collector/collector.db }',
        'gateways:',
        `  - id: ${this.o.gateway}`,
        `    secretHash: "${await hashSecret(this.secret)}"`,
      ].join('\n'),
    );
    this.writeAgentConfig(this.o.mqttPortForAgent ?? this.ports.mqtt);
  }

  writeAgentConfig(mqttPort: number): void {
    const collector = {
      url: `"mqtt://127.0.0.1:${mqttPort}"`,
      secretFile: 'gateway.secret',
      reconnectMin: '200ms',
      reconnectMax: '1s',
      ...this.o.collector,
    };
    const inline = (o: Record<string, unknown>) =>
      `{ ${Object.entries(o)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} }`;
    writeFileSync(
      this.agentConfig,
      [
        `gateway: { id: ${this.o.gateway}, site: ${this.o.site ?? 'ward-9'} }`,
        `collector: ${inline(collector)}`,
        'stateDir: ./agent-state',
        `http: { port: ${this.ports.agentHttp} }`,
        ...(this.o.outbox ? [`outbox: ${inline(this.o.outbox)}`] : []),
        'devices:',
        ...this.o.pumps.flatMap((p, i) => [
          `  - id: ${p.id}`,
          '    profile: medtel-mt-lvp-100',
          `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${this.ports.modbus[i]}, unitId: 1 }`,
          `    pollInterval: ${this.o.pollInterval}`,
          '    timeout: 1s',
        ]),
      ].join('\n'),
    );
  }

  async startPumps(): Promise<void> {
    this.simulators = await Promise.all(
      this.o.pumps.map((p, i) =>
        startPumpSimulator({
          port: this.ports.modbus[i] as number,
          serial: `SAF-${String(i).padStart(4, '0')}`,
          rateMlPerH: 25 + i,
          vtbiMl: 9999,
          seed: 1000 + i,
          ...(p.scenario ? { scenario: p.scenario } : {}),
        }),
      ),
    );
  }

  async stopPumps(): Promise<void> {
    const sims = this.simulators;
    this.simulators = [];
    await Promise.all(sims.map((s) => s.close()));
  }

  async startCollector(): Promise<Proc> {
    mkdirSync(join(this.dir.path, 'collector'), { recursive: true });
    const p = startCli('collector', ['run', '--config', join(this.dir.path, 'collector.yaml')], this.dir.path);
    this.collector = p;
    this.collectorRuns.push(p);
    await p.waitForLine(/collector started/, 30_000);
    return p;
  }

  /** Starts the agent; `wait` false returns at once (to kill it during its start-up). */
  async startAgent(wait = true): Promise<Proc> {
    const p = startCli('agent', ['run', '--config', this.agentConfig], this.dir.path);
    this.agent = p;
    this.agentRuns.push(p);
    if (wait) await p.waitForLine(/agent started/, 30_000);
    return p;
  }

  /**
   * SIGTERM, and the exit code; throws if the agent has not exited within `timeoutMs`
   * (its own grace for in-flight PUBACKs is 2 s). It is then SIGKILLed by stopAll().
   */
  async stopAgent(timeoutMs = 10_000): Promise<number | null> {
    const agent = this.agent;
    if (!agent) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the agent did not exit within ${timeoutMs} ms of SIGTERM`)), timeoutMs);
    });
    try {
      return await Promise.race([agent.stop('SIGTERM'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async readyz(): Promise<OutboxStats> {
    const res = await getJson<{ outbox: OutboxStats }>(`http://127.0.0.1:${this.ports.agentHttp}/readyz`);
    if (typeof res.body.outbox !== 'object') throw new Error(`readyz: ${JSON.stringify(res.body)}`);
    return res.body.outbox;
  }

  async healthz(): Promise<{ uplink: string; devices: Array<{ id: string; status: string }> }> {
    return (await getJson<{ uplink: string; devices: Array<{ id: string; status: string }> }>(`http://127.0.0.1:${this.ports.agentHttp}/healthz`)).body;
  }

  async agentMetrics(): Promise<Metric[]> {
    const res = await fetch(`http://127.0.0.1:${this.ports.agentHttp}/metrics`);
    return parsePrometheus(await res.text());
  }

  /** Waits until the agent's outbox is empty (everything acknowledged); says what is left if it does not. */
  async waitDrained(timeoutMs = 60_000): Promise<void> {
    try {
      await waitFor(
        'the outbox to drain',
        async () => {
          const s = await this.readyz();
          return s.rows === 0 ? true : undefined;
        },
        timeoutMs,
        250,
      );
    } catch (err) {
      const left = this.outboxRows(20);
      const received = existsSync(this.collectorDb) ? inspectCollector(this.collectorDb, this.o.gateway) : undefined;
      throw new Error(
        `${(err as Error).message}; left in the outbox: ${JSON.stringify(left)}; ` +
          `collector has seq ${received?.minSeq}..${received?.maxSeq} (${received?.messages} messages), missing ${JSON.stringify(received?.missing)}`,
      );
    }
  }

  /** The first rows left in the agent's outbox (read-only), for diagnostics. */
  outboxRows(limit = 20): Array<{ seq: number; kind: string; device: string | null; createdAt: number }> {
    const db = new Database(join(this.stateDir, 'outbox.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT seq, kind, device, created_at AS createdAt FROM outbox ORDER BY seq LIMIT ?').all(limit) as never;
    } finally {
      db.close();
    }
  }

  private token: string | undefined;

  /** The collector's API with a viewer's bearer token (issued once, by `medtel-collector token issue`); throws unless 200. */
  async api<T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }> {
    if (!this.token) {
      const issued = startCli('collector', [
        'token',
        'issue',
        '--config',
        join(this.dir.path, 'collector.yaml'),
        '--sub',
        'saf-test',
        '--role',
        'viewer',
        '--ttl',
        '1h',
      ]);
      const code = await issued.exited();
      if (code !== 0) throw new Error(`token issue exited ${code}: ${issued.output()}`);
      this.token = issued.output().trim();
    }
    const res = await getJson<T>(`http://127.0.0.1:${this.ports.http}${path}`, this.token);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  }

  /** The agent's highest seq ever (sqlite_sequence), and rows left; read-only, safe while it runs. */
  agentOutbox(): { maxSeq: number; rows: number; byKind: Record<string, number> } {
    const db = new Database(join(this.stateDir, 'outbox.db'), { readonly: true, fileMustExist: true });
    try {
      const maxSeq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined)?.seq ?? 0;
      const kinds = db.prepare('SELECT kind, count(*) AS n FROM outbox GROUP BY kind').all() as Array<{ kind: string; n: number }>;
      return { maxSeq, rows: kinds.reduce((a, k) => a + k.n, 0), byKind: Object.fromEntries(kinds.map((k) => [k.kind, k.n])) };
    } finally {
      db.close();
    }
  }

  /** Agent first (its graceful stop talks to the collector), then the collector, then the pumps. */
  async stopAll(): Promise<void> {
    for (const p of this.agentRuns) await p.stop('SIGKILL').catch(() => undefined);
    for (const p of this.collectorRuns) await p.stop('SIGKILL').catch(() => undefined);
    await this.stopPumps().catch(() => undefined);
  }

  /**
   * The agent's view, for a failure message: is it connected, is it still getting PUBACKs
   * (medtel_agent_published_total sampled twice, a second apart), what waits in its outbox.
   */
  async diagnose(): Promise<string> {
    try {
      const published = async () => metricValue(await this.agentMetrics(), 'medtel_agent_published_total');
      const p1 = await published();
      await sleep(1000);
      const p2 = await published();
      const [health, outbox] = await Promise.all([this.healthz(), this.readyz()]);
      return `agent: uplink ${health.uplink}; medtel_agent_published_total ${p1} then ${p2} a second later; outbox ${JSON.stringify(outbox)}`;
    } catch (err) {
      return `agent: not answering (${(err as Error).message})`;
    }
  }

  /** Last lines of every process, to attach to a failure. */
  outputs(lines = 40): string {
    // MEDTEL_SAF_LOGS=<dir>: keep every process's whole output there, for a post-mortem.
    const keep = process.env.MEDTEL_SAF_LOGS;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const [i, p] of this.agentRuns.entries()) writeFileSync(join(keep, `${this.o.gateway}-agent-${i + 1}.log`), p.output());
      for (const [i, p] of this.collectorRuns.entries()) writeFileSync(join(keep, `${this.o.gateway}-collector-${i + 1}.log`), p.output());
    }
    const tail = (p: Proc) => p.output().split('\n').slice(-lines).join('\n');
    return [
      ...this.collectorRuns.map((p, i) => `--- collector run ${i + 1} ---\n${tail(p)}`),
      ...this.agentRuns.slice(-3).map((p, i) => `--- agent run (last ${3 - i}) ---\n${tail(p)}`),
    ].join('\n');
  }

  remove(): void {
    this.tmp?.remove();
  }
}

export interface Metric {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Metric[] {
  const out: Metric[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `where`. */
export function metricValue(metrics: Metric[], name: string, where: Record<string, string> = {}): number {
  return metrics.filter((m) => m.name === name && Object.entries(where).every(([k, v]) => m.labels[k] === v)).reduce((sum, m) => sum + m.value, 0);
}

export interface Delivery {
  /** Messages the collector accepted from the gateway. */
  messages: number;
  minSeq: number;
  maxSeq: number;
  /** Seqs in 1..maxSeq the collector never accepted (each one a lost message), first 20. */
  missing: number[];
  missingCount: number;
  byKind: Record<string, number>;
  readings: number;
  readingsByDevice: Record<string, number>;
  /** Data messages whose readings are not exactly 12 (seq and count), first 20. */
  incomplete: Array<{ seq: number; n: number }>;
  /** Readings stored twice: same series and time. */
  duplicateReadings: number;
  /** Readings stored (rowid order) before an older reading of the same series: first 20. */
  outOfOrder: Array<{ device: string; metric: string; rowid: number; t: number; prevT: number }>;
  outOfOrderCount: number;
}

/**
 * Everything the collector stored for a gateway, counted on its own SQLite
 * file (opened read-only: safe while the collector runs, WAL readers do not block it).
 */
export function inspectCollector(dbFile: string, gateway: string, readingsPerMessage = READINGS_PER_POLL): Delivery {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const prefix = `${gateway}.`;
    const seqRange = db.prepare('SELECT count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM received WHERE gateway = ?').get(gateway) as {
      n: number;
      lo: number | null;
      hi: number | null;
    };
    const maxSeq = seqRange.hi ?? 0;
    // Holes in 1..max: a recursive CTE over the range, anti-joined with what arrived.
    const missingRows = db
      .prepare(
        `WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ?)
         SELECT x FROM s WHERE NOT EXISTS (SELECT 1 FROM received r WHERE r.gateway = ? AND r.seq = s.x) ORDER BY x`,
      )
      .all(maxSeq, gateway) as Array<{ x: number }>;
    const byKind = Object.fromEntries(
      (db.prepare('SELECT kind, count(*) AS n FROM received WHERE gateway = ? GROUP BY kind').all(gateway) as Array<{ kind: string; n: number }>).map((r) => [
        r.kind,
        r.n,
      ]),
    );
    const perDevice = db
      .prepare(
        `SELECT s.device_id AS device, count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id
         WHERE substr(s.device_id, 1, ?) = ? GROUP BY s.device_id`,
      )
      .all(prefix.length, prefix) as Array<{ device: string; n: number }>;
    const incomplete = db
      .prepare(
        `SELECT rc.seq AS seq, coalesce(x.n, 0) AS n FROM received rc
         LEFT JOIN (SELECT r.seq, count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id
                    WHERE substr(s.device_id, 1, ?) = ? GROUP BY r.seq) x ON x.seq = rc.seq
         WHERE rc.gateway = ? AND rc.kind = 'data' AND coalesce(x.n, 0) != ? ORDER BY rc.seq`,
      )
      .all(prefix.length, prefix, gateway, readingsPerMessage) as Array<{ seq: number; n: number }>;
    const duplicateReadings = (
      db
        .prepare(
          `SELECT coalesce(sum(n - 1), 0) AS d FROM (SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id
           WHERE substr(s.device_id, 1, ?) = ? GROUP BY r.series_id, r.t HAVING n > 1)`,
        )
        .get(prefix.length, prefix) as { d: number }
    ).d;
    const outOfOrderSql = `SELECT s.device_id AS device, s.metric AS metric, o.rid AS rowid, o.t AS t, o.prevT AS prevT
       FROM (SELECT rowid AS rid, series_id, t, max(t) OVER (PARTITION BY series_id ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prevT
             FROM readings) o JOIN series s ON s.id = o.series_id
       WHERE substr(s.device_id, 1, ?) = ? AND o.t < o.prevT`;
    const outOfOrderCount = (db.prepare(`SELECT count(*) AS n FROM (${outOfOrderSql})`).get(prefix.length, prefix) as { n: number }).n;
    const outOfOrder = db.prepare(`${outOfOrderSql} ORDER BY o.rid LIMIT 20`).all(prefix.length, prefix) as Delivery['outOfOrder'];
    return {
      messages: seqRange.n,
      minSeq: seqRange.lo ?? 0,
      maxSeq,
      missing: missingRows.slice(0, 20).map((r) => r.x),
      missingCount: missingRows.length,
      byKind,
      readings: perDevice.reduce((a, r) => a + r.n, 0),
      readingsByDevice: Object.fromEntries(perDevice.map((r) => [r.device, r.n])),
      incomplete: incomplete.slice(0, 20),
      duplicateReadings,
      outOfOrder,
      outOfOrderCount,
    };
  } finally {
    db.close();
  }
}

/** Readings stored so far for the gateway (cheap enough to poll). */
export function countReadings(dbFile: string): number {
  if (!existsSync(dbFile)) return 0;
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;
  } catch {
    return 0; // not migrated yet
  } finally {
    db.close();
  }
}

export { freePort, getJson, waitFor };

/**
 * The delivery promise, counted on the collector's store: every seq the agent
 * gave out (1..its last) stored exactly once, each data message whole, no
 * reading twice, and per device and metric in time order; the outbox empty.
 */
export function expectExactlyOnceInOrder(got: ReturnType<typeof inspectCollector>, outbox: { rows: number; maxSeq: number }): void {
  expect(outbox.rows).toBe(0);
  expect({ missing: got.missing, missingCount: got.missingCount }).toEqual({ missing: [], missingCount: 0 });
  expect(got.minSeq).toBe(1);
  expect(got.maxSeq).toBe(outbox.maxSeq);
  expect(got.messages).toBe(got.maxSeq);
  expect(got.incomplete).toEqual([]);
  expect(got.duplicateReadings).toBe(0);
  expect({ outOfOrder: got.outOfOrder, count: got.outOfOrderCount }).toEqual({ outOfOrder: [], count: 0 });
}
