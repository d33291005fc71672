import { PatientAssociation, type PatientAssociationOptions } from './devices/patients.js';
import { ECG_IDENTITY, EcgMonitor, type EcgMonitorOptions } from './devices/ecg-monitor.js';
import { corruptCrc, ECG_FRAME, ecgFrame, infoPayload, numericsPayload, wavePayload } from './serial/ecg-codec.js';
import { SerialSimRuntime, type SerialSimOptions, type SerialSimStats } from './serial/serial-sim.js';

export interface EcgSimulatorOptions extends SerialSimOptions, Omit<EcgMonitorOptions, 'random'> {
  /** How often a waveform frame goes out, ms (default 20: 10 samples per frame at 500 Hz). */
  frameMs?: number;
  /** A synthetic patient sent in patient info frames (default: none). */
  patient?: PatientAssociationOptions;
}

export interface EcgSimulator {
  readonly monitor: EcgMonitor;
  readonly where: string;
  readonly seed: number;
  /** Samples per lead generated so far (sent or not): the device's sample counter. */
  samplesGenerated(): number;
  stats(): SerialSimStats;
  unplug(forMs: number): Promise<void>;
  close(): Promise<void>;
}

/** `medtel-sim ecg`: a monitor streaming waveforms, numerics each second and its info every 5 s. */
export async function startEcgSimulator(o: EcgSimulatorOptions): Promise<EcgSimulator> {
  const rt = await SerialSimRuntime.open(o);
  const monitor = new EcgMonitor({ ...o, random: rt.random });
  const frameMs = o.frameMs ?? 20;
  const started = performance.now();
  let seq = 0;
  let generated = 0;
  let lastNumerics = -Infinity;
  let lastInfo = -Infinity;
  const patients = o.patient ? new PatientAssociation(o.patient) : undefined;
  let lastPatient: string | undefined;
  const send = (type: number, payload: Buffer) => rt.send(ecgFrame(type, seq++, payload), corruptCrc);
  const tick = () => {
    const now = performance.now();
    if (now - lastInfo >= 5000) {
      lastInfo = now;
      send(ECG_FRAME.info, infoPayload({ model: ECG_IDENTITY.model, serial: o.serial, firmware: ECG_IDENTITY.firmware, rate: o.rateHz, leads: o.leads }));
    }
    // Patient info with the device info, and at once when the patient changes (admit, discharge).
    if (patients) {
      const p = patients.current();
      const payload = infoPayload(p ? { mrn: p.mrn, name: p.name, dob: p.dob, sex: p.sex, bed: p.bed } : {});
      const key = payload.toString('latin1');
      if (lastInfo === now || key !== lastPatient) {
        lastPatient = key;
        send(ECG_FRAME.patient, payload);
      }
    }
    // The counter follows real time, not timer callbacks: a late timer sends more samples, never fewer.
    const due = Math.floor(((now - started) / 1000) * o.rateHz);
    while (generated < due) {
      const count = Math.min(due - generated, 255, Math.floor(1000 / (o.leads * 2)));
      const samples: number[][] = Array.from({ length: o.leads }, () => []);
      for (let s = 0; s < count; s++) {
        monitor.sample(generated + s).forEach((v, l) => {
          samples[l]?.push(v);
        });
      }
      send(ECG_FRAME.wave, wavePayload(generated, samples));
      generated += count;
    }
    if (now - lastNumerics >= 1000) {
      lastNumerics = now;
      send(ECG_FRAME.numerics, numericsPayload(monitor.numerics()));
    }
  };
  const timer = setInterval(tick, frameMs);
  return {
    monitor,
    where: rt.link.description,
    seed: rt.seed,
    samplesGenerated: () => generated,
    stats: () => rt.stats(),
    unplug: (ms) => rt.unplug(ms),
    close: async () => {
      clearInterval(timer);
      await rt.close();
    },
  };
}
