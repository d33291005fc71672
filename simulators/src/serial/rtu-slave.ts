import { crc16Modbus } from './ecg-codec.js';

/**
 * The device side of Modbus RTU for several units on one line (functions 03/04
 * only). Requests are found by length and CRC; bytes that do not make one are
 * skipped. Written apart from the agent's master on purpose.
 */
export interface RtuUnit {
  holding(): number[];
  input(): number[];
}

export function rtuFrame(body: number[]): Buffer {
  const out = Buffer.alloc(body.length + 2);
  Buffer.from(body).copy(out);
  out.writeUInt16LE(crc16Modbus(out.subarray(0, body.length)), body.length);
  return out;
}

export function corruptRtu(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  out[out.length - 2] = ((out[out.length - 2] as number) ^ 0xff) & 0xff;
  return out;
}

export interface RtuRequest {
  unit: number;
  fn: number;
  start: number;
  count: number;
}

export class RtuRequestReader {
  private buf = Buffer.alloc(0);

  push(bytes: Buffer): RtuRequest[] {
    this.buf = Buffer.concat([this.buf, bytes]);
    const out: RtuRequest[] = [];
    while (this.buf.length >= 8) {
      if (this.buf.readUInt16LE(6) === crc16Modbus(this.buf.subarray(0, 6))) {
        out.push({ unit: this.buf[0] as number, fn: this.buf[1] as number, start: this.buf.readUInt16BE(2), count: this.buf.readUInt16BE(4) });
        this.buf = this.buf.subarray(8);
      } else {
        this.buf = this.buf.subarray(1);
      }
    }
    return out;
  }
}

/** The reply for a unit (exception 1 for other functions, 2 outside the table). */
export function rtuReply(unit: RtuUnit, req: RtuRequest): Buffer {
  const table = req.fn === 3 ? unit.holding() : req.fn === 4 ? unit.input() : undefined;
  if (!table) return rtuFrame([req.unit, req.fn | 0x80, 1]);
  if (req.count < 1 || req.count > 125 || req.start + req.count > table.length) return rtuFrame([req.unit, req.fn | 0x80, 2]);
  const body = [req.unit, req.fn, req.count * 2];
  for (const r of table.slice(req.start, req.start + req.count)) body.push((r >> 8) & 0xff, r & 0xff);
  return rtuFrame(body);
}
