import type { Client } from 'aedes';
import type { Logger } from '@medtel/shared';
import type { GatewayEntry } from '../config.js';
import type { CollectorMetrics } from '../metrics.js';
import { verifySecret } from '../secrets.js';

/** Which gateway each connection authenticated as. */
export type Sessions = WeakMap<Client, GatewayEntry>;

/** Aedes error with the CONNACK return code to send (3.1.1: 4 bad credentials, 5 not authorised). */
function refusal(returnCode: 4 | 5, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

/**
 * Gateways log in with their id as username and their secret as password.
 * The secret is checked against its scrypt hash in the config.
 */
export function createAuthenticate(gateways: () => GatewayEntry[], sessions: Sessions, metrics: CollectorMetrics, logger: Logger) {
  return (
    client: Client,
    username: Readonly<string> | undefined,
    password: Readonly<Buffer> | undefined,
    done: (err: (Error & { returnCode: number }) | null, ok: boolean | null) => void,
  ): void => {
    const remote = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
    const entry = username ? gateways().find((g) => g.id === username) : undefined;
    if (!entry || !password) {
      metrics.authFailures.inc({ reason: entry ? 'no_secret' : 'unknown_gateway' });
      logger.warn({ clientId: client.id, username, remote }, 'refused MQTT connection: unknown gateway or no secret');
      done(refusal(4, 'bad user name or password'), false);
      return;
    }
    verifySecret(password.toString('utf8'), entry.secretHash).then(
      (ok) => {
        if (!ok) {
          metrics.authFailures.inc({ reason: 'wrong_secret' });
          logger.warn({ clientId: client.id, gateway: entry.id, remote }, 'refused MQTT connection: wrong secret');
          done(refusal(4, 'bad user name or password'), false);
          return;
        }
        sessions.set(client, entry);
        done(null, true);
      },
      (err: Error) => {
        metrics.authFailures.inc({ reason: 'error' });
        logger.error({ err: err.message, gateway: entry.id }, 'secret verification failed');
        done(refusal(5, 'not authorized'), false);
      },
    );
  };
}
