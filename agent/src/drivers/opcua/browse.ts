import {
  AttributeIds,
  BrowseDirection,
  type ClientSession,
  DataType,
  NodeClass,
  type NodeId,
  type OPCUAClient,
  type ReferenceDescription,
  resolveNodeId,
} from 'node-opcua-client';
import { type ClientSetup, createClient, sessionIdentity } from './client.js';
import { describeOpcuaError } from './errors.js';
import { pkiFolder } from './pki.js';

/**
 * `medtel-agent opcua browse ENDPOINT [PATH]`: prints the address space below
 * the Objects folder (or PATH) as a tree of browse paths in the form a
 * profile uses (Device/Magnet/HeliumLevel), with each variable's data type and
 * current value, each method's arguments, and the namespace table the
 * profile's `driver.namespace` comes from.
 */

export interface BrowseOptions extends ClientSetup {
  path: string[];
  depth: number;
}

const MAX_NODES = 2000;

export async function browseServer(o: BrowseOptions, write: (line: string) => void): Promise<void> {
  const c = o.connection;
  let client: OPCUAClient | undefined;
  let session: ClientSession | undefined;
  try {
    client = await createClient(o);
    await client.connect(c.endpoint);
    session = await client.createSession(sessionIdentity(c, o.baseDir));
    const namespaces = await session.readNamespaceArray();
    write(`${c.endpoint} (security ${c.security.mode}/${c.security.policy})`);
    write('namespaces (a profile names its URI in driver.namespace):');
    namespaces.forEach((uri, i) => {
      write(`  ${i}  ${uri}`);
    });
    let start: NodeId = resolveNodeId('ObjectsFolder');
    for (const [i, segment] of o.path.entries()) {
      const child = (await children(session, start)).find((r) => matches(r, segment));
      if (!child) throw new Error(`no node "${segment}" under ${o.path.slice(0, i).join('/') || 'Objects'}; browse without a path to see what there is`);
      start = child.nodeId as unknown as NodeId;
    }
    write(`${o.path.length ? o.path.join('/') : 'Objects'}:`);
    const seen = { count: 0 };
    await walk(session, start, o.path, o.depth, write, seen);
    if (seen.count >= MAX_NODES) write(`... stopped after ${MAX_NODES} nodes; give a PATH to browse deeper`);
  } catch (err) {
    const { mode, policy } = c.security;
    throw new Error(describeOpcuaError(err, { endpoint: c.endpoint, mode, policy, pkiDir: pkiFolder(o.stateDir) }));
  } finally {
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
  }
}

function matches(r: ReferenceDescription, segment: string): boolean {
  const m = /^(\d+):(.*)$/.exec(segment);
  if (m) return r.browseName.namespaceIndex === Number(m[1]) && r.browseName.name === m[2];
  return r.browseName.name === segment;
}

async function children(session: ClientSession, nodeId: NodeId): Promise<ReferenceDescription[]> {
  const result = await session.browse({
    nodeId,
    referenceTypeId: 'HierarchicalReferences',
    includeSubtypes: true,
    browseDirection: BrowseDirection.Forward,
    nodeClassMask: 0,
    resultMask: 63,
  });
  return result.references ?? [];
}

async function walk(session: ClientSession, nodeId: NodeId, path: string[], depth: number, write: (l: string) => void, seen: { count: number }) {
  if (depth <= 0) return;
  const refs = (await children(session, nodeId)).filter((r) => !(path.length === 0 && r.browseName.namespaceIndex === 0)); // skip the standard Server object
  for (const r of refs) {
    if (seen.count++ >= MAX_NODES) return;
    const name = r.browseName.name ?? '?';
    const childPath = [...path, name];
    const indent = '  '.repeat(childPath.length);
    const id = r.nodeId.toString();
    if (r.nodeClass === NodeClass.Variable) {
      if (name === 'InputArguments' || name === 'OutputArguments') continue;
      const dv = await session.read({ nodeId: r.nodeId as unknown as NodeId, attributeId: AttributeIds.Value });
      const value = dv.statusCode.isGood() ? JSON.stringify(dv.value.value) : dv.statusCode.name;
      write(`${indent}${childPath.join('/')}  ${DataType[dv.value.dataType] ?? '?'} = ${value}  [ns ${r.browseName.namespaceIndex}] ${id}`);
    } else if (r.nodeClass === NodeClass.Method) {
      write(`${indent}${childPath.join('/')}()  method  [ns ${r.browseName.namespaceIndex}] ${id}${await signature(session, r)}`);
    } else {
      write(`${indent}${childPath.join('/')}/  [ns ${r.browseName.namespaceIndex}] ${id}`);
      await walk(session, r.nodeId as unknown as NodeId, childPath, depth - 1, write, seen);
    }
  }
}

/** A method's input and output arguments, as " in(Kind: String) out(Code: Int32, Text: String)". */
async function signature(session: ClientSession, method: ReferenceDescription): Promise<string> {
  try {
    const args = await session.getArgumentDefinition(method.nodeId as unknown as NodeId);
    const list = (xs: Array<{ name?: string | null; dataType: NodeId }>) =>
      xs.map((a) => `${a.name}: ${DataType[a.dataType.value as number] ?? a.dataType.toString()}`).join(', ');
    return `  in(${list(args.inputArguments)}) out(${list(args.outputArguments)})`;
  } catch {
    return '';
  }
}
