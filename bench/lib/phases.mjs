/** A timed phase of a run (warm-up, measured) with a progress callback about once a second. */
import { sleep } from './timing.mjs';

/**
 * Waits `seconds` from now, calling `onSecond(i, total)` after each second
 * (and at the end); `guard` wraps each wait so that a failure of the run ends it.
 */
export async function timedPhase(seconds, { guard, onSecond }) {
  const end = performance.now() + seconds * 1000;
  const total = Math.ceil(seconds);
  for (let i = 1; performance.now() < end - 5; i++) {
    await guard(sleep(Math.min(1000, end - performance.now())));
    onSecond(Math.min(i, total), total);
  }
}
