/** Waiting helpers shared by the bench's process management and scenarios. */

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with "timed out after S s <what>" unless `promise` settles within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
