import type { Client } from 'aedes';
import type { Logger } from '@medtel/shared';
import type { CollectorMetrics } from '../metrics.js';
import { verifySecret } from '../secrets.js';
import { certificateNames, peerCertificate } from './tls-identity.js';

/** A gateway as the broker needs it to authenticate and authorise a connection. */
export interface GatewayIdentity {
  id: string;
  /** If set, the gateway may only publish under this site. */
  site?: string | null;
  auth?: 'secret' | 'certificate' | 'both';
  secretHash?: string | null;
  /** The credential's version when the session began; a newer one (rotation) ends the session. */
  version?: number;
}

/** Which gateway each connection authenticated as. */
export type Sessions = WeakMap<Client, GatewayIdentity>;

/** Aedes error with the CONNACK return code to send (3.1.1: 4 bad credentials, 5 not authorised). */
function refusal(returnCode: 4 | 5, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

export interface AuthenticateOptions {
  /** The gateway with this id if it may connect (known and not revoked). */
  lookup: (id: string) => Promise<GatewayIdentity | undefined>;
  /** Live connections of a gateway id, for the per-gateway connection limit. */
  connections: (id: string) => number;
  maxConnectionsPerGateway: number;
}

/**
 * Gateways log in with their id as user name and prove it with a secret
 * (checked against its scrypt hash), a TLS client certificate naming the id,
 * or both, as the gateway's `auth` says. A presented certificate that does
 * not verify (expired, unknown CA) refuses the connection even if the secret
 * is right: it means a broken or forged gateway. Every refusal is logged with
 * its reason and counted by reason.
 */
interface Refusal {
  reason: string;
  message: string;
  code: 4 | 5;
  extra?: Record<string, unknown>;
}

/** Who the connection claims to be and whether its certificate backs the claim; the secret is checked after. */
async function identify(options: AuthenticateOptions, client: Client, username: string | undefined): Promise<GatewayIdentity | Refusal> {
  const cert = peerCertificate(client.conn);
  if (cert.kind === 'untrusted')
    return {
      reason: 'bad_certificate',
      message: `client certificate not trusted (${cert.reason})`,
      code: 5,
      extra: { certSubject: cert.subject, certError: cert.reason },
    };
  // A certificate-only gateway may leave the user name out: its certificate's CN names it.
  const id = username || (cert.kind === 'trusted' ? cert.subject : undefined);
  const entry = id ? await options.lookup(id) : undefined;
  if (!entry) return { reason: 'unknown_gateway', message: 'unknown or revoked gateway', code: 4 };
  if ((entry.auth ?? 'secret') !== 'secret') {
    if (cert.kind !== 'trusted') return { reason: 'no_certificate', message: `gateway "${entry.id}" must present a client certificate over TLS`, code: 5 };
    if (!certificateNames(cert, entry.id))
      return {
        reason: 'certificate_name',
        message: `client certificate names "${cert.names.join(', ')}", not gateway "${entry.id}"`,
        code: 5,
        extra: { certSubject: cert.subject },
      };
  }
  const live = options.connections(entry.id);
  if (live >= options.maxConnectionsPerGateway)
    return { reason: 'too_many_connections', message: `gateway "${entry.id}" already has ${live} connections`, code: 5 };
  return entry;
}

export function createAuthenticate(options: AuthenticateOptions, sessions: Sessions, metrics: CollectorMetrics, logger: Logger) {
  return (
    client: Client,
    username: Readonly<string> | undefined,
    password: Readonly<Buffer> | undefined,
    done: (err: (Error & { returnCode: number }) | null, ok: boolean | null) => void,
  ): void => {
    const remote = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
    const refuse = (r: Refusal) => {
      metrics.authFailures.inc({ reason: r.reason });
      if (r.reason === 'too_many_connections') metrics.limitRejections.inc({ limit: 'connections_per_gateway' });
      logger.warn({ clientId: client.id, username, remote, reason: r.reason, ...r.extra }, `refused MQTT connection: ${r.message}`);
      done(refusal(r.code, r.code === 4 ? 'bad user name or password' : 'not authorized'), false);
    };
    const verify = (entry: GatewayIdentity) => {
      const accept = () => {
        sessions.set(client, entry);
        done(null, true);
      };
      if (entry.auth === 'certificate') {
        accept();
        return;
      }
      if (!password || !entry.secretHash) {
        refuse({ reason: 'no_secret', message: `gateway "${entry.id}" sent no secret`, code: 4 });
        return;
      }
      verifySecret(password.toString('utf8'), entry.secretHash).then(
        (ok) => (ok ? accept() : refuse({ reason: 'wrong_secret', message: 'wrong secret', code: 4, extra: { gateway: entry.id } })),
        (err: Error) => {
          metrics.authFailures.inc({ reason: 'error' });
          logger.error({ err: err.message, gateway: entry.id }, 'secret verification failed');
          done(refusal(5, 'not authorized'), false);
        },
      );
    };
    identify(options, client, username).then(
      (found) => {
        if ('reason' in found) refuse(found);
        else verify(found);
      },
      (err: Error) => {
        metrics.authFailures.inc({ reason: 'error' });
        logger.error({ err: err.message, username }, 'gateway lookup failed');
        done(refusal(5, 'not authorized'), false);
      },
    );
  };
}
