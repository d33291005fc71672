import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initKeyring, Keyring, rotateKeyring } from '@medtel/shared';
import { connectGateway, publishAcked, reading, SECRETS, startTestCollector } from './collector-fixture.js';

/**
 * Opening sealed patient records through the API: clinician only, reason
 * required, every attempt audited; tampered, moved and unknown-key envelopes
 * fail with a typed, counted error and never a partial record.
 */
type Collector = Awaited<ReturnType<typeof startTestCollector>>;
let collector: Collector;
let client: MqttClient;
let keyringFile: string;
const tokens: Record<string, string> = {};
const patient = { mrn: 'MRN-OPEN-1', name: 'DOE^JANE', dob: '1970-01-01', sex: 'F', bed: 'ICU1-01' };
let seq = 100;

async function publishSealed(ring: Keyring, mutate: (body: Record<string, unknown>, seq: number) => void = () => {}): Promise<number> {
  seq += 1;
  const phi = ring.seal(patient, { gateway: 'gw-1', device: 'pump-1', seq });
  const body: Record<string, unknown> = {
    v: 1,
    seq,
    sentAt: Date.now(),
    device: 'pump-1',
    clock: 'agent',
    readings: [reading(seq * 1000, 125)],
    subject: ring.subject(patient.mrn),
    phi,
  };
  mutate(body, seq);
  await publishAcked(client, 'medtel/v1/bench/gw-1/dev/pump-1/data', JSON.stringify(body));
  return seq;
}

