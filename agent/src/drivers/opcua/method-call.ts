import { type ClientSession, DataType, type NodeId } from 'node-opcua-client';
import type { DiagnosticOutcome, DiagnosticRequest } from '../types.js';
import { resolvePaths } from './client.js';
import type { OpcuaDiagnostic } from './config.js';

/**
 * A diagnostic test as an OPC UA method call (profile `diagnostics[].run`):
 * the method is called on its parent object with the profile's inputs (fixed
 * values, or the request's args by name); its outputs are named by the
 * profile and judged by `pass`. A Bad call status fails the test with the
 * status name, never a made-up result.
 */

const DATA_TYPES = { String: DataType.String, Int32: DataType.Int32, Double: DataType.Double, Boolean: DataType.Boolean } as const;

export async function callDiagnostic(
  session: ClientSession,
  ns: number,
  test: OpcuaDiagnostic,
  request: DiagnosticRequest,
  endpoint: string,
): Promise<DiagnosticOutcome> {
  const started = Date.now();
  const methodPath = test.method.split('/');
  const [objectId, methodId] = await resolvePaths(session, ns, [methodPath.slice(0, -1), methodPath], endpoint);
  const inputArguments = [];
  for (const input of test.inputs) {
    const value = input.value ?? request.args?.[input.name];
    if (value === undefined) return { ok: false, error: `${test.name} needs the argument "${input.name}" (${input.type})` };
    inputArguments.push({ dataType: DATA_TYPES[input.type], value: input.type === 'String' ? String(value) : value });
  }
  const call = session.call({ objectId: objectId as NodeId, methodId: methodId as NodeId, inputArguments });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${test.name} did not answer within ${request.timeoutMs} ms`)), request.timeoutMs);
  });
  const result = await Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  const durationMs = Date.now() - started;
  if (!result.statusCode.isGood()) {
    return {
      ok: false,
      result: { outcome: 'fail', status: result.statusCode.name, durationMs },
      error: `${test.name}: the device answered ${result.statusCode.name}`,
    };
  }
  const outputs: Record<string, unknown> = {};
  (result.outputArguments ?? []).forEach((v, i) => {
    const name = test.outputs[i];
    if (name) outputs[name] = v.value;
  });
  if (!test.pass) return { ok: true, result: { outcome: 'pass', ...outputs, durationMs } };
  const passed = test.pass.in.includes(outputs[test.pass.output] as number | string);
  const out = { outcome: passed ? 'pass' : 'fail', ...outputs, durationMs };
  if (passed) return { ok: true, result: out };
  const text = typeof outputs.text === 'string' ? outputs.text : `${test.pass.output} = ${String(outputs[test.pass.output])}`;
  return { ok: false, result: out, error: `${test.name} failed: ${text}` };
}
