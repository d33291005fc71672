/**
 * CPU and memory of another process, from Linux /proc, and a sampler that
 * records both every 250 ms over a run (peak RSS, CPU % per interval).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { round } from './format.mjs';

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** CPU seconds (user+system) of a process, from /proc/<pid>/stat. */
export function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may contain spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS and VmHWM (peak) of a process in bytes, from /proc/<pid>/status. */
export function procMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * Samples a process's RSS and CPU every `intervalMs` from now on. `samples`
 * are {t (s since start), rssMB, cpuPct (of one core, since the previous
 * sample)}; `rssPeak` and `hwm` are the highest seen, in bytes.
 */
export function startProcSampler(pid, { intervalMs = 250 } = {}) {
  const samples = [];
  const runStart = performance.now();
  let lastCpu = procCpuSeconds(pid);
  let lastAt = runStart;
  let rssPeak = 0;
  let hwm = 0;
  /** Takes one sample now; returns {at, cpu} for CPU-over-an-interval figures, or undefined if the process is gone. */
  const sampleNow = () => {
    try {
      const at = performance.now();
      const cpu = procCpuSeconds(pid);
      const mem = procMemory(pid);
      rssPeak = Math.max(rssPeak, mem.rss);
      hwm = Math.max(hwm, mem.hwm);
      samples.push({
        t: round((at - runStart) / 1000),
        rssMB: round(mem.rss / 2 ** 20, 1),
        cpuPct: round(at > lastAt ? ((cpu - lastCpu) / ((at - lastAt) / 1000)) * 100 : 0, 1),
      });
      lastCpu = cpu;
      lastAt = at;
      return { at, cpu };
    } catch {
      return undefined; // the process is gone; the exit handler reports it
    }
  };
  sampleNow();
  const timer = setInterval(sampleNow, intervalMs);
  return {
    samples,
    sampleNow,
    /** {at, cpu} now: from a new sample, or read directly if sampling failed. */
    cpuNow: () => sampleNow() ?? { at: performance.now(), cpu: procCpuSeconds(pid) },
    /** Stops the periodic sampling (idempotent); sampleNow() still works. */
    stop: () => clearInterval(timer),
    get rssPeak() {
      return rssPeak;
    },
    get hwm() {
      return hwm;
    },
  };
}
