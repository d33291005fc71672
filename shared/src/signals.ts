import type { Logger } from 'pino';

/**
 * Graceful stop for a long-running CLI (systemd sends SIGTERM, a terminal
 * SIGINT): run `stop` once and exit 0, or 1 if it fails. A second signal
 * exits at once, for an operator who does not want to wait.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
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
