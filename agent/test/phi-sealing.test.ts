import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, initKeyring, Keyring, KeyringError, rotateKeyring, type SealedEnvelope } from '@medtel/shared';
import { startPumpSimulator, syntheticPatient } from '@medtel/simulators';
import { Agent, loadAgentConfig } from '../dist/index.js';
import { freePort, tempDir, waitFor } from '../../test/helpers.js';

/**
 * The agent seals what profiles mark `phi:`: per association one envelope
 * bound to (gateway, device, seq), a pseudonymous subject on every data
 * message, nothing plain in the outbox or the log. Without a keyring the
 * patient fields are dropped, never sent.
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: { keyring: boolean; staySeconds?: number }) {
  const dir = tempDir('medtel-phi-agent-');
  cleanups.push(() => dir.remove());
  const sim = await startPumpSimulator({
    port: await freePort(),
    seed: 1,
    patient: { seed: 9, ...(options.staySeconds ? { staySeconds: options.staySeconds } : {}) },
  });
  cleanups.push(() => sim.close());
  const keyringFile = join(dir.path, 'keyring.json');
  if (options.keyring) initKeyring(keyringFile);
  writeFileSync(join(dir.path, 'gateway.secret'), 'unused-secret-0123456789\n');
  const configFile = join(dir.path, 'agent.yaml');
  writeFileSync(
    configFile,
    [
      'gateway: { id: gw-a, site: ward }',
      // Nobody listens there: everything stays in the outbox, where the test reads it.
      `collector: { url: "mqtt://127.0.0.1:${await freePort()}", secretFile: gateway.secret, reconnectMin: 5s, reconnectMax: 5s }`,
      'stateDir: ./state',
      'http: { enabled: false }',
      ...(options.keyring ? ['phi: { keyring: keyring.json }'] : []),
      'devices:',
      '  - id: pump-1',
      '    profile: medtel-mt-lvp-100',
      `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${sim.port} }`,
      '    pollInterval: 200ms',
    ].join('\n'),
  );
  let log = '';
  const destination = new Writable({
    write(chunk, _e, cb) {
      log += chunk.toString();
      cb();
    },
  });
  return { dir, configFile, keyringFile, sim, log: () => log, logger: createLogger({ name: 'agent', level: 'debug', destination }) };
}

type Row = { seq: number; body: string };
function dataRows(stateDir: string): Array<{ seq: number; body: { subject?: string; phi?: SealedEnvelope; readings: Array<{ metric: string }> } }> {
  const db = new Database(join(stateDir, 'outbox.db'), { readonly: true });
  try {
    return (db.prepare("SELECT seq, body FROM outbox WHERE kind = 'data' ORDER BY seq").all() as Row[]).map((r) => ({ seq: r.seq, body: JSON.parse(r.body) }));
  } finally {
    db.close();
  }
}

describe('agent: PHI sealing', () => {
  it('seals each association once, bound to its seq; every data message carries the pseudonym; discharge and admit switch it', async () => {
    const s = await setup({ keyring: true, staySeconds: 3 });
    const agent = new Agent({ config: loadAgentConfig(s.configFile), configFile: s.configFile, logger: s.logger });
    await agent.start();
    cleanups.push(() => agent.stop());
    const state = join(s.dir.path, 'state');
    const ring = Keyring.load(s.keyringFile, { countUsage: false });
    const rows = await waitFor(
      'two admissions sealed',
      () => {
        const r = dataRows(state);
        return r.filter((x) => x.body.phi).length >= 2 ? r : undefined;
      },
      20_000,
    );
    const sealed = rows.filter((r) => r.body.phi);
    const patients = sealed.map((r) => ring.open(r.body.phi as SealedEnvelope, { gateway: 'gw-a', device: 'pump-1', seq: r.seq }));
    expect(patients[0]).toEqual(syntheticPatient(9, 0));
    expect(patients[1]).toEqual(syntheticPatient(9, 1));
    // Bound to its own seq: the same envelope does not open as another message's.
    expect(() => ring.open(sealed[0]?.body.phi as SealedEnvelope, { gateway: 'gw-a', device: 'pump-1', seq: (sealed[0]?.seq as number) + 1 })).toThrow(
      /authentication/,
    );
    // Subjects: patient 0's pseudonym, then none while the bed is empty, then patient 1's.
    const subjects = rows.map((r) => r.body.subject ?? null);
    const first = ring.subject(syntheticPatient(9, 0).mrn);
    const second = ring.subject(syntheticPatient(9, 1).mrn);
    expect(subjects[0]).toBe(first);
    expect(subjects).toContain(null);
    expect(subjects.indexOf(second)).toBeGreaterThan(subjects.lastIndexOf(first));
    // Patient fields are never readings.
    expect(rows.every((r) => r.body.readings.every((x) => !x.metric.startsWith('patient_')))).toBe(true);
    await agent.stop();
    cleanups.pop();

    const files = ['outbox.db', 'outbox.db-wal'].map((f) => {
      try {
        return readFileSync(join(state, f));
      } catch {
        return Buffer.alloc(0);
      }
    });
    for (const p of [syntheticPatient(9, 0), syntheticPatient(9, 1)]) {
      for (const value of [p.mrn, p.name, p.dob, p.bed]) {
        for (const f of files) expect(f.includes(Buffer.from(value)), value).toBe(false);
        expect(s.log()).not.toContain(value);
      }
    }
    expect(s.log()).toContain('patient association changed');
  });

  it('without a keyring, patient fields are dropped with one warning; nothing sealed, no pseudonym', async () => {
    const s = await setup({ keyring: false });
    const agent = new Agent({ config: loadAgentConfig(s.configFile), configFile: s.configFile, logger: s.logger });
    await agent.start();
    cleanups.push(() => agent.stop());
    const rows = await waitFor('data in the outbox', () => {
      const r = dataRows(join(s.dir.path, 'state'));
      return r.length >= 3 ? r : undefined;
    });
    expect(rows.some((r) => r.body.phi || r.body.subject)).toBe(false);
    expect(s.log().match(/no PHI keyring is configured/g)).toHaveLength(1);
    expect(s.log()).not.toContain(syntheticPatient(9, 0).mrn);
  });

  it('after keys rotate and a restart, new records carry the new kid and the old ones still open', async () => {
    const s = await setup({ keyring: true });
    const state = join(s.dir.path, 'state');
    const start = async () => {
      const agent = new Agent({ config: loadAgentConfig(s.configFile), configFile: s.configFile, logger: s.logger });
      await agent.start();
      return agent;
    };
    const sealedRows = () => dataRows(state).filter((r) => r.body.phi);
    let agent = await start();
    const [old] = await waitFor('a sealed record', () => (sealedRows().length > 0 ? sealedRows() : undefined));
    await agent.stop();
    const { previous, active } = rotateKeyring(s.keyringFile);
    agent = await start();
    cleanups.push(() => agent.stop());
    const fresh = await waitFor('a record sealed after the rotation', () => sealedRows().find((r) => r.body.phi?.kid === active));
    expect(old?.body.phi?.kid).toBe(previous);
    const ring = Keyring.load(s.keyringFile, { countUsage: false });
    for (const r of [old, fresh])
      expect(ring.open(r?.body.phi as SealedEnvelope, { gateway: 'gw-a', device: 'pump-1', seq: r?.seq as number })).toEqual(syntheticPatient(9, 0));
    expect(ring.list().find((k) => k.kid === active)?.sealed).toBeGreaterThan(0);
  });

  it('refuses a keyring others can read, saying how to fix it', async () => {
    const s = await setup({ keyring: true });
    chmodSync(s.keyringFile, 0o640);
    expect(() => new Agent({ config: loadAgentConfig(s.configFile), configFile: s.configFile, logger: s.logger })).toThrow(KeyringError);
    expect(() => new Agent({ config: loadAgentConfig(s.configFile), configFile: s.configFile, logger: s.logger })).toThrow(/chmod 600/);
  });
});
