/**
 * The device side of the MEDIBUS-style framing (docs/simulators/ventilator.md),
 * written apart from the agent's parser on purpose: the two meet only on the wire,
 * so each checks the other.
 */
export const ESC = 0x1b;
export const SOH = 0x01;
export const CR = 0x0d;
export const CORRUPT = 0x15;

export function sumHex(bytes: Buffer): string {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

export function response(cmd: number, data = ''): Buffer {
  const head = Buffer.concat([Buffer.from([SOH, cmd]), Buffer.from(data, 'latin1')]);
  return Buffer.concat([head, Buffer.from(sumHex(head), 'latin1'), Buffer.from([CR])]);
}

/** The same frame with its checksum wrong (fault injection). */
export function corruptChecksum(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  const i = out.length - 3; // first checksum character
  out[i] = out[i] === 0x30 ? 0x31 : 0x30;
  return out;
}

/** Collects ESC ... CR commands from the agent; a command whose checksum fails comes out as `corrupt`. */
export class CommandReader {
  private buf: number[] = [];
  private inFrame = false;

  push(bytes: Buffer): Array<{ cmd: number } | { corrupt: true }> {
    const out: Array<{ cmd: number } | { corrupt: true }> = [];
    for (const b of bytes) {
      if (b === ESC) {
        this.inFrame = true;
        this.buf = [b];
      } else if (!this.inFrame) {
        // ignore anything outside a command
      } else if (b === CR) {
        this.inFrame = false;
        const frame = Buffer.from(this.buf);
        if (frame.length < 4) out.push({ corrupt: true });
        else if (frame.toString('latin1', frame.length - 2) !== sumHex(frame.subarray(0, frame.length - 2))) out.push({ corrupt: true });
        else out.push({ cmd: frame[1] as number });
      } else if (this.buf.length < 256) {
        this.buf.push(b);
      }
    }
    return out;
  }
}

/** Right-justified fixed-width field ("22.4" in 4, "7" -> "   7"); numbers lose decimals until they fit. */
export function field(value: number | string, width: number): string {
  if (typeof value === 'string') return value.slice(0, width).padEnd(width);
  for (let decimals = 1; decimals >= 0; decimals--) {
    const text = value.toFixed(decimals);
    if (text.length <= width) return text.padStart(width);
  }
  return '9'.repeat(width);
}
