import { createHash } from 'node:crypto';
import { MessageSecurityMode, OPCUAClient } from 'node-opcua-client';
import { certificateManager, pkiFolder } from './pki.js';

/**
 * `medtel-agent opcua trust ENDPOINT`: fetches the server's certificate
 * (GetEndpoints over an unsecured channel, which every server offers for
 * discovery), prints its SHA-1 thumbprint, and puts it in the agent's
 * trusted store. With --thumbprint the certificate is trusted only if it is
 * the one the operator read off the device (defeats a man in the middle).
 */

export interface TrustResult {
  thumbprint: string;
  file: string;
  already: boolean;
}

export function thumbprint(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

export async function trustServer(endpoint: string, stateDir: string, expected?: string): Promise<TrustResult> {
  const client = OPCUAClient.create({
    applicationName: 'medtel-agent',
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    clientCertificateManager: await certificateManager(stateDir, false),
  });
  let der: Buffer | undefined;
  try {
    await client.connect(endpoint);
    const endpoints = await client.getEndpoints();
    der = endpoints.map((e) => e.serverCertificate).find((c): c is Buffer => Buffer.isBuffer(c) && c.length > 0);
  } finally {
    await client.disconnect().catch(() => undefined);
  }
  if (!der) throw new Error(`${endpoint} sent no server certificate; it offers no secured endpoint`);
  const print = thumbprint(der);
  const want = expected?.replace(/[^0-9a-f]/gi, '').toUpperCase();
  if (want && want !== print) {
    throw new Error(`the certificate of ${endpoint} has thumbprint ${print}, not ${want}: not trusted (is something between the agent and the device?)`);
  }
  const manager = await certificateManager(stateDir, false);
  const already = (await manager.getTrustStatus(der)).isGood();
  if (!already) await manager.trustCertificate(der);
  return { thumbprint: print, file: `${pkiFolder(stateDir)}/trusted/certs`, already };
}
