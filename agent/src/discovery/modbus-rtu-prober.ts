import { registerMap } from '../drivers/modbus/config.js';
import { decodeRegisters, planReads } from '../drivers/modbus/registers.js';
import { encodeReadRequest, type RtuReply, RtuReplyReader } from '../drivers/modbus/rtu-frame.js';
import { delay, openProbeLink } from './probe-link.js';
import { type Identity, identityMatches, type ProbeFn } from './types.js';

/** Silence kept between two requests on the line (the drivers' default inter-frame gap is 5 ms; a probe is gentler). */
const GAP_MS = 20;

/**
 * Modbus RTU identification: for each unit id the profile names, reads its
 * identity registers with function 03 (holding) or 04 (input), nothing else:
 * the request encoder used here can only build reads. The first unit whose
 * identity matches is the device; a unit that does not answer costs one timeout.
 */
export const probeModbusRtu: ProbeFn = async (target, profile, line) => {
  const plan = profile.identifyPlan;
  const map = registerMap(profile);
  const blocks = planReads(map.identityPoints);
  let reader: { r: RtuReplyReader; resolve(reply: RtuReply): void } | undefined;
  let link: Awaited<ReturnType<typeof openProbeLink>>;
  try {
    link = await openProbeLink(target.path, line, (bytes) => {
      const reply = reader?.r.push(bytes);
      if (reply && reader) reader.resolve(reply);
    });
  } catch {
    return { outcome: 'error' };
  }
  const read = (unit: number, fn: 3 | 4, start: number, count: number) =>
    new Promise<RtuReply | undefined>((resolve) => {
      const timer = setTimeout(() => {
        reader = undefined;
        resolve(undefined);
      }, plan.timeoutMs);
      reader = {
        r: new RtuReplyReader(unit, fn, () => undefined),
        resolve: (reply) => {
          clearTimeout(timer);
          reader = undefined;
          resolve(reply);
        },
      };
      link.write(encodeReadRequest(unit, fn, start, count)).catch(() => {
        clearTimeout(timer);
        reader = undefined;
        resolve(undefined);
      });
    });
  let answered = false;
  try {
    for (const unit of plan.unitIds) {
      const identity: Identity = {};
      let ok = true;
      for (const block of blocks) {
        const reply = await read(unit, block.table === 'holding' ? 3 : 4, block.start, block.count);
        await delay(GAP_MS);
        if (!reply || !('registers' in reply)) {
          ok = false;
          if (reply) answered = true;
          break;
        }
        answered = true;
        for (const point of block.points) {
          const value = decodeRegisters(reply.registers, point.address - block.start, point.type, map.wordOrder, point.length);
          if (value !== '') identity[point.key as keyof Identity] = String(value);
        }
      }
      if (ok && identityMatches(plan.match, identity)) return { outcome: 'matched', identity, unitId: unit };
    }
    return { outcome: answered ? 'mismatch' : 'no-answer' };
  } catch {
    return { outcome: 'error' };
  } finally {
    await link.close();
  }
};
