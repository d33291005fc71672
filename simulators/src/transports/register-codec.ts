/**
 * Values <-> 16-bit Modbus registers. Byte order is big-endian within a register and
 * 32-bit values put the high word first: the common convention, and what the agent's
 * device profile declares (`wordOrder: big`).
 */

export function float32ToRegisters(value: number): [number, number] {
  const buf = Buffer.alloc(4);
  buf.writeFloatBE(value);
  return [buf.readUInt16BE(0), buf.readUInt16BE(2)];
}

export function registersToFloat32(high: number, low: number): number {
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(high & 0xffff, 0);
  buf.writeUInt16BE(low & 0xffff, 2);
  return buf.readFloatBE(0);
}

/** A signed value as the register's unsigned 16 bits (two's complement), clamped to int16. */
export function int16ToRegister(value: number): number {
  const clamped = Math.max(-32768, Math.min(32767, Math.round(value)));
  return clamped & 0xffff;
}

export function uint16ToRegister(value: number): number {
  return Math.max(0, Math.min(0xffff, Math.round(value)));
}

/** ASCII, two characters per register (first in the high byte), NUL-padded to `registers`. */
export function textToRegisters(text: string, registers: number): number[] {
  const buf = Buffer.alloc(registers * 2); // zero-filled: the NUL padding
  buf.write(text.slice(0, registers * 2), 'latin1');
  const out: number[] = [];
  for (let i = 0; i < registers; i++) out.push(buf.readUInt16BE(i * 2));
  return out;
}

/** The bytes of `registers`, in order (two per register, high byte first). */
export function registersToBytes(registers: readonly number[]): Buffer {
  const buf = Buffer.alloc(registers.length * 2);
  for (const [i, reg] of registers.entries()) buf.writeUInt16BE(reg & 0xffff, i * 2);
  return buf;
}

/** The text up to the first NUL. */
export function registersToText(registers: readonly number[]): string {
  const bytes = registersToBytes(registers);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('latin1');
}