async function api(method: string, path: string, role: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${collector.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[role]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The newest envelope's id (envelopes are numbered in arrival order). */
async function newestEnvelope(): Promise<number> {
  const res = await api('GET', '/subjects?device=gw-1.pump-1', 'viewer');
  return (res.body['items'] as Array<{ envelopeId: number }>)[0]?.envelopeId as number;
}

beforeAll(async () => {
  collector = await startTestCollector({
    configure: (config) => {
      keyringFile = join(config.store.path, '..', 'keyring.json');
      initKeyring(keyringFile);
      config.phi.keyring = keyringFile;
    },
  });
  for (const role of ['viewer', 'technician', 'clinician', 'admin']) tokens[role] = await collector.token(role as 'viewer');
  client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
});
afterAll(async () => {
  client?.end(true);
  await collector?.close();
});

describe('POST /api/v1/phi/open', () => {
  it('groups readings under the pseudonym and opens the record for a clinician with a reason, on the record', async () => {
    const ring = Keyring.load(keyringFile);
    await publishSealed(ring);
    await publishSealed(ring, (b) => delete b['phi']); // a later message: the subject only
    const spans = await api('GET', '/subjects?device=gw-1.pump-1', 'viewer');
    expect(spans.status).toBe(200);
    const [span] = spans.body['items'] as Array<{ subject: string; readings: number; envelopeId: number }>;
    expect(span).toMatchObject({ subject: ring.subject(patient.mrn), readings: 2 });

    expect((await api('POST', '/phi/open', 'technician', { envelopeId: span?.envelopeId, reason: 'x' })).status).toBe(403);
    const noReason = await api('POST', '/phi/open', 'clinician', { envelopeId: span?.envelopeId });
    expect(noReason.status).toBe(400);
    expect(noReason.body['parameter']).toBe('reason');
    const opened = await api('POST', '/phi/open', 'clinician', { envelopeId: span?.envelopeId, reason: 'medication reconciliation' });
    expect(opened.status).toBe(200);
    expect(opened.body['patient']).toEqual(patient);

    const audit = await api('GET', `/audit?action=phi:open&objectId=${span?.envelopeId}`, 'admin');
    const items = audit.body['items'] as Array<Record<string, unknown>>;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ actor: 'test-clinician', role: 'clinician', reason: 'medication reconciliation' });
    expect(items[0]?.['newValue']).toMatchObject({ device: 'gw-1.pump-1', subject: span?.subject, outcome: 'opened' });
    // The audit entry says who, what and why; it never repeats the identity.
    expect(JSON.stringify(items)).not.toContain(patient.mrn);
  });

  it.each([
    ['a flipped ciphertext bit', 'auth_failed', (b: Record<string, unknown>) => flip(b, 'ct')],
    ['a flipped tag bit', 'auth_failed', (b: Record<string, unknown>) => flip(b, 'ct', -1)],
    ['a flipped IV bit', 'auth_failed', (b: Record<string, unknown>) => flip(b, 'iv')],
    ['an envelope moved to another seq', 'auth_failed', (b: Record<string, unknown>) => moveTo(b)],
  ])('%s: 422 %s, counted and audited as failed, no record', async (_what, code, mutate) => {
    await publishSealed(Keyring.load(keyringFile), mutate);
    const id = await newestEnvelope();
    const res = await api('POST', '/phi/open', 'clinician', { envelopeId: id, reason: 'tamper check' });
    expect(res.status).toBe(422);
    expect(res.body['error']).toBe(code);
    expect(res.body).not.toHaveProperty('patient');
    const audit = await api('GET', `/audit?action=phi:open&objectId=${id}`, 'admin');
    expect((audit.body['items'] as Array<{ newValue: Record<string, unknown> }>)[0]?.newValue).toMatchObject({ outcome: 'failed', error: code });
  });

  it('an unknown key id: 422 naming the kid', async () => {
    await publishSealed(Keyring.load(keyringFile), (b) => {
      (b['phi'] as { kid: string }).kid = 'k20000101-abcdef';
    });
    const res = await api('POST', '/phi/open', 'clinician', { envelopeId: await newestEnvelope(), reason: 'kid check' });
    expect(res.status).toBe(422);
    expect(res.body['error']).toBe('unknown_kid');
    expect(res.body['message']).toContain('k20000101-abcdef');
  });

  it('failures are counted by kind in medtel_phi_open_total', async () => {
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/medtel_phi_open_total\{outcome="auth_failed"[^}]*\} 4\n/);
    expect(metrics).toMatch(/medtel_phi_open_total\{outcome="unknown_kid"[^}]*\} 1\n/);
    expect(metrics).toMatch(/medtel_phi_open_total\{outcome="opened"[^}]*\} 1\n/);
  });

  it('after a rotation, records sealed with the old key still open, and new ones carry the new kid', async () => {
    const old = await publishSealed(Keyring.load(keyringFile));
    const oldId = await newestEnvelope();
    const { previous, active } = rotateKeyring(keyringFile);
    // The collector's keyring is re-read at start: restart it on the same store.
    await collector.stop();
    collector = await startTestCollector({
      dir: collector.dir,
      configure: (config) => {
        config.phi.keyring = keyringFile;
      },
    });
    for (const role of ['viewer', 'clinician']) tokens[role] = await collector.token(role as 'viewer');
    client.end(true);
    client = await connectGateway(collector.mqttPort, 'gw-1', SECRETS['gw-1']);
    await publishSealed(Keyring.load(keyringFile));
    const newId = await newestEnvelope();
    expect(newId).not.toBe(oldId);
    const a = await api('POST', '/phi/open', 'clinician', { envelopeId: oldId, reason: 'after rotation' });
    const b = await api('POST', '/phi/open', 'clinician', { envelopeId: newId, reason: 'after rotation' });
    expect([a.status, a.body['kid'], a.body['patient']]).toEqual([200, previous, patient]);
    expect([b.status, b.body['kid'], b.body['patient']]).toEqual([200, active, patient]);
    expect(old).toBeGreaterThan(0);
  });

  it('a collector without a keyring stores envelopes but cannot open them: 409 saying where opening happens', async () => {
    const bare = await startTestCollector();
    try {
      const token = await bare.token('clinician');
      const res = await fetch(`${bare.httpUrl}/api/v1/phi/open`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ envelopeId: 1, reason: 'x' }),
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { message: string }).message).toMatch(/medtel-collector phi open/);
    } finally {
      await bare.close();
    }
  });
});

function flip(body: Record<string, unknown>, field: 'ct' | 'iv', bit = 0): void {
  const env = body['phi'] as Record<string, string>;
  const buf = Buffer.from(env[field] as string, 'base64');
  const index = bit < 0 ? buf.length - 1 : 0;
  buf[index] = (buf[index] as number) ^ 1;
  env[field] = buf.toString('base64');
}

/** The envelope sealed for this seq, sent in the next one (copied into another message). */
function moveTo(body: Record<string, unknown>): void {
  seq += 1;
  body['seq'] = seq;
}
