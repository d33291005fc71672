import { randomBytes } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import type { SealedEnvelope } from '../contract/schemas.js';

/**
 * The PHI envelope: AES-256-GCM (@noble/ciphers), 96-bit random IV, 128-bit
 * tag appended to the ciphertext. The additional authenticated data binds an
 * envelope to the gateway, device and message seq it was sealed for, so an
 * envelope copied into another message (or another device's) fails to open.
 * One implementation for both sides: the agent seals, the collector and the
 * `medtel-collector phi open` CLI open.
 */
export const ENVELOPE_VERSION = 1 as const;
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export type PhiErrorCode = 'unknown_kid' | 'auth_failed' | 'malformed' | 'unsupported_version';

/**
 * Why an envelope could not be opened. Never carries partial plaintext:
 * GCM checks the tag before anything is decrypted and returned.
 */
export class PhiError extends Error {
  constructor(
    readonly code: PhiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PhiError';
  }
}

/** Where an envelope belongs; authenticated, not encrypted. */
export interface EnvelopeBinding {
  gateway: string;
  device: string;
  seq: number;
}

/** The AAD bytes: a fixed prefix and the binding, unambiguous because ids cannot hold a newline. */
export function envelopeAad(b: EnvelopeBinding): Uint8Array {
  return new TextEncoder().encode(`medtel-phi/v1\n${b.gateway}\n${b.device}\n${b.seq}`);
}

export interface SealKey {
  kid: string;
  key: Uint8Array;
}

export function sealBytes(k: SealKey, plaintext: Uint8Array, binding: EnvelopeBinding, iv: Uint8Array = randomBytes(IV_BYTES)): SealedEnvelope {
  if (k.key.length !== KEY_BYTES) throw new PhiError('malformed', `key ${k.kid} is ${k.key.length} bytes; AES-256 needs ${KEY_BYTES}`);
  if (iv.length !== IV_BYTES) throw new PhiError('malformed', `IV must be ${IV_BYTES} bytes`);
  // A noble cipher instance refuses to encrypt twice: one instance per envelope.
  const ct = gcm(k.key, iv, envelopeAad(binding)).encrypt(plaintext);
  return { v: ENVELOPE_VERSION, kid: k.kid, iv: Buffer.from(iv).toString('base64'), ct: Buffer.from(ct).toString('base64') };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Opens an envelope with the key it names; throws PhiError (typed, counted by callers) on any failure. */
export function openBytes(keyFor: (kid: string) => Uint8Array | undefined, env: SealedEnvelope, binding: EnvelopeBinding): Uint8Array {
  if (env.v !== ENVELOPE_VERSION)
    throw new PhiError('unsupported_version', `envelope version ${String(env.v)} is not supported (expected ${ENVELOPE_VERSION})`);
  const key = keyFor(env.kid);
  if (!key) throw new PhiError('unknown_kid', `no key "${env.kid}" in the keyring; restore it from the keyring backup to open this envelope`);
  if (!BASE64.test(env.iv) || !BASE64.test(env.ct)) throw new PhiError('malformed', 'envelope iv/ct are not base64');
  const iv = Buffer.from(env.iv, 'base64');
  const ct = Buffer.from(env.ct, 'base64');
  if (iv.length !== IV_BYTES) throw new PhiError('malformed', `envelope IV is ${iv.length} bytes, expected ${IV_BYTES}`);
  if (ct.length < TAG_BYTES) throw new PhiError('malformed', 'envelope ciphertext is shorter than its tag');
  try {
    return gcm(key, iv, envelopeAad(binding)).decrypt(ct);
  } catch {
    throw new PhiError(
      'auth_failed',
      `envelope (key ${env.kid}) failed authentication: it was altered, or does not belong to gateway ${binding.gateway}, device ${binding.device}, seq ${binding.seq}`,
    );
  }
}
