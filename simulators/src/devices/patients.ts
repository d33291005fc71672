import { seededRandom } from '../random.js';

/**
 * Synthetic patients for the simulated devices: deterministic from a seed, so a
 * test or a bug report names `--patient-seed N` and gets the same people. The
 * names are drawn from short generic lists and the MRNs carry a "SYN" prefix:
 * nobody real. A device is associated with one patient at a time and
 * re-associated on discharge/admit (every `stay`), as a bedside device is.
 */
export interface SyntheticPatient {
  /** Medical record number, e.g. SYN4821937. */
  mrn: string;
  /** HL7-style FAMILY^GIVEN. */
  name: string;
  /** Date of birth, YYYY-MM-DD. */
  dob: string;
  sex: 'F' | 'M';
  /** Location, e.g. ICU2-07. */
  bed: string;
}

const FAMILY = ['SMITH', 'GARCIA', 'MULLER', 'ROSSI', 'NOWAK', 'SILVA', 'KIM', 'OKAFOR', 'DUBOIS', 'JANSEN', 'NIELSEN', 'TANAKA'];
const GIVEN_F = ['ANNA', 'MARIA', 'SOFIA', 'LEA', 'EMMA', 'IDA', 'NORA', 'ZOE'];
const GIVEN_M = ['JONAS', 'LUCA', 'NOAH', 'ELIAS', 'OMAR', 'LEO', 'PAUL', 'IVAN'];
const UNITS = ['ICU1', 'ICU2', 'CCU', 'WARD3', 'OR4'];

const pick = <T>(list: readonly T[], r: number): T => list[Math.floor(r * list.length)] as T;

/** Patient number `index` of the sequence `seed` (the same pair always gives the same patient). */
export function syntheticPatient(seed: number, index: number): SyntheticPatient {
  const random = seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const sex = random() < 0.5 ? 'F' : 'M';
  const given = pick(sex === 'F' ? GIVEN_F : GIVEN_M, random());
  const family = pick(FAMILY, random());
  const year = 1930 + Math.floor(random() * 90);
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  const mrn = `SYN${String(Math.floor(random() * 10_000_000)).padStart(7, '0')}`;
  const bed = `${pick(UNITS, random())}-${String(1 + Math.floor(random() * 24)).padStart(2, '0')}`;
  return { mrn, name: `${family}^${given}`, dob: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`, sex, bed };
}

const FIELD_LIMITS = { mrn: 20, name: 32, dob: 10, sex: 1, bed: 16 } as const;

/**
 * A fixed patient from `mrn=...,name=...,dob=...,sex=...,bed=...` (the leak test's
 * canary). Printable ASCII without `,;=|'` (they delimit the device records).
 */
export function parsePatientSpec(text: string): SyntheticPatient {
  const fields = new Map(
    text.split(',').map((kv) => {
      const at = kv.indexOf('=');
      return [kv.slice(0, at).trim(), kv.slice(at + 1)] as const;
    }),
  );
  const out: Record<string, string> = {};
  for (const [key, max] of Object.entries(FIELD_LIMITS)) {
    const value = fields.get(key);
    if (value === undefined || value.length === 0 || value.length > max || !/^[\x20-\x7e]+$/.test(value) || /[,;=|']/.test(value)) {
      throw new RangeError(`patient ${key}: expected 1 to ${max} printable ASCII characters without , ; = | '`);
    }
    out[key] = value;
  }
  if (out['sex'] !== 'F' && out['sex'] !== 'M') throw new RangeError('patient sex: expected F or M');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(out['dob'] as string)) throw new RangeError('patient dob: expected YYYY-MM-DD');
  return out as unknown as SyntheticPatient;
}

export interface PatientAssociationOptions {
  /** Sequence of generated patients; patient 0 is admitted at start. */
  seed: number;
  /** A fixed patient instead of the generated ones (never re-associated). */
  fixed?: SyntheticPatient;
  /** Seconds each generated patient stays; then discharge, a short empty bed, the next admit. Default: for ever. */
  staySeconds?: number;
  clock?: () => number;
}

/** Which patient a device is associated with right now (undefined: no patient, e.g. between discharge and admit). */
export class PatientAssociation {
  private readonly started: number;
  private readonly clock: () => number;

  constructor(private readonly o: PatientAssociationOptions) {
    this.clock = o.clock ?? (() => performance.now());
    this.started = this.clock();
  }

  /** Number of the current stay (0, 1, ...): changes at each re-association. */
  stay(): number {
    const s = this.o.staySeconds;
    return this.o.fixed || !s ? 0 : Math.floor((this.clock() - this.started) / 1000 / s);
  }

  current(): SyntheticPatient | undefined {
    if (this.o.fixed) return this.o.fixed;
    const s = this.o.staySeconds;
    if (!s) return syntheticPatient(this.o.seed, 0);
    const elapsed = (this.clock() - this.started) / 1000;
    // The last moments of every stay the bed is empty: devices show no patient, as after a discharge.
    const gap = Math.min(2, s / 4);
    if (elapsed % s >= s - gap) return undefined;
    return syntheticPatient(this.o.seed, Math.floor(elapsed / s));
  }
}
