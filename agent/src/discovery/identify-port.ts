import type { PortAttempt } from '@medtel/shared';
import type { AgentMetrics } from '../metrics.js';
import type { IdentifyFamily, IdentifyPlan } from '../profiles/identify.js';
import type { ResolvedProfile } from '../profiles/load.js';
import { listenEcg } from './ecg-listener.js';
import { probeMedibus } from './medibus-prober.js';
import { probeModbusRtu } from './modbus-rtu-prober.js';
import { delay } from './probe-link.js';
import type { Identification, PortTarget, ProbeFn } from './types.js';

/** One prober per serial protocol family; adding a family is a file and a line here. (OPC UA is network-only: network-targets.ts.) */
const PROBERS: Partial<Record<IdentifyFamily, ProbeFn>> = {
  'medtel-ecg': listenEcg,
  medibus: probeMedibus,
  modbus: probeModbusRtu,
};

/** Pause between two attempts on one port: a device that is slow to recover from a wrong baud rate gets its breath. */
const ATTEMPT_GAP_MS = 100;

type Identifiable = ResolvedProfile & { identifyPlan: IdentifyPlan };

/** The documented order: listen-only first (sending nothing can disturb nothing), then polled; within each, by `order`, then name. */
export function probeOrder(profiles: ResolvedProfile[]): Identifiable[] {
  return profiles
    .filter((p): p is Identifiable => p.identifyPlan !== undefined)
    .sort(
      (a, b) =>
        Number(a.identifyPlan.method !== 'listen') - Number(b.identifyPlan.method !== 'listen') ||
        a.identifyPlan.order - b.identifyPlan.order ||
        a.profile.localeCompare(b.profile),
    );
}

/**
 * Tries each profile's identification on one port, each of its line settings
 * in turn, until one matches. Returns what was tried (profile, settings, unit
 * ids, outcome), never what was received.
 */
export async function identifyPort(
  target: PortTarget,
  profiles: ResolvedProfile[],
  o: { metrics?: AgentMetrics; cancelled?: () => boolean } = {},
): Promise<{ identified?: Identification; tried: PortAttempt[] }> {
  const tried: PortAttempt[] = [];
  // A terminal server's line is set on the server: one attempt per profile, no settings to report.
  const tcp = target.path.startsWith('tcp://');
  for (const profile of probeOrder(profiles)) {
    const plan = profile.identifyPlan;
    const prober = PROBERS[plan.family];
    // A profile without line settings is network-only (OPC UA, Modbus TCP): never tried on a serial port.
    if (!prober) continue;
    for (const line of tcp ? plan.lines.slice(0, 1) : plan.lines) {
      if (o.cancelled?.()) return { tried };
      if (tried.length > 0) await delay(ATTEMPT_GAP_MS);
      const result = await prober(target, profile, line.settings);
      o.metrics?.discoveryProbes.inc({ profile: profile.profile, outcome: result.outcome });
      tried.push({
        profile: profile.profile,
        ...(tcp ? {} : { settings: line.text }),
        ...(plan.unitIds.length > 0 ? { unitIds: unitIdsText(plan.unitIds) } : {}),
        outcome: result.outcome,
      });
      if (result.outcome === 'matched') {
        return {
          identified: {
            profile,
            identity: result.identity,
            method: plan.method,
            ...(tcp ? {} : { settings: line.text }),
            line: line.settings,
            ...(result.unitId !== undefined ? { unitId: result.unitId } : {}),
          },
          tried,
        };
      }
    }
  }
  return { tried };
}

/** [1,2,3,4,7] -> "1-4,7" (fits the contract's 64 characters). */
function unitIdsText(ids: number[]): string {
  const parts: string[] = [];
  let start = ids[0] as number;
  let prev = start;
  for (const id of [...ids.slice(1), Number.NaN]) {
    if (id === prev + 1) {
      prev = id;
      continue;
    }
    parts.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = id;
    prev = id;
  }
  return parts.join(',').slice(0, 64);
}
