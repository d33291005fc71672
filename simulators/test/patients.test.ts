import { afterEach, describe, expect, it } from 'vitest';
import {
  HOLDING_REGISTER,
  HOLDING_STRING_REGISTERS,
  PATIENT_COMMAND,
  PatientAssociation,
  parsePatientFlags,
  startPumpSimulator,
  syntheticPatient,
  UsageError,
  Ventilator,
  VentilatorMedibus,
  seededRandom,
} from '../dist/index.js';
import { connect, disconnect, freePort, stringAt } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const canary = { mrn: 'CANARY0001', name: 'ZZTESTFAMILY^QQGIVEN', dob: '1911-11-11', sex: 'F' as const, bed: 'ICU9-99' };

describe('synthetic patients', () => {
  it('are deterministic from seed and index, and differ between indexes', () => {
    expect(syntheticPatient(7, 0)).toEqual(syntheticPatient(7, 0));
    expect(syntheticPatient(7, 1)).not.toEqual(syntheticPatient(7, 0));
    expect(syntheticPatient(8, 0)).not.toEqual(syntheticPatient(7, 0));
    const p = syntheticPatient(7, 0);
    expect(p.mrn).toMatch(/^SYN\d{7}$/);
    expect(p.dob).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(p.name).toMatch(/^[A-Z]+\^[A-Z]+$/);
  });

  it('are discharged and the next one admitted at the end of each stay', () => {
    let now = 0;
    const a = new PatientAssociation({ seed: 3, staySeconds: 10, clock: () => now });
    expect(a.current()).toEqual(syntheticPatient(3, 0));
    now = 9_000; // the empty-bed moment before the next admission
    expect(a.current()).toBeUndefined();
    now = 10_500;
    expect(a.current()).toEqual(syntheticPatient(3, 1));
    expect(a.stay()).toBe(1);
  });

  it('CLI flags: a fixed patient, or a seed with stays; mistakes name the flag', () => {
    expect(parsePatientFlags({})).toBeUndefined();
    expect(parsePatientFlags({ patient: 'mrn=CANARY0001,name=ZZTESTFAMILY^QQGIVEN,dob=1911-11-11,sex=F,bed=ICU9-99' })?.fixed).toEqual(canary);
    expect(parsePatientFlags({ patientSeed: '5', patientStay: '1m' })).toEqual({ seed: 5, staySeconds: 60 });
    expect(() => parsePatientFlags({ patientStay: '1m' })).toThrow(UsageError);
    expect(() => parsePatientFlags({ patient: 'mrn=X' })).toThrow(/--patient/);
  });
});

describe('patient fields on the wire, the way each device exposes them', () => {
  it('pump: a read-only block of text in holding registers 70..109 (all NUL without a patient)', async () => {
    const sim = await startPumpSimulator({ port: await freePort(), seed: 1, patient: { seed: 0, fixed: canary } });
    cleanups.push(() => sim.close());
    const c = await connect(sim.port);
    cleanups.push(() => disconnect(c));
    const regs = (await c.readHoldingRegisters(70, 40)).data;
    const at = (field: keyof typeof HOLDING_STRING_REGISTERS & `patient${string}`) =>
      stringAt(regs, HOLDING_REGISTER[field] - 70, HOLDING_STRING_REGISTERS[field]);
    expect([at('patientMrn'), at('patientName'), at('patientDob'), at('patientSex'), at('patientBed')]).toEqual([
      canary.mrn,
      canary.name,
      canary.dob,
      canary.sex,
      canary.bed,
    ]);

    const bare = await startPumpSimulator({ port: await freePort(), seed: 1 });
    cleanups.push(() => bare.close());
    const c2 = await connect(bare.port);
    cleanups.push(() => disconnect(c2));
    expect((await c2.readHoldingRegisters(70, 40)).data.every((r) => r === 0)).toBe(true);
  });

  it('ventilator: a MEDIBUS-style patient record (code + 32-character text), empty without a patient', () => {
    const vent = new Ventilator({ serial: 'V1', random: seededRandom(1) });
    const frame = new VentilatorMedibus(vent, new PatientAssociation({ seed: 0, fixed: canary })).answer(PATIENT_COMMAND);
    const data = frame.subarray(2, frame.length - 3).toString('latin1');
    expect(data).toHaveLength(5 * 34);
    expect(data.slice(0, 2)).toBe('50');
    expect(data.slice(2, 34).trim()).toBe(canary.mrn);
    expect(data.slice(34, 36)).toBe('51');
    expect(data.slice(36, 68).trim()).toBe(canary.name);
    const empty = new VentilatorMedibus(vent).answer(PATIENT_COMMAND);
    expect(empty.length).toBe(5); // SOH, command, checksum (2), CR
  });
});
