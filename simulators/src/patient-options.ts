import type { Command } from 'commander';
import { type PatientAssociationOptions, parsePatientSpec } from './devices/patients.js';
import { parseSeconds } from './serial-options.js';
import { UsageError } from './pump-options.js';

/** `--patient-seed`, `--patient`, `--patient-stay`: the synthetic patient a simulator shows (docs/simulators/patients.md). */
export interface PatientCliFlags {
  patientSeed?: string;
  patient?: string;
  patientStay?: string;
}

export function addPatientFlags(cmd: Command): Command {
  return cmd
    .option('--patient-seed <n>', 'associate generated synthetic patients (deterministic from this seed)')
    .option('--patient <spec>', 'a fixed synthetic patient: mrn=...,name=FAMILY^GIVEN,dob=YYYY-MM-DD,sex=F|M,bed=...')
    .option('--patient-stay <duration>', 'with --patient-seed: discharge and admit the next patient this often (default: never)');
}

/** Undefined when no patient flag is given: the device shows no patient. */
export function parsePatientFlags(flags: PatientCliFlags): PatientAssociationOptions | undefined {
  if (flags.patient !== undefined && flags.patientSeed !== undefined)
    throw new UsageError('--patient', undefined, 'give --patient or --patient-seed, not both');
  if (flags.patientStay !== undefined && flags.patientSeed === undefined) throw new UsageError('--patient-stay', undefined, 'only applies with --patient-seed');
  if (flags.patient !== undefined) {
    try {
      return { seed: 0, fixed: parsePatientSpec(flags.patient) };
    } catch (err) {
      throw new UsageError('--patient', flags.patient, (err as Error).message);
    }
  }
  if (flags.patientSeed === undefined) return undefined;
  if (!/^\d{1,10}$/.test(flags.patientSeed) || Number(flags.patientSeed) > 0xffff_ffff) {
    throw new UsageError('--patient-seed', flags.patientSeed, 'an integer between 0 and 4294967295');
  }
  const stay = parseSeconds('--patient-stay', flags.patientStay);
  return { seed: Number(flags.patientSeed), ...(stay !== undefined ? { staySeconds: stay } : {}) };
}
