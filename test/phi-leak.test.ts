import { copyFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';
import { type Stack, startStack } from './stack.js';

/**
 * The leak canary (docs/phi.md): three simulated devices carry canary patients
 * whose MRN, name, DOB and bed are unique strings; after their readings and
 * sealed records have reached the collector, every byte the system wrote or
 * sent is searched for them, in plain and in the common encodings: the
 * agent's outbox files (with WAL), every MQTT byte the agent sent or
 * received, the collector's database files, and all log output. None found.
 */
const CANARIES = {
  pump: { mrn: 'CNRYPUMP4711', name: 'QXPUMPFAMILY^ZQGIVENA', dob: '1911-11-11', sex: 'F', bed: 'BEDCNRY-P1' },
  vent: { mrn: 'CNRYVENT4712', name: 'QXVENTFAMILY^ZQGIVENB', dob: '1922-02-22', sex: 'M', bed: 'BEDCNRY-V1' },
  ecg: { mrn: 'CNRYECG04713', name: 'QXECGFAMILY^ZQGIVENC', dob: '1933-03-13', sex: 'F', bed: 'BEDCNRY-E1' },
} as const;
const spec = (p: (typeof CANARIES)[keyof typeof CANARIES]) => `mrn=${p.mrn},name=${p.name},dob=${p.dob},sex=${p.sex},bed=${p.bed}`;

/** A TCP relay that keeps a copy of every byte in both directions (the captured MQTT traffic). */
async function recordingProxy(target: number): Promise<{ port: number; bytes(): Buffer; close(): Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (b) => {
      chunks.push(Buffer.from(b));
      upstream.write(b);
    });
    upstream.on('data', (b) => {
      chunks.push(Buffer.from(b));
      client.write(b);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    port,
    bytes: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Base64 of `text` as it would appear at any byte offset inside a longer base64 stream. */
function base64Forms(text: string, url = false): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const n = Buffer.byteLength(text);
    let b64 = Buffer.concat([Buffer.alloc(k), Buffer.from(text)]).toString('base64');
    if (url) b64 = b64.replaceAll('+', '-').replaceAll('/', '_');
    out.push(b64.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + n)) / 6)));
  }
  return out;
}

/** The canary strings in every form a careless path could write them in. */
function needles(text: string): Array<{ form: string; bytes: Buffer }> {
  const utf8 = Buffer.from(text);
  return [
    { form: 'plain', bytes: utf8 },
    { form: 'utf-16le', bytes: Buffer.from(text, 'utf16le') },
    { form: 'hex', bytes: Buffer.from(utf8.toString('hex')) },
    { form: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase()) },
    ...base64Forms(text).map((b) => ({ form: 'base64', bytes: Buffer.from(b) })),
    ...base64Forms(text, true).map((b) => ({ form: 'base64url', bytes: Buffer.from(b) })),
    // As Modbus registers carry it (two characters per register, big-endian) = plain; JSON-escaped "^" is plain too.
    { form: 'json-unicode-escaped', bytes: Buffer.from(text.replaceAll('^', '\\u005e')) },
  ];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const dir = tempDir('medtel-phi-leak-');
let stack: Stack;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
/** Between agent and pump: the device side, where the patient fields are plain (the positive control). */
let deviceLeg: Awaited<ReturnType<typeof recordingProxy>>;
const tokens: Record<string, string> = {};

