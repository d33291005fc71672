import { crc16Modbus } from './ecg-codec.js';

/**
 * The device side of Modbus RTU for several units on one line (functions 03/04,
 * and 05 for units with coils). Requests are found by length and CRC; bytes that
 * do not make one are skipped. Written apart from the agent's master on purpose.
 */
export interface RtuUnit {
  holding(): number[];
  input(): number[];
  /** Function 05; false for a coil the unit does not have (exception 2). Absent: 05 is exception 1. */
  writeCoil?(address: number, on: boolean): boolean;
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

/** Functions 03/04 (`start`, `count`) and 05/06 (address, value in the same two fields: the frames have one shape). */
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
  if (req.fn === 5) return coilReply(unit, req);
  const table = req.fn === 3 ? unit.holding() : req.fn === 4 ? unit.input() : undefined;
  if (!table) return rtuFrame([req.unit, req.fn | 0x80, 1]);
  if (req.count < 1 || req.count > 125 || req.start + req.count > table.length) return rtuFrame([req.unit, req.fn | 0x80, 2]);
  const body = [req.unit, req.fn, req.count * 2];
  for (const r of table.slice(req.start, req.start + req.count)) body.push((r >> 8) & 0xff, r & 0xff);
  return rtuFrame(body);
}

/** Function 05: ON is 0xFF00, OFF 0x0000 (anything else exception 3); the normal reply echoes the request. */
function coilReply(unit: RtuUnit, req: RtuRequest): Buffer {
  const fail = (code: number) => rtuFrame([req.unit, req.fn | 0x80, code]);
  if (!unit.writeCoil) return fail(1);
  if (req.count !== 0xff00 && req.count !== 0) return fail(3);
  if (!unit.writeCoil(req.start, req.count === 0xff00)) return fail(2);
  return rtuFrame([req.unit, 5, req.start >> 8, req.start & 0xff, req.count >> 8, req.count & 0xff]);
}
