import { ecgStreamDriver } from '../drivers/ecg-stream/index.js';
import { decodeInfo, EcgStreamParser, FrameType, PayloadError } from '../drivers/ecg-stream/frame.js';
import { openProbeLink } from './probe-link.js';
import { type Identity, identityMatches, type ProbeFn } from './types.js';

/** A port that sends no valid frame at all within this time is not streaming (or not at these settings). */
const FIRST_FRAME_MS = 2000;

/**
 * Listen-only identification of a streaming monitor: opens the port, writes
 * nothing, and waits for the info frame that carries model and serial. Only
 * frames that pass their CRC count; the waveform and patient frames seen on
 * the way are dropped unread (they may hold patient data).
 */
export const listenEcg: ProbeFn = async (target, profile, line) => {
  const plan = profile.identifyPlan;
  const prepared = ecgStreamDriver.prepare({ protocol: 'medtel-ecg', path: target.path }, profile, { configFile: profile.file, field: 'identify' });
  const parser = new EcgStreamParser();
  let sawFrame = false;
  let settle: (result: Awaited<ReturnType<ProbeFn>>) => void = () => undefined;
  const done = new Promise<Awaited<ReturnType<ProbeFn>>>((r) => {
    settle = r;
  });
  const onData = (bytes: Buffer) => {
    for (const frame of parser.push(bytes)) {
      sawFrame = true;
      if (frame.type !== FrameType.info) continue;
      try {
        const info = decodeInfo(frame.payload);
        const identity: Identity = {};
        for (const { field, read } of prepared.identity) {
          const value = info.get(read.info);
          if (value) identity[field as keyof Identity] = value;
        }
        settle(identityMatches(plan.match, identity) ? { outcome: 'matched', identity } : { outcome: 'mismatch' });
      } catch (err) {
        if (!(err instanceof PayloadError)) throw err;
      }
    }
  };
  let link: Awaited<ReturnType<typeof openProbeLink>>;
  try {
    link = await openProbeLink(target.path, line, onData);
  } catch {
    return { outcome: 'error' };
  }
  const quiet = setTimeout(
    () => {
      if (!sawFrame) settle({ outcome: 'no-answer' });
    },
    Math.min(FIRST_FRAME_MS, plan.listenMs),
  );
  const limit = setTimeout(() => settle({ outcome: sawFrame ? 'mismatch' : 'no-answer' }), plan.listenMs);
  try {
    return await done;
  } finally {
    clearTimeout(quiet);
    clearTimeout(limit);
    await link.close();
  }
};