async function api<T>(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const url = `http://127.0.0.1:${stack.ports.http}/api/v1${path}`;
  if (method === 'GET') return getJson<T>(url, token);
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

type Span = { subject: string; device: string; readings: number; envelopeId: number | null };

beforeAll(async () => {
  const ports = { modbus: await freePort(), vent: await freePort(), ecg: await freePort() };
  const keys = startCli('agent', ['keys', 'init', '--keyring', join(dir.path, 'keyring.json')]);
  expect(await keys.exited()).toBe(0);
  // The collector gets a copy: the model where the hospital runs the collector and lets clinicians open through it.
  copyFileSync(join(dir.path, 'keyring.json'), join(dir.path, 'collector-keyring.json'));
  deviceLeg = await recordingProxy(ports.modbus);
  stack = await startStack({
    dir,
    gateway: 'gw-phi',
    site: 'icu',
    collector: { auth: { keyFile: './collector/token.key' }, phi: { keyring: './collector-keyring.json' }, log: { level: 'debug' } },
    agent: { phi: { keyring: 'keyring.json' }, log: { level: 'debug' } },
    mqttRelay: async (mqttPort) => {
      proxy = await recordingProxy(mqttPort);
      return proxy.port;
    },
    simulators: [
      ['pump', '--modbus-tcp', `127.0.0.1:${ports.modbus}`, '--seed', '1', '--patient', spec(CANARIES.pump)],
      ['ventilator', '--tcp', `127.0.0.1:${ports.vent}`, '--seed', '2', '--patient', spec(CANARIES.vent)],
      ['ecg', '--tcp', `127.0.0.1:${ports.ecg}`, '--leads', '3', '--rate', '250', '--patient', spec(CANARIES.ecg)],
    ],
    devices: [
      {
        id: 'pump-1',
        profile: 'medtel-mt-lvp-100',
        connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: deviceLeg.port, unitId: 1 },
        pollInterval: '250ms',
      },
      { id: 'vent-1', profile: 'medtel-mt-vent-500', connection: { protocol: 'medibus', path: `tcp://127.0.0.1:${ports.vent}` }, pollInterval: '500ms' },
      { id: 'ecg-1', profile: 'medtel-mt-ecg-12', connection: { protocol: 'medtel-ecg', path: `tcp://127.0.0.1:${ports.ecg}` } },
    ],
  });

  tokens['viewer'] = await stack.tokenFor('viewer', 'vera.viewer');
  tokens['technician'] = await stack.tokenFor('technician', 'tom.tech');
  tokens['clinician'] = await stack.tokenFor('clinician', 'dr.cleo');
  tokens['admin'] = await stack.tokenFor('admin', 'ada.admin');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await deviceLeg?.close();
  dir.remove(); // again, in case the stack never started
});

const DEVICES = ['pump-1', 'vent-1', 'ecg-1'] as const;
const CANARY_OF = { 'pump-1': CANARIES.pump, 'vent-1': CANARIES.vent, 'ecg-1': CANARIES.ecg } as const;

async function spansOf(device: string): Promise<Span[]> {
  const res = await api<{ items: Span[] }>('GET', `/subjects?device=gw-phi.${device}`, tokens['viewer'] as string);
  return res.status === 200 ? res.body.items : [];
}

