import type { Logger } from 'pino';

/**
 * Graceful stop for a long-running CLI (systemd sends SIGTERM, a terminal
 * SIGINT): run `stop` once and exit 0, or 1 if it fails. A second signal
 * exits at once, for an operator who does not want to wait. With
 * `deadlineMs`, a stop that has not finished by then exits 1 anyway: an
 * orchestrator (or a test's afterAll) must not wait on a stuck connection;
 * whatever was not acknowledged is re-sent by its sender.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, options: { deadlineMs?: number } = {}): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    if (options.deadlineMs)
      setTimeout(() => {
        logger.error({ deadlineMs: options.deadlineMs }, 'stop did not finish in time: exiting anyway');
        process.exit(1);
      }, options.deadlineMs).unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
