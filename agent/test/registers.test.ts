import { describe, expect, it } from 'vitest';
import { decodeRegisters, planReads, type RegisterPoint } from '../dist/index.js';

const f32 = (x: number, order: 'big' | 'little' = 'big') => {
  const b = Buffer.alloc(4);
  b.writeFloatBE(x);
  const words = [b.readUInt16BE(0), b.readUInt16BE(2)];
  return order === 'big' ? words : words.reverse();
};

describe('Modbus register decoding', () => {
  it('decodes 16- and 32-bit integers, floats in both word orders, and strings', () => {
    expect(decodeRegisters([0xfff6], 0, 'int16', 'big')).toBe(-10);
    expect(decodeRegisters([0xfff6], 0, 'uint16', 'big')).toBe(65526);
    expect(decodeRegisters([0x0001, 0x0002], 0, 'uint32', 'big')).toBe(65538);
    expect(decodeRegisters([0x0002, 0x0001], 0, 'uint32', 'little')).toBe(65538);
    expect(decodeRegisters([0xffff, 0xfffe], 0, 'int32', 'big')).toBe(-2);
    expect(decodeRegisters([9, ...f32(125.5)], 1, 'float32', 'big')).toBe(125.5);
    expect(decodeRegisters(f32(0.1, 'little'), 0, 'float32', 'little')).toBeCloseTo(0.1, 6);
    // "Heparin" = He pa ri n\0, NUL padded to 20 chars
    const text = Buffer.alloc(20);
    text.write('Heparin');
    const regs = Array.from({ length: 10 }, (_, i) => text.readUInt16BE(i * 2));
    expect(decodeRegisters(regs, 0, 'string', 'big', 20)).toBe('Heparin');
  });

  it('refuses to decode past the registers it was given', () => {
    expect(() => decodeRegisters([1], 0, 'float32', 'big')).toThrow(RangeError);
  });

  it('plans one read per contiguous run, never across gaps or past 125 registers', () => {
    const p = (key: string, table: 'input' | 'holding', address: number, type: RegisterPoint['type'], length?: number): RegisterPoint => ({
      key,
      table,
      address,
      type,
      ...(length ? { length } : {}),
    });
    const blocks = planReads([
      p('a', 'input', 0, 'uint16'),
      p('b', 'input', 1, 'float32'),
      p('c', 'input', 3, 'uint16'),
      p('d', 'input', 10, 'uint16'),
      p('s', 'holding', 20, 'string', 16),
    ]);
    expect(blocks.map((b) => [b.table, b.start, b.count, b.points.map((x) => x.key).join('')])).toEqual([
      ['input', 0, 4, 'abc'],
      ['input', 10, 1, 'd'],
      ['holding', 20, 8, 's'],
    ]);
    const many = Array.from({ length: 200 }, (_, i) => p(`k${i}`, 'holding', i, 'uint16'));
    expect(planReads(many).map((b) => b.count)).toEqual([125, 75]);
  });
});
