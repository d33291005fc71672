/**
 * Preloaded into the collector process by bench/lib/collector.mjs (`node --import`), so
 * that a collector started by the bench never outlives it: if the bench is
 * killed outright (SIGKILL, OOM) and cannot clean up, the collector sees its
 * parent change and stops itself (SIGTERM, its normal clean shutdown; SIGKILL
 * if that hangs). Polls process.ppid once a second; costs nothing measurable.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid === parent) return;
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10_000).unref();
}, 1000).unref();
