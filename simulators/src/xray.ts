import { XrayGenerator, type XrayScenario } from './devices/xray-generator.js';
import { corruptRtu, RtuRequestReader, rtuReply } from './serial/rtu-slave.js';
import { SerialSimRuntime, type SerialSimOptions, type SerialSimStats } from './serial/serial-sim.js';

export interface XraySimulatorOptions extends SerialSimOptions {
  /** The generators on the line: unit id and serial number. */
  units: Array<{ unitId: number; serial: string }>;
  /** Unit ids that never answer (a dead generator on the shared line). */
  deadUnits?: number[];
  scenario?: XrayScenario;
  scenarioAfterS?: number;
  /** Time a unit takes to answer, ms (default 3). */
  answerDelayMs?: number;
}

export interface XrayLineStats extends SerialSimStats {
  requests: number;
  /** Requests that arrived while an earlier one was still being answered: must stay 0. */
  overlaps: number;
  /** Shortest silence seen between the end of an answer and the next request, ms. */
  minGapMs: number;
}

export interface XraySimulator {
  readonly generators: Map<number, XrayGenerator>;
  readonly where: string;
  stats(): XrayLineStats;
  unplug(forMs: number): Promise<void>;
  close(): Promise<void>;
}

/** `medtel-sim xray`: several X-ray generators sharing one Modbus RTU line. */
export async function startXraySimulator(o: XraySimulatorOptions): Promise<XraySimulator> {
  const rt = await SerialSimRuntime.open(o);
  const generators = new Map(
    o.units.map(({ unitId, serial }) => [
      unitId,
      new XrayGenerator({
        unitId,
        serial,
        random: rt.random,
        ...(o.scenario ? { scenario: o.scenario } : {}),
        ...(o.scenarioAfterS !== undefined ? { scenarioAfterS: o.scenarioAfterS } : {}),
      }),
    ]),
  );
  const dead = new Set(o.deadUnits ?? []);
  const reader = new RtuRequestReader();
  const delay = o.answerDelayMs ?? 3;
  let requests = 0;
  let overlaps = 0;
  let answering = false;
  let lastAnswerAt = 0;
  let minGapMs = Number.POSITIVE_INFINITY;
  rt.link.onData((bytes) => {
    for (const req of reader.push(bytes)) {
      requests += 1;
      if (answering) overlaps += 1;
      if (lastAnswerAt > 0) minGapMs = Math.min(minGapMs, performance.now() - lastAnswerAt);
      const unit = generators.get(req.unit);
      if (!unit || dead.has(req.unit)) continue; // nobody (alive) at that address: silence
      answering = true;
      setTimeout(() => {
        answering = false;
        lastAnswerAt = performance.now();
        rt.send(
          rtuReply({ holding: () => unit.holdingRegisters(), input: () => unit.inputRegisters(), writeCoil: (a, on) => unit.writeCoil(a, on) }, req),
          corruptRtu,
        );
      }, delay).unref();
    }
  });
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    for (const g of generators.values()) g.tick((now - last) / 1000);
    last = now;
  }, 100);
  return {
    generators,
    where: rt.link.description,
    stats: () => ({ ...rt.stats(), requests, overlaps, minGapMs }),
    unplug: (ms) => rt.unplug(ms),
    close: async () => {
      clearInterval(timer);
      await rt.close();
    },
  };
}
