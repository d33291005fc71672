import type { Completion } from './pm-schedule.js';

/**
 * The measures an EC committee reads (HTM-NOTES 5), computed from plain
 * records so they can be checked by hand: on-time PM by risk class with life
 * support apart, MTTR, MTBF, uptime and unable-to-locate.
 */

export type RiskClass = 'life-support' | 'high-risk' | 'other';

export function riskClass(d: { lifeSupport: boolean; highRisk: boolean }): RiskClass {
  return d.lifeSupport ? 'life-support' : d.highRisk ? 'high-risk' : 'other';
}

export interface PmTally {
  /** Occurrences that fell due: completed in the period plus windows that closed in it undone. */
  due: number;
  onTime: number;
  early: number;
  late: number;
  missed: number;
  /** (on time + early) / due, in percent; null when nothing fell due. The goal is 100. */
  onTimePercent: number | null;
}

const percent = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 100);

export function tallyPm(completions: Array<{ completion: Completion }>, missed: number): PmTally {
  const count = (c: Completion) => completions.filter((x) => x.completion === c).length;
  const onTime = count('on-time');
  const early = count('early');
  const late = count('late');
  const due = completions.length + missed;
  return { due, onTime, early, late, missed, onTimePercent: percent(onTime + early, due) };
}

/** Overall and per risk class (life-support, high-risk without life support, other). */
export type PmKpis = PmTally & { byRisk: { lifeSupport: PmTally; highRisk: PmTally; other: PmTally } };

export function pmByRisk(completions: Array<{ completion: Completion; risk: RiskClass }>, missed: Array<{ risk: RiskClass }>): PmKpis {
  const of = (r: RiskClass) =>
    tallyPm(
      completions.filter((c) => c.risk === r),
      missed.filter((m) => m.risk === r).length,
    );
  return {
    ...tallyPm(completions, missed.length),
    byRisk: { lifeSupport: of('life-support'), highRisk: of('high-risk'), other: of('other') },
  };
}

export const HOUR_MS = 3_600_000;

export function meanHours(durationsMs: number[]): number | null {
  if (durationsMs.length === 0) return null;
  return Math.round((durationsMs.reduce((a, b) => a + b, 0) / durationsMs.length / HOUR_MS) * 100) / 100;
}

/**
 * Time connected and time known within [from, end) from a device's status
 * reports in time order (include the last report before `from`: it says
 * what the device was doing when the period began). Before its first report
 * a device's state is unknown, and unknown time counts for neither.
 */
export function connectedTime(reports: Array<{ t: number; status: string }>, from: number, end: number): { connectedMs: number; knownMs: number } {
  let connectedMs = 0;
  let knownMs = 0;
  for (let i = 0; i < reports.length; i++) {
    const r = reports[i] as { t: number; status: string };
    const start = Math.max(r.t, from);
    const stop = Math.min(reports[i + 1]?.t ?? end, end);
    if (stop <= start) continue;
    knownMs += stop - start;
    if (r.status === 'connected') connectedMs += stop - start;
  }
  return { connectedMs, knownMs };
}

export { percent };
