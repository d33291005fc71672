/**
 * Modbus register decoding, shared by the TCP and (later) RTU transports.
 * Registers are 16-bit big-endian; 32-bit values span two registers whose order
 * varies by vendor, hence `wordOrder`.
 */
export type RegisterType = 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'string';
export type WordOrder = 'big' | 'little';

export const REGISTER_WIDTH: Record<Exclude<RegisterType, 'string'>, number> = {
  uint16: 1,
  int16: 1,
  uint32: 2,
  int32: 2,
  float32: 2,
};

/** Number of registers a point occupies; strings: 2 characters per register. */
export function registerCount(type: RegisterType, length?: number): number {
  return type === 'string' ? Math.ceil((length ?? 2) / 2) : REGISTER_WIDTH[type];
}

/** Decodes `count` registers starting at `offset` of `regs`. */
export function decodeRegisters(regs: ArrayLike<number>, offset: number, type: RegisterType, wordOrder: WordOrder, length?: number): number | string {
  const buf = Buffer.alloc(registerCount(type, length) * 2);
  for (let i = 0; i < buf.length / 2; i++) {
    const reg = regs[offset + i];
    if (reg === undefined) throw new RangeError(`register ${offset + i} missing from response`);
    buf.writeUInt16BE(reg & 0xffff, i * 2);
  }
  if (type === 'string') {
    // ASCII, first character in the high byte; NUL padding and trailing spaces dropped.
    const end = buf.indexOf(0);
    return buf
      .subarray(0, end < 0 ? (length ?? buf.length) : Math.min(end, length ?? buf.length))
      .toString('latin1')
      .trimEnd();
  }
  if (type === 'uint16') return buf.readUInt16BE(0);
  if (type === 'int16') return buf.readInt16BE(0);
  const ordered = wordOrder === 'big' ? buf : Buffer.concat([buf.subarray(2, 4), buf.subarray(0, 2)]);
  if (type === 'uint32') return ordered.readUInt32BE(0);
  if (type === 'int32') return ordered.readInt32BE(0);
  return ordered.readFloatBE(0);
}

export interface RegisterPoint {
  key: string;
  table: 'holding' | 'input';
  address: number;
  type: RegisterType;
  length?: number;
}

export interface ReadBlock {
  table: 'holding' | 'input';
  start: number;
  count: number;
  points: RegisterPoint[];
}

/** The most registers one Modbus read may return (function 03/04). */
export const MAX_REGISTERS_PER_READ = 125;

/**
 * Groups points into as few reads as possible: adjacent or overlapping points
 * of the same table share a read, never spanning unmapped gaps (a device may
 * answer those with exception 2) and never exceeding 125 registers.
 */
export function planReads(points: RegisterPoint[]): ReadBlock[] {
  const blocks: ReadBlock[] = [];
  for (const table of ['input', 'holding'] as const) {
    const sorted = points.filter((p) => p.table === table).sort((a, b) => a.address - b.address);
    let current: ReadBlock | undefined;
    for (const point of sorted) {
      const end = point.address + registerCount(point.type, point.length);
      if (current && point.address <= current.start + current.count && end - current.start <= MAX_REGISTERS_PER_READ) {
        current.count = Math.max(current.count, end - current.start);
        current.points.push(point);
      } else {
        current = { table, start: point.address, count: end - point.address, points: [point] };
        blocks.push(current);
      }
    }
  }
  return blocks;
}
