import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import type { SealedEnvelope } from '../contract/schemas.js';
import { type EnvelopeBinding, KEY_BYTES, openBytes, sealBytes } from './envelope.js';
import { subjectId } from './pseudonym.js';
import { decodeRecord, encodeRecord, type PhiRecord } from './record.js';

/**
 * The PHI keyring: AES-256 keys by key id (one active, the others retired but
 * kept so old envelopes stay openable) and the site's pseudonym key. A JSON
 * file readable only by its owner; a keyring others can read is refused.
 */
export interface KeyringKey {
  kid: string;
  created: string;
  retired?: string;
  /** base64 of 32 bytes. */
  key: string;
}

export interface KeyringDocument {
  format: 'medtel-keyring/1';
  active: string;
  keys: KeyringKey[];
  /** HMAC-SHA-256 key for subject ids; never rotated (that would split every patient's history). */
  pseudonymKey: { created: string; key: string };
}

export class KeyringError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'KeyringError';
  }
}

/** GCM with random 96-bit IVs: NIST SP 800-38D caps one key at 2^32 encryptions. */
export const GCM_RANDOM_IV_LIMIT = 2 ** 32;
/** Warn at a quarter of the limit: years of headroom to rotate. */
export const DEFAULT_WARN_AT = 2 ** 30;
/** Usage is persisted in reserved blocks: a crash over-counts by at most one block, never under-counts. */
const USAGE_BLOCK = 10_000;

function newKid(now: Date): string {
  return `k${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
}

function writePrivate(file: string, text: string): void {
  // Written aside then renamed: a crash never leaves a half-written keyring.
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function usageFile(file: string): string {
  return `${file}.usage`;
}

/** Refuses a keyring (or its usage file) that group or others may read or write. */
function checkPrivate(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KeyringError(
      `${file}: keyring is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); run "chmod 600 ${file}" and make the agent's service user its owner`,
      file,
    );
  }
}

export function initKeyring(file: string, now = new Date()): KeyringDocument {
  if (existsSync(file)) throw new KeyringError(`${file}: a keyring already exists; use "keys rotate" to add a key (init never overwrites keys)`, file);
  const kid = newKid(now);
  const doc: KeyringDocument = {
    format: 'medtel-keyring/1',
    active: kid,
    keys: [{ kid, created: now.toISOString(), key: randomBytes(KEY_BYTES).toString('base64') }],
    pseudonymKey: { created: now.toISOString(), key: randomBytes(KEY_BYTES).toString('base64') },
  };
  writePrivate(file, `${JSON.stringify(doc, null, 2)}\n`);
  return doc;
}

/** Adds a new active key; the previous one is marked retired and kept for opening. */
export function rotateKeyring(file: string, now = new Date()): { previous: string; active: string } {
  const doc = readKeyringDocument(file);
  const kid = newKid(now);
  const previous = doc.active;
  for (const k of doc.keys) if (k.kid === previous) k.retired = now.toISOString();
  doc.keys.push({ kid, created: now.toISOString(), key: randomBytes(KEY_BYTES).toString('base64') });
  doc.active = kid;
  writePrivate(file, `${JSON.stringify(doc, null, 2)}\n`);
  return { previous, active: kid };
}

export function readKeyringDocument(file: string): KeyringDocument {
  if (!existsSync(file)) throw new KeyringError(`${file}: no keyring; create one with "medtel-agent keys init --keyring ${file}"`, file);
  checkPrivate(file);
  let doc: KeyringDocument;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as KeyringDocument;
  } catch (err) {
    throw new KeyringError(`${file}: not a readable keyring (${(err as Error).message})`, file);
  }
  if (doc.format !== 'medtel-keyring/1' || !Array.isArray(doc.keys) || typeof doc.pseudonymKey?.key !== 'string') {
    throw new KeyringError(`${file}: not a medtel keyring (format medtel-keyring/1 expected)`, file);
  }
  for (const [i, k] of doc.keys.entries()) {
    if (typeof k.kid !== 'string' || Buffer.from(k.key ?? '', 'base64').length !== KEY_BYTES)
      throw new KeyringError(`${file}: keys[${i}] is not a 256-bit key with a kid`, file);
  }
  if (!doc.keys.some((k) => k.kid === doc.active)) throw new KeyringError(`${file}: active key "${doc.active}" is not in keys`, file);
  return doc;
}

