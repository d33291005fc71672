import { describe, expect, it } from 'vitest';
import { decodeMessage, deviceKey, parseTopic, splitDeviceKey, topics, validateMessage } from '../dist/index.js';

const reading = {
  metric: 'rate',
  code: 157784,
  refId: 'MDC_FLOW_FLUID_PUMP',
  unit: 'mL/h',
  unitCode: 265266,
  t: 1_764_000_000_000,
  value: 125,
  quality: 'good',
};
const data = { v: 1, seq: 7, sentAt: 1_764_000_000_100, device: 'pump-1', clock: 'agent', readings: [reading] };

describe('topics', () => {
  it('builds and parses every topic of the contract', () => {
    expect(parseTopic(topics.state('bench', 'gw-1'))).toEqual({ site: 'bench', gateway: 'gw-1', kind: 'state' });
    expect(parseTopic(topics.gap('bench', 'gw-1'))).toEqual({ site: 'bench', gateway: 'gw-1', kind: 'gap' });
    for (const kind of ['birth', 'status', 'data', 'alarm'] as const) {
      expect(parseTopic(topics.device('bench', 'gw-1', 'pump-1', kind))).toEqual({ site: 'bench', gateway: 'gw-1', kind, device: 'pump-1' });
    }
    expect(parseTopic(topics.cmd('bench', 'gw-1', 'r1'))).toEqual({ site: 'bench', gateway: 'gw-1', kind: 'cmd', requestId: 'r1' });
    expect(parseTopic(topics.res('bench', 'gw-1', 'r1'))).toEqual({ site: 'bench', gateway: 'gw-1', kind: 'res', requestId: 'r1' });
  });

  it.each([
    'medtel/v2/bench/gw-1/state',
    'medtel/v1/bench/gw-1',
    'medtel/v1/bench/gw-1/dev/pump-1/unknown',
    'medtel/v1/bench/gw-1/dev/pump 1/data',
    'medtel/v1/bench/gw-1/dev/pump-1/data/extra',
    'medtel/v1/be.nch/gw-1/state',
    'other/v1/bench/gw-1/state',
    '$SYS/broker/uptime',
  ])('rejects %s', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });

  it('device keys round-trip and reject junk', () => {
    expect(splitDeviceKey(deviceKey('gw-1', 'pump-1'))).toEqual({ gateway: 'gw-1', device: 'pump-1' });
    expect(splitDeviceKey('nodot')).toBeNull();
    expect(splitDeviceKey('gw.pump.1')).toBeNull();
  });
});

describe('message schemas', () => {
  it('accepts a valid data message', () => {
    expect(validateMessage('data', data)).toEqual({ ok: true, message: data });
  });

  it("carries a gateway's outbox backlog on its state, and refuses a malformed one naming the field", () => {
    const online = { v: 1, sentAt: 1, state: 'online', agentVersion: '0.1.0' };
    expect(validateMessage('state', { ...online, outbox: { rows: 1200, bytes: 480_000, oldestAgeSeconds: 95.5 } }).ok).toBe(true);
    const negative = validateMessage('state', { ...online, outbox: { rows: -1, bytes: 0, oldestAgeSeconds: 0 } });
    expect(negative.ok).toBe(false);
    expect(JSON.stringify(negative)).toContain('outbox.rows');
    expect(validateMessage('state', { ...online, outbox: { rows: 1, bytes: 1, oldestAgeSeconds: 0, extra: 1 } }).ok).toBe(false);
  });

  it('accepts valid examples of every other kind', () => {
    const sent = { v: 1, seq: 1, sentAt: 1 };
    expect(validateMessage('state', { v: 1, sentAt: 1, state: 'online', agentVersion: '0.1.0', devices: ['pump-1'] }).ok).toBe(true);
    expect(
      validateMessage('birth', {
        ...sent,
        device: 'p',
        type: 'infusion-pump',
        manufacturer: 'm',
        model: 'x',
        protocol: 'modbus-tcp',
        profile: 'p',
        metrics: [{ metric: 'rate', code: 157784 }],
      }).ok,
    ).toBe(true);
    expect(validateMessage('status', { ...sent, device: 'p', t: 1, status: 'unreachable', reason: 'no answer' }).ok).toBe(true);
    expect(
      validateMessage('alarm', {
        ...sent,
        device: 'p',
        t: 1,
        alarm: 'occlusion',
        code: 196940,
        priority: 'high',
        phase: 'start',
        state: 'active',
        text: 'Line occlusion',
      }).ok,
    ).toBe(true);
    expect(validateMessage('gap', { ...sent, device: 'p', from: 1, to: 2, count: 3, reason: 'outbox full' }).ok).toBe(true);
    expect(validateMessage('cmd', { v: 1, requestId: 'r1', command: 'self-test', issuedAt: 1 }).ok).toBe(true);
    expect(validateMessage('res', { ...sent, requestId: 'r1', ok: true, result: { code: 0 } }).ok).toBe(true);
  });

  it('accepts a birth listing diagnostics, strictly', () => {
    const birth = {
      v: 1,
      seq: 1,
      sentAt: 1,
      device: 'p',
      type: 'infusion-pump',
      manufacturer: 'm',
      model: 'x',
      protocol: 'modbus-tcp',
      profile: 'p',
      metrics: [],
      diagnostics: [{ name: 'self_test', description: 'Built-in self-test', changesState: false }],
    };
    expect(validateMessage('birth', birth).ok).toBe(true);
    const extra = validateMessage('birth', { ...birth, diagnostics: [{ name: 'self_test', description: 'x', changesState: false, steps: [] }] });
    expect(extra).toMatchObject({ ok: false, reason: expect.stringMatching(/diagnostics\[0\]\.steps: unknown field/) });
    const missing = validateMessage('birth', { ...birth, diagnostics: [{ name: 'self_test', description: 'x' }] });
    expect(missing).toMatchObject({ ok: false, reason: expect.stringMatching(/diagnostics\[0\]\.changesState/) });
  });

  it.each([
    ['a missing seq', { ...data, seq: undefined }, /seq: missing/],
    ['seq 0', { ...data, seq: 0 }, /seq: found 0, expected the outbox sequence number/],
    ['an unknown field', { ...data, extra: 1 }, /extra: unknown field/],
    ['a wrong version', { ...data, v: 2 }, /v: found 2, expected 1/],
    ['an empty batch', { ...data, readings: [] }, /readings/],
    [
      'a bad quality',
      { ...data, readings: [{ ...reading, quality: 'great' }] },
      /readings\[0\]\.quality: found "great", expected one of "good", "questionable", "bad"/,
    ],
    ['a device id with a slash', { ...data, device: 'a/b' }, /device: found "a\/b"/],
    ['an object as value', { ...data, readings: [{ ...reading, value: { x: 1 } }] }, /readings\[0\]\.value/],
  ])('rejects a data message with %s, naming the field', (_name, value, reason) => {
    const result = validateMessage('data', value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('decodes bytes, and says why garbage is refused without echoing it', () => {
    expect(decodeMessage('data', Buffer.from(JSON.stringify(data))).ok).toBe(true);
    const garbage = decodeMessage('data', Buffer.from('\x00\xffSECRET-NAME'));
    expect(garbage).toEqual({ ok: false, reason: 'not JSON' });
    const wrongType = decodeMessage('data', Buffer.from('"just a string"'));
    expect(wrongType.ok).toBe(false);
    const big = decodeMessage('data', Buffer.alloc(2 * 1024 * 1024, 32));
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.reason).toMatch(/too large/);
  });
});