describe('PHI end to end: sealed on the gateway, pseudonymous in the collector, opened only on the record', () => {
  it('every device reaches the collector with a pseudonymous subject and a sealed record', async () => {
    for (const device of DEVICES) {
      const span = await waitFor(
        `${device}: a subject span with readings and an envelope`,
        async () => {
          const [s] = await spansOf(device);
          return s && s.readings > 0 && s.envelopeId ? s : undefined;
        },
        30_000,
      );
      expect(span.subject).toMatch(/^ps_[A-Za-z0-9_-]{43}$/);
    }
    const subjects = new Set<string>();
    for (const device of DEVICES) subjects.add(((await spansOf(device))[0] as Span).subject);
    expect(subjects.size).toBe(3); // three patients, three pseudonyms
    // The patient fields never became readings or birth metrics.
    const telemetry = await api<{ readings: Array<{ metric: string }> }>('GET', '/devices/gw-phi.pump-1/telemetry?limit=500', tokens['viewer'] as string);
    expect(telemetry.status).toBe(200);
    expect(telemetry.body.readings.length).toBeGreaterThan(0);
    expect(telemetry.body.readings.some((r) => r.metric.startsWith('patient_'))).toBe(false);
  });

  it('opening: clinician only, reason required, and every open is audited', async () => {
    const [span] = await spansOf('pump-1');
    const envelopeId = (span as Span).envelopeId as number;
    expect((await api('POST', '/phi/open', tokens['technician'] as string, { envelopeId, reason: 'curious' })).status).toBe(403);
    expect((await api('POST', '/phi/open', tokens['clinician'] as string, { envelopeId })).status).toBe(400);
    expect((await api('POST', '/phi/open', tokens['clinician'] as string, { envelopeId, reason: '' })).status).toBe(400);
    expect((await api('POST', '/phi/open', tokens['clinician'] as string, { envelopeId: 999_999, reason: 'check' })).status).toBe(404);

    for (const device of DEVICES) {
      const [s] = await spansOf(device);
      const opened = await api<{ patient: Record<string, string>; subject: string; device: string }>('POST', '/phi/open', tokens['clinician'] as string, {
        envelopeId: (s as Span).envelopeId,
        reason: 'reconcile infusion record with the chart',
      });
      expect(opened.status).toBe(200);
      expect(opened.body.patient).toEqual(CANARY_OF[device]);
      expect(opened.body.subject).toBe((s as Span).subject);
    }

    const audit = await api<{
      items: Array<{ actor: string; role: string; action: string; objectId: string; reason: string; newValue: Record<string, unknown> }>;
    }>('GET', '/audit?action=phi:open&limit=100', tokens['admin'] as string);
    expect(audit.status).toBe(200);
    const entry = audit.body.items.find((e) => e.objectId === String(envelopeId));
    expect(entry).toMatchObject({ actor: 'dr.cleo', role: 'clinician', action: 'phi:open', reason: 'reconcile infusion record with the chart' });
    expect(entry?.newValue).toMatchObject({ device: 'gw-phi.pump-1', subject: (span as Span).subject, outcome: 'opened' });
    expect(audit.body.items.filter((e) => e.action === 'phi:open')).toHaveLength(3);
  });

  it('medtel-collector phi open (integration engines) opens with the keyring it holds, audited', async () => {
    const p = startCli('collector', [
      'phi',
      'open',
      '--config',
      join(dir.path, 'collector.yaml'),
      '--keyring',
      join(dir.path, 'keyring.json'),
      '--device',
      'gw-phi.vent-1',
      '--reason',
      'ADT reconciliation',
      '--actor',
      'hl7-engine',
    ]);
    expect(await p.exited()).toBe(0);
    expect(JSON.parse(p.output()).patient).toEqual(CANARIES.vent);
    const audit = await api<{ items: Array<{ actor: string; reason: string }> }>('GET', '/audit?action=phi:open&limit=100', tokens['admin'] as string);
    expect(audit.body.items.some((e) => e.actor.startsWith('cli:hl7-engine') && e.reason === 'ADT reconciliation')).toBe(true);
  });

  it('leak canary: no MRN, name, DOB or bed in any file, packet or log line, in any common encoding', async () => {
    // Let more data flow after the opens, so the API's answers had every chance to reach a log.
    await waitFor('more sealed traffic', () => proxy.bytes().length > 50_000 || undefined, 20_000);
    const { agent, collector, simulators: sims } = stack;
    const before = { agent: agent.output(), collector: collector.output() };
    // Stop the agent and collector so their last writes (WAL, logs) are in.
    await agent.stop();
    await collector.stop();

    const haystacks: Array<{ where: string; bytes: Buffer }> = [
      ...filesUnder(join(dir.path, 'agent-state')).map((f) => ({ where: f, bytes: readFileSync(f) })),
      ...filesUnder(join(dir.path, 'collector')).map((f) => ({ where: f, bytes: readFileSync(f) })),
      { where: 'MQTT traffic (both directions)', bytes: proxy.bytes() },
      { where: 'agent log', bytes: Buffer.from(agent.output() + before.agent) },
      { where: 'collector log', bytes: Buffer.from(collector.output() + before.collector) },
      // The simulators are the devices (they hold the patients) but they log no patient field either.
      ...sims.map((s, i) => ({ where: `simulator ${i} log`, bytes: Buffer.from(s.output()) })),
    ];
    // The checks must have something to check: the outbox and the store hold data, the traffic is real.
    expect(haystacks.some((h) => h.where.endsWith('outbox.db'))).toBe(true);
    expect(haystacks.some((h) => h.where.endsWith('collector.db') && statSync(h.where).size > 10_000)).toBe(true);
    expect(proxy.bytes().length).toBeGreaterThan(50_000);
    expect(proxy.bytes().includes(Buffer.from('"phi":{"v":1,"kid":"k'))).toBe(true);

    // Positive control: the same search finds the pump's canary on the device leg (Modbus registers, plain ASCII),
    // and in base64 inside a JSON document, so a miss above is not a blind search.
    const control = needles(CANARIES.pump.mrn);
    expect(control.some((n) => deviceLeg.bytes().includes(n.bytes))).toBe(true);
    const careless = Buffer.from(JSON.stringify({ phi: Buffer.from(JSON.stringify({ x: 1, mrn: CANARIES.pump.mrn })).toString('base64') }));
    expect(control.filter((n) => n.form === 'base64').some((n) => careless.includes(n.bytes))).toBe(true);

    const found: string[] = [];
    for (const patient of Object.values(CANARIES)) {
      for (const value of [patient.mrn, patient.name, patient.dob, patient.bed, patient.name.split('^')[0] as string]) {
        for (const n of needles(value)) {
          for (const h of haystacks) if (h.bytes.includes(n.bytes)) found.push(`${value} (${n.form}) in ${h.where}`);
        }
      }
    }
    expect(found).toEqual([]);
  });
});
