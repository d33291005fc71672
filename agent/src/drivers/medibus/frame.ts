/**
 * MEDIBUS-style framing (our own implementation from the publicly documented
 * facts, see docs/serial.md): a command is ESC, command byte, arguments,
 * checksum, CR; a response is SOH, the echoed command byte, data, checksum, CR.
 * The checksum is the byte sum of everything from ESC/SOH to the last data byte,
 * mod 256, as two upper-case hex characters.
 */
export const ESC = 0x1b;
export const SOH = 0x01;
export const CR = 0x0d;

export const Command = {
  measuredData: 0x24,
  alarms: 0x27,
  settings: 0x29,
  text: 0x2a,
  /** Patient data (medtel extension): records of 2-hex code + 32-character text. */
  patient: 0x2d,
  nop: 0x30,
  icc: 0x51,
  deviceId: 0x52,
} as const;

/** Longest frame accepted; anything longer is line noise and is dropped. */
export const MAX_FRAME_BYTES = 2048;

export function checksum(bytes: ArrayLike<number>, start = 0, end = bytes.length): string {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + (bytes[i] as number)) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

function frame(start: number, cmd: number, data: Buffer): Buffer {
  const head = Buffer.concat([Buffer.from([start, cmd]), data]);
  return Buffer.concat([head, Buffer.from(checksum(head), 'latin1'), Buffer.from([CR])]);
}

/** A command frame as the agent sends it. */
export function encodeCommand(cmd: number, args: Buffer = Buffer.alloc(0)): Buffer {
  return frame(ESC, cmd, args);
}

/** A response frame (the agent sends an empty one when the device itself commands, e.g. ICC or NOP). */
export function encodeResponse(cmd: number, data: string | Buffer = ''): Buffer {
  return frame(SOH, cmd, typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
}

export interface MedibusFrame {
  kind: 'command' | 'response';
  cmd: number;
  /** The data records as ASCII text. */
  data: string;
}

export type FrameFault = 'garbage' | 'checksum' | 'truncated' | 'oversize' | 'malformed';

/**
 * Incremental parser: bytes in, whole checked frames out. Anything else is
 * reported once per incident and skipped; it resynchronises on the next ESC or
 * SOH, so no byte sequence can make it throw or emit a frame that failed its check.
 */
export class MedibusParser {
  private buf = Buffer.alloc(MAX_FRAME_BYTES);
  private len = 0;
  private inFrame = false;
  private garbageRun = false;

  constructor(private readonly onFault: (fault: FrameFault) => void = () => {}) {}

  push(bytes: Buffer): MedibusFrame[] {
    const out: MedibusFrame[] = [];
    for (const b of bytes) {
      // Realtime bytes (bit 7 set) are interleaved with the slow stream; XON/XOFF are flow control.
      if (b >= 0x80 || b === 0x11 || b === 0x13) continue;
      if (b === ESC || b === SOH) {
        if (this.inFrame) this.onFault('truncated');
        this.inFrame = true;
        this.garbageRun = false;
        this.buf[0] = b;
        this.len = 1;
        continue;
      }
      if (!this.inFrame) {
        if (!this.garbageRun) this.onFault('garbage');
        this.garbageRun = true;
        continue;
      }
      if (b === CR) {
        this.inFrame = false;
        const f = this.finish();
        if (f) out.push(f);
        continue;
      }
      if (b < 0x20) {
        // Control characters never appear inside a frame.
        this.inFrame = false;
        this.onFault('malformed');
        continue;
      }
      if (this.len >= MAX_FRAME_BYTES) {
        this.inFrame = false;
        this.onFault('oversize');
        continue;
      }
      this.buf[this.len++] = b;
    }
    return out;
  }

  private finish(): MedibusFrame | undefined {
    // start byte + command + two checksum characters at least
    if (this.len < 4) {
      this.onFault('truncated');
      return undefined;
    }
    const end = this.len - 2;
    const given = this.buf.toString('latin1', end, this.len);
    if (given !== checksum(this.buf, 0, end)) {
      this.onFault('checksum');
      return undefined;
    }
    return {
      kind: this.buf[0] === ESC ? 'command' : 'response',
      cmd: this.buf[1] as number,
      data: this.buf.toString('latin1', 2, end),
    };
  }
}
