import { describe, expect, it } from 'vitest';
import {
  AlarmFlag,
  HOLDING_REGISTER_COUNT,
  holdingRegisters,
  INPUT_REGISTER_COUNT,
  InfusionPump,
  inputRegisters,
  ModbusException,
  pumpModbusVector,
  PumpState,
  writeHoldingRegisters,
} from '../dist/index.js';
import { float32At, float32Registers, stringAt } from './helpers.js';

function exceptionCode(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ModbusException);
    return (err as ModbusException).modbusErrorCode;
  }
  return undefined;
}

describe('infusion pump register map (no network)', () => {
  it('lays out the input registers as documented', () => {
    const pump = new InfusionPump({ seed: 1, rateMlPerH: 250, vtbiMl: 500 });
    pump.tick(36); // 2.5 mL
    const regs = inputRegisters(pump.snapshot());
    expect(regs).toHaveLength(INPUT_REGISTER_COUNT);
    expect(regs[0]).toBe(PumpState.Running);
    expect(float32At(regs, 1)).toBe(250);
    expect(float32At(regs, 3)).toBe(500);
    expect(float32At(regs, 5)).toBeCloseTo(2.5, 4);
    expect(float32At(regs, 7)).toBeCloseTo(497.5, 4);
    expect(regs[9]).toBe(120); // 497.5 / 250 h = 119.4 min, rounded up
    expect(regs[10]).toBeGreaterThan(55);
    expect(regs[10]).toBeLessThan(65);
    expect(regs[11]).toBe(100);
    expect(regs[12]).toBe(0);
  });

  it('encodes a negative pressure as int16 two’s complement', () => {
    const regs = inputRegisters({ ...new InfusionPump().snapshot(), linePressureMmHg: -12 });
    expect(regs[10]).toBe(0x10000 - 12);
  });

  it('lays out the holding registers, zeros between the blocks', () => {
    const regs = holdingRegisters(new InfusionPump({ serial: 'SN-1234567890ABC', drugName: 'Noradrenaline 4mg/50' }).snapshot());
    expect(regs).toHaveLength(HOLDING_REGISTER_COUNT);
    expect(stringAt(regs, 0, 10)).toBe('Noradrenaline 4mg/50'); // exactly 20 characters, no NUL
    expect(regs[0]).toBe(('N'.charCodeAt(0) << 8) | 'o'.charCodeAt(0)); // first character in the high byte
    expect(float32At(regs, 10)).toBe(100);
    expect(regs[12]).toBe(300);
    expect(stringAt(regs, 20, 8)).toBe('SN-1234567890ABC');
    expect(stringAt(regs, 30, 8)).toBe('MT-LVP-100');
    expect(stringAt(regs, 40, 4)).toBe('1.4.2');
    expect(stringAt(regs, 50, 16)).toBe('medtel simulated');
    for (const gap of [13, 14, 15, 16, 17, 18, 19, 28, 29, 38, 39, 44, 45, 46, 47, 48, 49]) expect(regs[gap]).toBe(0);
  });

  it('answers exception 2 outside the map and for read-only or half-float writes', () => {
    const vector = pumpModbusVector(new InfusionPump());
    expect(vector.readInputRegisters(0, 15)).toHaveLength(15);
    expect(exceptionCode(() => vector.readInputRegisters(14, 2))).toBe(2);
    expect(exceptionCode(() => vector.readInputRegisters(15, 1))).toBe(2);
    expect(vector.readHoldingRegisters(0, 110)).toHaveLength(110);
    expect(exceptionCode(() => vector.readHoldingRegisters(110, 1))).toBe(2);
    expect(exceptionCode(() => vector.readCoils(3, 1))).toBe(2);
    expect(exceptionCode(() => vector.readDiscreteInputs(0, 3))).toBe(2);
    expect(exceptionCode(() => vector.writeCoil(3, true))).toBe(2);
    expect(exceptionCode(() => vector.writeRegisters(20, [0x4142]))).toBe(2); // serial is read-only
    expect(exceptionCode(() => vector.writeRegisters(12, [300, 0]))).toBe(2); // 13 is a gap
    expect(exceptionCode(() => vector.writeRegisters(11, [0]))).toBe(2); // half the float
  });

  it('validates writes whole before applying any of them (exception 3)', () => {
    const pump = new InfusionPump();
    const vector = pumpModbusVector(pump);
    const before = holdingRegisters(pump.snapshot());
    // A good name and concentration but a bad limit: nothing changes.
    const name = [0x4d6f, 0x7270, 0x6869, 0x6e65, 0, 0, 0, 0, 0, 0]; // "Morphine"
    expect(exceptionCode(() => vector.writeRegisters(0, [...name, ...float32Registers(1), 99]))).toBe(3);
    expect(holdingRegisters(pump.snapshot())).toEqual(before);
    expect(exceptionCode(() => vector.writeRegisters(12, [1001]))).toBe(3);
    expect(exceptionCode(() => vector.writeRegisters(10, float32Registers(0)))).toBe(3);
    expect(exceptionCode(() => vector.writeRegisters(10, float32Registers(Number.NaN)))).toBe(3);
    expect(exceptionCode(() => vector.writeRegisters(0, [0x4101]))).toBe(3); // control character

    writeHoldingRegisters(pump, 0, [...name, ...float32Registers(2.5), 450]);
    expect(pump.snapshot()).toMatchObject({ drugName: 'Morphine', concentrationMgPerMl: 2.5, occlusionLimitMmHg: 450 });
  });

  it('starts, pauses and resets through the coils', () => {
    const pump = new InfusionPump({ running: false, rateMlPerH: 1200, vtbiMl: 1 });
    const vector = pumpModbusVector(pump);
    expect(vector.readCoils(0, 2)).toEqual([false, false]);
    vector.writeCoil(0, true);
    expect(vector.readCoils(0, 1)).toEqual([true]);
    vector.writeCoil(0, false);
    expect(pump.snapshot().state).toBe(PumpState.Paused);
    vector.writeCoil(0, true);
    pump.tick(4); // 1 mL at 1200 mL/h takes 3 s: VTBI complete
    expect(vector.readDiscreteInputs(0, 2)).toEqual([true, true]);
    vector.writeCoil(0, true); // refused, not an error: coil 0 stays 0
    expect(vector.readCoils(0, 1)).toEqual([false]);
    vector.writeCoil(1, true);
    expect(pump.snapshot().alarmFlags & AlarmFlag.VtbiComplete).toBe(0);
    expect(vector.readCoils(1, 1)).toEqual([false]);
    expect(vector.readDiscreteInputs(0, 1)).toEqual([false]);
  });

  it('runs a 2 s self-test from coil 2: status in input 13, result code in input 14, infusion untouched', () => {
    const pump = new InfusionPump({ rateMlPerH: 125 });
    const vector = pumpModbusVector(pump);
    expect(vector.readInputRegisters(13, 2)).toEqual([0, 0]);
    vector.writeCoil(2, true);
    expect(vector.readCoils(2, 1)).toEqual([true]);
    expect(vector.readInputRegisters(13, 1)).toEqual([1]);
    pump.tick(1.5);
    expect(vector.readInputRegisters(13, 1)).toEqual([1]);
    pump.tick(0.6);
    expect(vector.readInputRegisters(13, 2)).toEqual([2, 0]);
    expect(vector.readCoils(2, 1)).toEqual([false]);
    expect(pump.snapshot()).toMatchObject({ state: PumpState.Running, rateMlPerH: 125, occlusionLimitMmHg: 300 });
  });

  it('fails the self-test with code 1 (pressure sensor) in the selftest-fail scenario', () => {
    const pump = new InfusionPump({ scenario: { kind: 'selftest-fail' } });
    const vector = pumpModbusVector(pump);
    vector.writeCoil(2, true);
    pump.tick(2.1);
    expect(vector.readInputRegisters(13, 2)).toEqual([2, 1]);
  });
});
