/**
 * A V8 .cpuprofile (node --cpu-prof) summarised for the bench's JSON and
 * README: self time per function and per category (SQLite, JSON, the MQTT
 * broker, medtel's own code, GC, ...), in % of the profiled time.
 */
import { readFileSync } from 'node:fs';

/** Where a function's self time goes: by package, medtel file or native function. */
function categoryOf({ functionName, url }) {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (program)';
  if (!url) {
    if (['run', 'all', 'get', 'iterate', 'exec', 'transaction'].includes(functionName)) return 'SQLite (better-sqlite3, native)';
    if (functionName === 'parse' || functionName === 'stringify') return `JSON.${functionName} (native)`;
    if (functionName === 'writev' || functionName === 'writeBuffer' || functionName === 'writeUtf8String') return 'socket writes (native)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (pkg) return pkg[1] === 'better-sqlite3' ? 'SQLite (better-sqlite3, native)' : pkg[1];
  const medtel = url.match(/\/(collector|shared)\/dist\/(.+)$/);
  if (medtel) return `medtel ${medtel[1]}/${medtel[2].replace(/\.js$/, '')}`;
  if (url.startsWith('node:'))
    return url
      .replace(/^node:internal\//, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  return url;
}

/** {profiledSeconds, top: [{name, where, pct}], categories: [{category, pct}]} */
export function summarizeCpuProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  // timeDeltas[i] is the time before sample i: attribute it to that sample's function.
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const byFunction = new Map();
  const byCategory = new Map();
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id);
    const where = callFrame.url ? `${callFrame.url.replace(/^.*\/(node_modules|collector|shared)\//, '$1/')}:${callFrame.lineNumber + 1}` : 'native';
    const key = `${callFrame.functionName || '(anonymous)'}\u0000${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const cat = categoryOf(callFrame);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
  }
  const pct = (us) => Number(((us / (total || 1)) * 100).toFixed(1));
  return {
    profiledSeconds: Number((total / 1e6).toFixed(2)),
    top: [...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([k, us]) => {
        const [name, where] = k.split('\u0000');
        return { name, where, pct: pct(us) };
      }),
    categories: [...byCategory]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([category, us]) => ({ category, pct: pct(us) })),
  };
}
