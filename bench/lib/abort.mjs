/**
 * The first failure of a run (a load process, the collector) from wherever it
 * is noticed, and a way to make every wait of the scenario give up on it.
 */
export function createAbort() {
  let fatal;
  let reject;
  const aborted = new Promise((_, r) => {
    reject = r;
  });
  aborted.catch(() => undefined); // only the guarded waits report it
  return {
    /** Records `err` unless a failure was recorded already (the first one is the cause). */
    fail(err) {
      if (fatal) return;
      fatal = err;
      reject(err);
    },
    get fatal() {
      return fatal;
    },
    /** `promise`, or the run's failure if that comes first. */
    guard: (promise) => Promise.race([promise, aborted]),
  };
}
