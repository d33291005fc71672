import { crc16 } from '../serial-common/crc16.js';

/**
 * Modbus RTU framing for reads (functions 03 and 04) and the single writes a
 * diagnostic test needs (05 coil, 06 holding register): unit, function, data,
 * CRC-16 low byte first. Frames are found by their length, not by 3.5-character
 * silences: ptys and terminal servers do not keep serial timing.
 */
export function encodeReadRequest(unit: number, fn: 3 | 4, start: number, count: number): Buffer {
  return encodeRequest(unit, fn, start, count);
}

/** Unit, function, two 16-bit fields, CRC: the layout of 03, 04, 05 and 06 requests alike. */
function encodeRequest(unit: number, fn: number, a: number, b: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = unit;
  out[1] = fn;
  out.writeUInt16BE(a, 2);
  out.writeUInt16BE(b, 4);
  out.writeUInt16LE(crc16(out, 0, 6), 6);
  return out;
}

/**
 * A single write: function 05 (coil; ON is 0xFF00, OFF 0x0000) or 06 (holding
 * register). The request has the same 8-byte shape as a read, and a normal
 * reply echoes it.
 */
export function encodeWriteRequest(unit: number, fn: 5 | 6, address: number, value: number): Buffer {
  return encodeRequest(unit, fn, address, value);
}

/** Function codes whose normal reply echoes the request (address, value) instead of carrying a byte count. */
const ECHO_FUNCTIONS = new Set([5, 6]);

export type RtuReply = { registers: number[] } | { exception: number } | { echo: { address: number; value: number } };
export type RtuFault = 'garbage' | 'checksum';

/**
 * Finds the reply to (unit, fn) in the bytes received so far. Returns undefined
 * until one is complete; bytes before it (an echo, a late reply, noise) are
 * skipped and reported once per run.
 */
export class RtuReplyReader {
  private buf = Buffer.alloc(0);

  constructor(
    private readonly unit: number,
    private readonly fn: number,
    private readonly onFault: (fault: RtuFault) => void,
  ) {}

  push(bytes: Buffer): RtuReply | undefined {
    this.buf = Buffer.concat([this.buf, bytes]);
    let skipped = false;
    const skip = (fault: RtuFault) => {
      if (!skipped || fault === 'checksum') this.onFault(fault);
      skipped = true;
      this.buf = this.buf.subarray(1);
    };
    while (this.buf.length >= 2) {
      if (this.buf[0] !== this.unit || ((this.buf[1] as number) & 0x7f) !== this.fn) {
        skip('garbage');
        continue;
      }
      const exception = ((this.buf[1] as number) & 0x80) !== 0;
      const echo = !exception && ECHO_FUNCTIONS.has(this.fn);
      const total = exception ? 5 : echo ? 8 : this.buf.length >= 3 ? 5 + (this.buf[2] as number) : undefined;
      if (total === undefined || this.buf.length < total) return undefined;
      if (this.buf.readUInt16LE(total - 2) !== crc16(this.buf, 0, total - 2) || (!exception && !echo && (this.buf[2] as number) % 2 !== 0)) {
        skip('checksum');
        continue;
      }
      if (exception) return { exception: this.buf[2] as number };
      if (echo) return { echo: { address: this.buf.readUInt16BE(2), value: this.buf.readUInt16BE(4) } };
      const registers: number[] = [];
      for (let i = 0; i < (this.buf[2] as number) / 2; i++) registers.push(this.buf.readUInt16BE(3 + i * 2));
      return { registers };
    }
    return undefined;
  }
}
