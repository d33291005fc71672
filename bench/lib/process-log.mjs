/**
 * The log of a medtel process the bench started (collector, agent): its JSON
 * lines on stdout (pino, level as text) and its stderr go to a file; warn,
 * error and fatal lines are counted and the first 20 kept.
 */
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Captures `child`'s stdout and stderr into `logPath`. `onEntry(entry, line)`
 * sees every parsed JSON line. Returns the log: {path, warnings (first 20
 * warn/error/fatal lines), counts: {warn, error, fatal}, stderr (first 20 kB),
 * end() (resolves once the file is closed)}.
 */
export function captureLog(child, logPath, { onEntry } = {}) {
  const file = createWriteStream(logPath);
  const log = { path: logPath, warnings: [], counts: { warn: 0, error: 0, fatal: 0 }, stderr: '' };
  createInterface({ input: child.stdout }).on('line', (line) => {
    file.write(`${line}\n`);
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    onEntry?.(entry, line);
    if (entry.level in log.counts) {
      log.counts[entry.level] += 1;
      if (log.warnings.length < 20) log.warnings.push(line.slice(0, 1000));
    }
  });
  child.stderr.on('data', (chunk) => {
    file.write(chunk);
    if (log.stderr.length < 20_000) log.stderr += chunk.toString();
  });
  Object.defineProperty(log, 'end', { enumerable: false, value: () => new Promise((r) => file.end(r)) });
  return log;
}
