import { PatientAssociation, type PatientAssociationOptions } from './devices/patients.js';
import { Ventilator, type VentilatorOptions } from './devices/ventilator.js';
import { corruptChecksum } from './serial/medibus-codec.js';
import { SerialSimRuntime, type SerialSimOptions, type SerialSimStats } from './serial/serial-sim.js';
import { VentilatorMedibus } from './serial/ventilator-medibus.js';

export interface VentilatorSimulatorOptions extends SerialSimOptions, Omit<VentilatorOptions, 'random'> {
  /** Delay before each answer, ms (a real device takes a few). */
  answerDelayMs?: number;
  /** A synthetic patient answered to the patient-data request (default: none). */
  patient?: PatientAssociationOptions;
}

export interface VentilatorSimulator {
  readonly ventilator: Ventilator;
  readonly where: string;
  readonly seed: number;
  stats(): SerialSimStats & { requests: number };
  /** Commands received so far, by command byte (0x52 device id, 0x27 alarms...). */
  commandsSeen(): ReadonlyMap<number, number>;
  unplug(forMs: number): Promise<void>;
  close(): Promise<void>;
}

/** `medtel-sim ventilator`: the ventilator model answering MEDIBUS-style polls on a serial line. */
export async function startVentilatorSimulator(o: VentilatorSimulatorOptions): Promise<VentilatorSimulator> {
  const rt = await SerialSimRuntime.open(o);
  const ventilator = new Ventilator({ ...o, random: rt.random });
  const protocol = new VentilatorMedibus(ventilator, o.patient ? new PatientAssociation(o.patient) : undefined);
  let requests = 0;
  rt.link.onData((bytes) => {
    for (const answer of protocol.receive(bytes)) {
      requests += 1;
      const send = () => rt.send(answer, corruptChecksum);
      if (o.answerDelayMs) setTimeout(send, o.answerDelayMs).unref();
      else send();
    }
  });
  return {
    ventilator,
    where: rt.link.description,
    seed: rt.seed,
    stats: () => ({ ...rt.stats(), requests }),
    commandsSeen: () => protocol.commandsSeen,
    unplug: (ms) => rt.unplug(ms),
    close: () => rt.close(),
  };
}