export interface KeyringOptions {
  /** Called once when a key's use count passes warnAt (and at load if it already has). */
  onWarn?: (message: string, kid: string, count: number) => void;
  warnAt?: number;
  /** Open-only holders (collector) do not count; only sealers write the usage file. */
  countUsage?: boolean;
}

export interface KeyInfo {
  kid: string;
  created: string;
  retired?: string;
  active: boolean;
  /** Encryptions counted on this host (an upper bound). */
  sealed: number;
}

export class Keyring {
  private readonly keys = new Map<string, Uint8Array>();
  private readonly pseudonymKey: Uint8Array;
  private readonly usage: Record<string, { count: number; reserved: number }> = {};
  private readonly warned = new Set<string>();

  private constructor(
    readonly file: string,
    private readonly doc: KeyringDocument,
    private readonly o: KeyringOptions,
  ) {
    for (const k of doc.keys) this.keys.set(k.kid, Buffer.from(k.key, 'base64'));
    this.pseudonymKey = Buffer.from(doc.pseudonymKey.key, 'base64');
    const uf = usageFile(file);
    if (existsSync(uf)) {
      checkPrivate(uf);
      const saved = JSON.parse(readFileSync(uf, 'utf8')) as Record<string, number>;
      // Resume from the reserved high-water mark: what a crash lost is counted as used.
      for (const [kid, n] of Object.entries(saved)) this.usage[kid] = { count: n, reserved: n };
    }
    for (const [kid, u] of Object.entries(this.usage)) this.checkWarn(kid, u.count);
  }

  static load(file: string, options: KeyringOptions = {}): Keyring {
    return new Keyring(file, readKeyringDocument(file), options);
  }

  get activeKid(): string {
    return this.doc.active;
  }

  has(kid: string): boolean {
    return this.keys.has(kid);
  }

  subject(mrn: string): string {
    return subjectId(this.pseudonymKey, mrn);
  }

  seal(record: PhiRecord, binding: EnvelopeBinding): SealedEnvelope {
    const kid = this.doc.active;
    this.count(kid);
    return sealBytes({ kid, key: this.keys.get(kid) as Uint8Array }, encodeRecord(record), binding);
  }

  open(env: SealedEnvelope, binding: EnvelopeBinding): PhiRecord {
    return decodeRecord(openBytes((kid) => this.keys.get(kid), env, binding));
  }

  list(): KeyInfo[] {
    return this.doc.keys.map((k) => ({
      kid: k.kid,
      created: k.created,
      ...(k.retired ? { retired: k.retired } : {}),
      active: k.kid === this.doc.active,
      sealed: this.usage[k.kid]?.count ?? 0,
    }));
  }

  private count(kid: string): void {
    if (this.o.countUsage === false) return;
    this.usage[kid] ??= { count: 0, reserved: 0 };
    const u = this.usage[kid];
    u.count += 1;
    if (u.count > u.reserved) {
      u.reserved = u.count + USAGE_BLOCK;
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(this.usage)) out[k] = v.reserved;
      writePrivate(usageFile(this.file), JSON.stringify(out));
    }
    this.checkWarn(kid, u.count);
  }

  private checkWarn(kid: string, count: number): void {
    const at = this.o.warnAt ?? DEFAULT_WARN_AT;
    if (count < at || this.warned.has(kid)) return;
    this.warned.add(kid);
    this.o.onWarn?.(
      `PHI key ${kid} has sealed about ${count} envelopes; AES-GCM with random IVs allows at most 2^32 per key: run "medtel-agent keys rotate" soon`,
      kid,
      count,
    );
  }
}
