import type { PortAttempt } from '@medtel/shared';
import { type ApplicationDescription, ApplicationType, MessageSecurityMode, OPCUAClient } from 'node-opcua-client';
import { createClient, namespaceIndex, readValues, resolvePaths, sessionIdentity, type ClientSetup } from '../drivers/opcua/client.js';
import { describeOpcuaError, NodePathError } from '../drivers/opcua/errors.js';
import { pkiFolder } from '../drivers/opcua/pki.js';
import type { IdentifyPlan } from '../profiles/identify.js';
import type { IdentityField, ResolvedProfile } from '../profiles/load.js';
import { type Identity, identityMatches } from './types.js';

/**
 * OPC UA identification (imports node-opcua: loaded lazily by
 * network-targets.ts, only when discovery.opcua lists something).
 *
 * What is sent: FindServers and GetEndpoints to a configured discovery
 * endpoint; then, on each server, a session with the configured security and
 * identity and only Read and TranslateBrowsePathsToNodeIds (the namespace
 * array and the profile's identity nodes). Never Write, Call, or a subscription.
 */

type Identifiable = ResolvedProfile & { identifyPlan: IdentifyPlan };

/**
 * The servers a discovery endpoint knows (an LDS, or a server answering for
 * itself): FindServers, then GetEndpoints on each server's discovery URL to
 * learn its endpoint URL. Discovery servers themselves are left out.
 */
export async function findServerEndpoints(discoveryUrl: string, timeoutMs: number): Promise<string[]> {
  const servers = await withUnsecuredClient(discoveryUrl, timeoutMs, (c) => c.findServers());
  const out = new Set<string>();
  for (const server of servers as ApplicationDescription[]) {
    if (server.applicationType === ApplicationType.DiscoveryServer) continue;
    for (const url of server.discoveryUrls ?? []) {
      if (!url?.startsWith('opc.tcp://')) continue;
      const endpoints = await withUnsecuredClient(url, timeoutMs, (c) => c.getEndpoints()).catch(() => []);
      const endpointUrl = endpoints.find((e) => e.endpointUrl)?.endpointUrl ?? url;
      out.add(endpointUrl);
      break;
    }
  }
  return [...out];
}

/** Discovery services are offered on an unsecured channel by every server; no session is opened. */
async function withUnsecuredClient<T>(url: string, timeoutMs: number, fn: (c: OPCUAClient) => Promise<T>): Promise<T> {
  const client = OPCUAClient.create({
    applicationName: 'medtel-agent',
    endpointMustExist: false,
    securityMode: MessageSecurityMode.None,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
  });
  try {
    return await withTimeout(
      (async () => {
        await client.connect(url);
        return fn(client);
      })(),
      timeoutMs,
      `no answer from ${url} in time`,
    );
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}

export interface OpcuaProbe {
  identified?: { profile: Identifiable; identity: Identity };
  tried: PortAttempt[];
}

/**
 * Opens one session on `endpoint` with the configured security (trust as for a
 * configured device: an unknown server certificate is refused, never accepted
 * here) and reads each OPC UA profile's identity nodes until one matches.
 */
export async function probeOpcuaEndpoint(setup: ClientSetup, profiles: Identifiable[]): Promise<OpcuaProbe> {
  const candidates = profiles.filter((p) => p.identifyPlan.family === 'opcua');
  const tried: PortAttempt[] = [];
  if (candidates.length === 0) return { tried };
  const endpoint = setup.connection.endpoint;
  // Plug-and-play never trusts on first sight, whatever a device entry may say.
  const client = await createClient({ ...setup, connection: { ...setup.connection, demoAcceptAnyServerCertificate: false } });
  const everyone = candidates.map((p) => p.profile).join(', ');
  try {
    const session = await withTimeout(
      (async () => {
        await client.connect(endpoint);
        return client.createSession(sessionIdentity(setup.connection, setup.baseDir));
      })(),
      setup.timeoutMs,
      `no answer from ${endpoint} in time`,
    );
    try {
      for (const profile of candidates) {
        const identity = await readIdentity(session, profile, endpoint).catch((err: unknown) => {
          if (err instanceof NodePathError) return undefined;
          throw err;
        });
        const matched = identity !== undefined && identityMatches(profile.identifyPlan.match, identity);
        tried.push({ profile: profile.profile, outcome: matched ? 'matched' : 'mismatch' });
        if (matched) return { identified: { profile, identity }, tried };
      }
      return { tried };
    } finally {
      await session.close().catch(() => undefined);
    }
  } catch (err) {
    const c = setup.connection;
    const said = describeOpcuaError(err, { endpoint, mode: c.security.mode, policy: c.security.policy, pkiDir: pkiFolder(setup.stateDir) });
    // The operator's next step, first: an untrusted server stays unidentified until someone checks and trusts it.
    const detail = said.startsWith('certificate rejected') ? `not trusted: run medtel-agent opcua trust ${endpoint}` : said;
    tried.push({ profile: everyone.slice(0, 128), outcome: /timeout|in time|cannot reach/i.test(said) ? 'no-answer' : 'error', detail: detail.slice(0, 256) });
    return { tried };
  } finally {
    await client.disconnect().catch(() => undefined);
  }
}

/** The profile's identity nodes, by browse path in its namespace (undefined fields: not readable). */
async function readIdentity(session: Parameters<typeof namespaceIndex>[0], profile: Identifiable, endpoint: string): Promise<Identity> {
  const namespace = (profile.driver as { namespace?: string } | undefined)?.namespace ?? '';
  const ns = await namespaceIndex(session, namespace, endpoint);
  const fields = Object.entries(profile.identity).flatMap(([field, spec]) => {
    const path = (spec?.read as { path?: unknown } | undefined)?.path;
    return typeof path === 'string' ? [{ field: field as IdentityField, path: path.split('/') }] : [];
  });
  const ids = await resolvePaths(
    session,
    ns,
    fields.map((f) => f.path),
    endpoint,
  );
  const values = await readValues(session, ids);
  const identity: Identity = {};
  fields.forEach((f, i) => {
    const v = values[i];
    if (v !== undefined && v !== null && String(v) !== '') identity[f.field] = String(v);
  });
  return identity;
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${message} (timeout)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
