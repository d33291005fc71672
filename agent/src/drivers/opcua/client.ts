import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import {
  AttributeIds,
  type ClientSession,
  makeBrowsePath,
  MessageSecurityMode,
  type NodeId,
  OPCUAClient,
  SecurityPolicy,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua-client';
import type { OpcuaConnection } from './config.js';
import { NodePathError } from './errors.js';
import { certificateManager, trustConfiguredCertificates } from './pki.js';

/**
 * Building blocks shared by the driver session, `opcua browse` and `opcua
 * trust`: a client configured from a device connection (security, PKI,
 * no built-in retry: the caller owns reconnects), the session identity,
 * and browse-path resolution in the profile's namespace.
 */

export interface ClientSetup {
  connection: Pick<OpcuaConnection, 'endpoint' | 'security' | 'identity' | 'trustedServerCertificates' | 'demoAcceptAnyServerCertificate'>;
  stateDir: string;
  baseDir: string;
  timeoutMs: number;
}

export async function createClient(setup: ClientSetup): Promise<OPCUAClient> {
  const { connection: c } = setup;
  const manager = await certificateManager(setup.stateDir, c.demoAcceptAnyServerCertificate);
  await trustConfiguredCertificates(manager, c.trustedServerCertificates, setup.baseDir);
  // Own certificate: node-opcua creates it on first connect at <pki>/own/certs/client_certificate.pem.
  return OPCUAClient.create({
    applicationName: 'medtel-agent',
    applicationUri: `urn:${hostname()}:medtel-agent`,
    clientCertificateManager: manager,
    securityMode: MessageSecurityMode[c.security.mode],
    securityPolicy: SecurityPolicy[c.security.policy],
    endpointMustExist: false,
    // One attempt per connect(): the driver's own backoff decides when to try again, so a
    // broken server never has two reconnect loops (ours and node-opcua's) aimed at it.
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    requestedSessionTimeout: 60_000,
    keepSessionAlive: false,
  });
}

export function sessionIdentity(connection: ClientSetup['connection'], baseDir: string): UserIdentityInfo {
  const id = connection.identity ?? { type: 'anonymous' as const };
  if (id.type === 'username') {
    const password = readFileSync(resolve(baseDir, id.passwordFile), 'utf8').trim();
    return { type: UserTokenType.UserName, userName: id.username, password };
  }
  if (id.type === 'certificate') {
    const pem = readFileSync(resolve(baseDir, id.certificateFile), 'latin1');
    const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
    if (!body) throw new Error(`${id.certificateFile} holds no PEM certificate`);
    return {
      type: UserTokenType.Certificate,
      certificateData: Buffer.from(body.replace(/\s+/g, ''), 'base64'),
      privateKey: readFileSync(resolve(baseDir, id.privateKeyFile), 'utf8'),
    } as UserIdentityInfo;
  }
  return { type: UserTokenType.Anonymous };
}

/** The namespace index of `uri` on this server (indices may differ between servers and restarts). */
export async function namespaceIndex(session: ClientSession, uri: string, endpoint: string): Promise<number> {
  const array = await session.readNamespaceArray();
  const index = array.indexOf(uri);
  if (index < 0) throw new NodePathError(`namespace ${uri} (the server has: ${array.join(', ')})`, endpoint);
  return index;
}

/** "Device/Magnet/HeliumLevel" -> node ids, from the Objects folder; segments written "n:Name" keep their own namespace. */
export async function resolvePaths(session: ClientSession, ns: number, paths: string[][], endpoint: string): Promise<NodeId[]> {
  if (paths.length === 0) return [];
  const relative = (path: string[]) => path.map((p) => (/^\d+:/.test(p) ? `/${p}` : `/${ns}:${p}`)).join('');
  const results = await session.translateBrowsePath(paths.map((p) => makeBrowsePath('ObjectsFolder', relative(p))));
  return results.map((r, i) => {
    const target = r.targets?.[0];
    if (!r.statusCode.isGood() || !target) throw new NodePathError((paths[i] as string[]).join('/'), endpoint);
    return target.targetId as unknown as NodeId;
  });
}

/** Reads the values of nodes once (identity strings). */
export async function readValues(session: ClientSession, nodeIds: NodeId[]): Promise<Array<unknown>> {
  if (nodeIds.length === 0) return [];
  const values = await session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
  return values.map((v) => (v.statusCode.isGood() ? v.value.value : undefined));
}
