import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gcm } from '@noble/ciphers/aes.js';
import { describe, expect, it } from 'vitest';
import { initKeyring, Keyring, KeyringError, openBytes, PhiError, rotateKeyring, sealBytes, subjectId, validateMessage } from '../dist/index.js';

const hex = (s: string) => Buffer.from(s, 'hex');

// AES-256 cases of the GCM specification (McGrew & Viega, test cases 13, 14, 16) and one from NIST CAVP gcmEncryptExtIV256.
const VECTORS = [
  { key: '0'.repeat(64), iv: '0'.repeat(24), aad: '', pt: '', ct: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  { key: '0'.repeat(64), iv: '0'.repeat(24), aad: '', pt: '0'.repeat(32), ct: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919' },
  {
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    iv: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
  {
    key: '83688deb4af8007f9b713b47cfa6c73e35ea7a3aa4ecdb414dded03bf7a0fd3a',
    iv: '0b459724904e010a46901cf3',
    aad: '794a14ccd178c8ebfd1379dc704c5e208f9d8424',
    pt: '33d893a2114ce06fc15d55e454cf90c3',
    ct: 'cc66bee423e3fcd4c0865715e9586696',
    tag: '0fb291bd3dba94a1dfd8b286cfb97ac5',
  },
];

const binding = { gateway: 'gw-1', device: 'pump-1', seq: 42 };

function keyring(): { file: string; ring: Keyring } {
  const file = join(mkdtempSync(join(tmpdir(), 'medtel-phi-')), 'keyring.json');
  initKeyring(file);
  return { file, ring: Keyring.load(file) };
}

describe('AES-256-GCM (@noble/ciphers) as the envelope uses it', () => {
  it.each(VECTORS.map((v, i) => [i, v] as const))('matches published AES-256 GCM vector %i', (_i, v) => {
    const out = gcm(hex(v.key), hex(v.iv), hex(v.aad)).encrypt(hex(v.pt));
    expect(Buffer.from(out).toString('hex')).toBe(v.ct + v.tag);
    expect(Buffer.from(gcm(hex(v.key), hex(v.iv), hex(v.aad)).decrypt(out)).toString('hex')).toBe(v.pt);
  });

  it('interoperates with node:crypto aes-256-gcm both ways', () => {
    const key = randomBytes(32);
    const env = sealBytes({ kid: 'k1', key }, Buffer.from('{"mrn":"X"}'), binding);
    const iv = Buffer.from(env.iv, 'base64');
    const ct = Buffer.from(env.ct, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(Buffer.from(`medtel-phi/v1\ngw-1\npump-1\n42`));
    d.setAuthTag(ct.subarray(-16));
    expect(Buffer.concat([d.update(ct.subarray(0, -16)), d.final()]).toString()).toBe('{"mrn":"X"}');

    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from(`medtel-phi/v1\ngw-1\npump-1\n42`));
    const nodeCt = Buffer.concat([c.update('{"mrn":"X"}'), c.final(), c.getAuthTag()]);
    expect(nodeCt.toString('base64')).toBe(env.ct);
    expect(Buffer.from(openBytes(() => key, { ...env, ct: nodeCt.toString('base64') }, binding)).toString()).toBe('{"mrn":"X"}');
  });

  it('envelopes fit the contract schema and use a fresh 96-bit IV each time', () => {
    const { ring } = keyring();
    const a = ring.seal({ mrn: 'MRN1' }, binding);
    const b = ring.seal({ mrn: 'MRN1' }, binding);
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
    const message = {
      v: 1,
      seq: 1,
      sentAt: 1,
      device: 'pump-1',
      clock: 'agent',
      readings: [{ metric: 'x', t: 1, value: 1, quality: 'good' }],
      phi: a,
      subject: ring.subject('MRN1'),
    };
    expect(validateMessage('data', message).ok).toBe(true);
  });
});

describe('opening: tampering, moved envelopes and unknown keys are typed errors', () => {
  const { ring } = keyring();
  const env = ring.seal({ mrn: 'MRN-7', name: 'Doe^Jane', dob: '1970-01-01' }, binding);

  function failure(f: () => unknown): PhiError {
    try {
      f();
    } catch (err) {
      return err as PhiError;
    }
    throw new Error('expected a failure');
  }

  function flip(b64: string, bit: number): string {
    const buf = Buffer.from(b64, 'base64');
    buf[bit >> 3] = (buf[bit >> 3] as number) ^ (1 << (bit & 7));
    return buf.toString('base64');
  }

  it('opens what it sealed', () => {
    expect(ring.open(env, binding)).toEqual({ mrn: 'MRN-7', name: 'Doe^Jane', dob: '1970-01-01' });
  });

  it.each([
    ['a bit of the ciphertext', () => ({ ...env, ct: flip(env.ct, 3) })],
    ['a bit of the tag', () => ({ ...env, ct: flip(env.ct, Buffer.from(env.ct, 'base64').length * 8 - 1) })],
    ['a bit of the IV', () => ({ ...env, iv: flip(env.iv, 0) })],
  ])('flipped %s -> auth_failed, no plaintext', (_what, mutate) => {
    const err = failure(() => ring.open(mutate(), binding));
    expect(err).toBeInstanceOf(PhiError);
    expect(err.code).toBe('auth_failed');
    expect(err.message).not.toContain('MRN-7');
  });

  it.each([
    ['another seq', { ...binding, seq: 43 }],
    ['another device', { ...binding, device: 'pump-2' }],
    ['another gateway', { ...binding, gateway: 'gw-2' }],
  ])('moved to %s -> auth_failed', (_what, other) => {
    expect(failure(() => ring.open(env, other)).code).toBe('auth_failed');
  });

  it('unknown key id -> unknown_kid naming the kid', () => {
    const err = failure(() => ring.open({ ...env, kid: 'k19990101-abcdef' }, binding));
    expect(err.code).toBe('unknown_kid');
    expect(err.message).toContain('k19990101-abcdef');
  });

  it('malformed IV -> malformed', () => {
    expect(failure(() => ring.open({ ...env, iv: 'AAAA' }, binding)).code).toBe('malformed');
  });
});

describe('keyring file', () => {
  it('is created owner-only and refused once others can read it, with the fix in the message', () => {
    const { file } = keyring();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o644);
    expect(() => Keyring.load(file)).toThrow(KeyringError);
    expect(() => Keyring.load(file)).toThrow(`chmod 600 ${file}`);
  });

  it('init never overwrites an existing keyring', () => {
    const { file } = keyring();
    expect(() => initKeyring(file)).toThrow(/already exists/);
  });

  it('rotation: old envelopes still open, new ones carry the new kid, the pseudonym stays', () => {
    const { file, ring } = keyring();
    const old = ring.seal({ mrn: 'A1' }, binding);
    const subject = ring.subject('A1');
    const { previous, active } = rotateKeyring(file);
    expect(previous).toBe(old.kid);
    const after = Keyring.load(file);
    expect(after.open(old, binding)).toEqual({ mrn: 'A1' });
    const fresh = after.seal({ mrn: 'A1' }, binding);
    expect(fresh.kid).toBe(active);
    expect(fresh.kid).not.toBe(old.kid);
    expect(after.subject('A1')).toBe(subject);
    const list = after.list();
    expect(list.find((k) => k.kid === previous)?.retired).toBeDefined();
    expect(list.find((k) => k.kid === active)?.active).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('counts encryptions per key (persisted) and warns before the GCM limit', () => {
    const { file } = keyring();
    const warnings: string[] = [];
    const ring = Keyring.load(file, { warnAt: 5, onWarn: (m) => warnings.push(m) });
    for (let i = 0; i < 6; i++) ring.seal({ mrn: 'A' }, binding);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/keys rotate/);
    const usage = JSON.parse(readFileSync(`${file}.usage`, 'utf8')) as Record<string, number>;
    expect(usage[ring.activeKid]).toBeGreaterThanOrEqual(6);
    // A restart resumes from the persisted (conservative) count and warns again.
    const again: string[] = [];
    Keyring.load(file, { warnAt: 5, onWarn: (m) => again.push(m) });
    expect(again).toHaveLength(1);
  });

  it('pseudonyms: the same MRN gives the same id under one site key, another under another', () => {
    const k1 = randomBytes(32);
    expect(subjectId(k1, 'MRN-1')).toBe(subjectId(k1, ' mrn-1 '));
    expect(subjectId(k1, 'MRN-1')).not.toBe(subjectId(k1, 'MRN-2'));
    expect(subjectId(k1, 'MRN-1')).not.toBe(subjectId(randomBytes(32), 'MRN-1'));
    expect(subjectId(k1, 'MRN-1')).not.toContain('MRN');
  });
});
