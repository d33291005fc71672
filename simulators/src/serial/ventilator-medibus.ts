import type { PatientAssociation } from '../devices/patients.js';
import { VENT_IDENTITY, type Ventilator } from '../devices/ventilator.js';
import { CommandReader, CORRUPT, field, response } from './medibus-codec.js';

const hex = (code: number) => code.toString(16).toUpperCase().padStart(2, '0');

/** Patient data (medtel extension of the MEDIBUS-style set): records of 2-hex code + 32-character text. */
export const PATIENT_COMMAND = 0x2d;
export const PATIENT_RECORD = { mrn: 0x50, name: 0x51, dob: 0x52, sex: 0x53, bed: 0x54 } as const;
export const PATIENT_TEXT_WIDTH = 32;

/**
 * Answers MEDIBUS-style commands from the ventilator model: device id, measured
 * data, settings, alarms, patient data, NOP and ICC (empty echo). Returns the response frames
 * for the bytes received; an unknown command gets an empty echo, a corrupt one 0x15.
 */
export class VentilatorMedibus {
  private readonly reader = new CommandReader();
  /** Commands received, by command byte: lets a test prove what the agent sent (e.g. only reads). */
  readonly commandsSeen = new Map<number, number>();

  constructor(
    private readonly vent: Ventilator,
    private readonly patients?: PatientAssociation,
  ) {}

  receive(bytes: Buffer): Buffer[] {
    return this.reader.push(bytes).map((c) => {
      if ('corrupt' in c) return response(CORRUPT);
      this.commandsSeen.set(c.cmd, (this.commandsSeen.get(c.cmd) ?? 0) + 1);
      return this.answer(c.cmd);
    });
  }

  answer(cmd: number): Buffer {
    switch (cmd) {
      case 0x52:
        return response(cmd, `${VENT_IDENTITY.deviceId}'${VENT_IDENTITY.model}'${field(VENT_IDENTITY.firmware, 11).trimStart().padEnd(11)}${this.vent.serial}`);
      case 0x24: {
        const m = this.vent.measured();
        const records: Array<[number, number]> = [
          [0x88, m.tidalVolumeMl],
          [0x78, m.peepMbar],
          [0x7d, m.peakMbar],
          [0x74, m.plateauMbar],
          [0x73, m.meanMbar],
          [0xb8, m.minuteVolumeL],
          [0xd6, m.rateBpm],
          [0xf0, m.fio2Pct],
          [0xe6, m.etco2MmHg],
          [0xe7, m.ieInspiration],
          [0xe8, m.ieExpiration],
        ];
        return response(cmd, records.map(([code, v]) => `${hex(code)}${field(v, 4)}`).join(''));
      }
      case 0x29: {
        const s = this.vent.settings;
        const records: Array<[number, number | string]> = [
          [0xc0, s.mode],
          [0x40, s.tidalVolumeMl],
          [0x0a, s.rateBpm],
          [0x0b, s.peepMbar],
          [0x01, s.fio2Pct],
        ];
        return response(cmd, records.map(([code, v]) => `${hex(code)}${field(v, 5)}`).join(''));
      }
      case 0x27:
        return response(
          cmd,
          this.vent
            .alarms()
            .map((a) => `${a.priority}${hex(a.code)}${a.text.padEnd(12).slice(0, 12)}`)
            .join(''),
        );
      case PATIENT_COMMAND: {
        // No patient associated: an empty record list, as after a discharge.
        const p = this.patients?.current();
        if (!p) return response(cmd);
        return response(
          cmd,
          (Object.entries(PATIENT_RECORD) as Array<[keyof typeof PATIENT_RECORD, number]>)
            .map(([key, code]) => `${hex(code)}${p[key].padEnd(PATIENT_TEXT_WIDTH).slice(0, PATIENT_TEXT_WIDTH)}`)
            .join(''),
        );
      }
      default:
        // ICC, NOP and anything we do not model: an empty echo.
        return response(cmd);
    }
  }
}
