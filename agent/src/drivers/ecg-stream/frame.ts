import { crc16 } from '../serial-common/crc16.js';

/**
 * The medtel ECG stream (docs/simulators/ecg.md): the monitor sends, unasked,
 *   SYNC 0xA5 | type u8 | seq u16 | length u16 | payload | CRC-16/MODBUS u16
 * (big-endian; the CRC covers type..payload). Types: 0x01 info (ASCII
 * key=value;...), 0x02 waveform, 0x03 numerics.
 */
export const SYNC = 0xa5;
export const FrameType = { info: 0x01, wave: 0x02, numerics: 0x03, patient: 0x04 } as const;
export const HEADER_BYTES = 6;
export const MAX_PAYLOAD = 1024;

export interface EcgFrame {
  type: number;
  seq: number;
  payload: Buffer;
}

export type EcgFault = 'garbage' | 'checksum' | 'oversize';

/**
 * Incremental parser with resynchronisation: on any failed check it drops only
 * the sync byte it started from and searches again, so a frame hidden behind
 * garbage or a cut-off frame is still found. It never throws and never returns
 * a frame whose CRC failed.
 */
export class EcgStreamParser {
  private buf: Buffer = Buffer.alloc(0);
  private skipping = false;

  constructor(private readonly onFault: (fault: EcgFault) => void = () => {}) {}

  push(bytes: Buffer): EcgFrame[] {
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([this.buf, bytes]);
    const out: EcgFrame[] = [];
    let i = 0;
    while (i < this.buf.length) {
      if (this.buf[i] !== SYNC) {
        if (!this.skipping) this.onFault('garbage');
        this.skipping = true;
        const next = this.buf.indexOf(SYNC, i + 1);
        i = next < 0 ? this.buf.length : next;
        continue;
      }
      if (this.buf.length - i < HEADER_BYTES) break;
      const len = this.buf.readUInt16BE(i + 4);
      if (len > MAX_PAYLOAD) {
        this.onFault('oversize');
        this.skipping = true;
        i += 1;
        continue;
      }
      const total = HEADER_BYTES + len + 2;
      if (this.buf.length - i < total) break;
      const crc = this.buf.readUInt16BE(i + HEADER_BYTES + len);
      if (crc !== crc16(this.buf, i + 1, i + HEADER_BYTES + len)) {
        this.onFault('checksum');
        this.skipping = true;
        i += 1;
        continue;
      }
      this.skipping = false;
      out.push({
        type: this.buf[i + 1] as number,
        seq: this.buf.readUInt16BE(i + 2),
        payload: Buffer.from(this.buf.subarray(i + HEADER_BYTES, i + HEADER_BYTES + len)),
      });
      i += total;
    }
    this.buf = i >= this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(i));
    return out;
  }

  /** Forget a partial frame (the line was reopened). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.skipping = false;
  }
}

export class PayloadError extends Error {}

export interface WaveFrame {
  /** Index of the first sample in this frame, counted by the device since it started. */
  first: number;
  leads: number;
  /** samples[lead][i], raw counts. */
  samples: Int16Array[];
}

export function decodeWave(p: Buffer): WaveFrame {
  if (p.length < 6) throw new PayloadError('waveform frame shorter than its header');
  const first = p.readUInt32BE(0);
  const leads = p[4] as number;
  const count = p[5] as number;
  if (leads < 1 || p.length !== 6 + leads * count * 2)
    throw new PayloadError(`waveform frame: ${p.length} bytes do not hold ${leads} leads x ${count} samples`);
  const samples = Array.from({ length: leads }, () => new Int16Array(count));
  for (let s = 0; s < count; s++) for (let l = 0; l < leads; l++) (samples[l] as Int16Array)[s] = p.readInt16BE(6 + (s * leads + l) * 2);
  return { first, leads, samples };
}

/** Numerics: (id u8, value int16 x10) repeated; 0x7FFF = not measured. */
export function decodeNumerics(p: Buffer): Map<number, number | null> {
  if (p.length % 3 !== 0) throw new PayloadError(`numerics frame: ${p.length} bytes is not a multiple of 3`);
  const out = new Map<number, number | null>();
  for (let i = 0; i < p.length; i += 3) {
    const raw = p.readInt16BE(i + 1);
    out.set(p[i] as number, raw === 0x7fff ? null : raw / 10);
  }
  return out;
}

export function decodeInfo(p: Buffer): Map<string, string> {
  const text = p.toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(text)) throw new PayloadError('info frame is not printable ASCII');
  return new Map(
    text
      .split(';')
      .filter(Boolean)
      .map((kv) => {
        const at = kv.indexOf('=');
        return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)];
      }),
  );
}
