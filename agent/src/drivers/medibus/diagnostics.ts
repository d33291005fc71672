import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, validateConfig } from '@medtel/shared';
import type { ResolvedProfile } from '../../profiles/load.js';
import { within } from '../config-labels.js';
import type { DiagnosticOutcome } from '../types.js';
import { Command, type MedibusFrame } from './frame.js';
import { type AlarmRecord, parseAlarms, parseDeviceId, parseValues, RecordError } from './records.js';

/**
 * Diagnostic checks over a MEDIBUS-style link, as a profile's
 * `diagnostics[].run` defines them: send read-only requests (device id,
 * alarms, measured data, settings), check every answer is a valid frame with
 * well-formed records, and fail while the device lists an alarm the profile
 * calls technical. Only these requests can be named, so a check can never
 * send a command that changes ventilation.
 */

const strict = { additionalProperties: false } as const;
const Hex2 = Type.String({ pattern: '^[0-9A-F]{2}$', expected: 'a two-character upper-case hex alarm code such as 31' });

/** The requests a check may send: all of them only read. */
export const MEDIBUS_CHECK_REQUESTS = {
  deviceId: Command.deviceId,
  alarms: Command.alarms,
  measured: Command.measuredData,
  settings: Command.settings,
} as const;
export type MedibusCheckRequest = keyof typeof MEDIBUS_CHECK_REQUESTS;

export const MedibusDiagnosticRunSchema = Type.Object(
  {
    /** Read-only requests, sent in this order; each must be answered with a valid frame and well-formed records. */
    request: Type.Array(
      Type.Union(
        (Object.keys(MEDIBUS_CHECK_REQUESTS) as MedibusCheckRequest[]).map((k) => Type.Literal(k)),
        { expected: `one of ${Object.keys(MEDIBUS_CHECK_REQUESTS).join(', ')}` },
      ),
      { minItems: 1, maxItems: 4, uniqueItems: true, expected: `a list of 1 to 4 different requests: ${Object.keys(MEDIBUS_CHECK_REQUESTS).join(', ')}` },
    ),
    /** What the answers must show for the check to pass. */
    expect: Type.Optional(
      Type.Object(
        {
          /** Alarm codes that mean the device itself is faulty (technical alarms): the check fails while any is listed. */
          technicalAlarms: Type.Optional(Type.Array(Hex2, { minItems: 1, maxItems: 64 })),
        },
        strict,
      ),
    ),
  },
  strict,
);

type RunSpec = Static<typeof MedibusDiagnosticRunSchema>;

export interface MedibusDiagnostic {
  name: string;
  requests: MedibusCheckRequest[];
  technicalAlarms: Set<string>;
}

/** Validates every test of the profile as MEDIBUS checks; errors name the field (`diagnostics[i].run...`). */
export function prepareMedibusDiagnostics(profile: ResolvedProfile): Map<string, MedibusDiagnostic> {
  const file = profile.file;
  const out = new Map<string, MedibusDiagnostic>();
  profile.diagnostics.forEach((test, i) => {
    const field = `diagnostics[${i}].run`;
    const run: RunSpec = within(() => validateConfig(test.run, file, MedibusDiagnosticRunSchema), file, field);
    const technical = run.expect?.technicalAlarms ?? [];
    if (technical.length > 0 && !run.request.includes('alarms')) {
      throw new ConfigError(
        `${file}: ${field}.expect.technicalAlarms: the check must request the alarm list to look for them; add alarms to ${field}.request`,
        file,
        `${field}.expect.technicalAlarms`,
      );
    }
    out.set(test.name, { name: test.name, requests: run.request, technicalAlarms: new Set(technical) });
  });
  return out;
}

/** What the session offers a check: one request at a time on its link, answered or rejected within `timeoutMs`. */
export type MedibusAsk = (cmd: number, timeoutMs: number) => Promise<MedibusFrame>;

/**
 * Runs one check within `timeoutMs`. Link errors propagate to the caller (the
 * session words them); malformed answers and technical alarms are outcomes
 * with ok: false.
 */
export async function runMedibusDiagnostic(
  test: MedibusDiagnostic,
  ask: MedibusAsk,
  o: { timeoutMs: number; requestTimeoutMs: number },
): Promise<DiagnosticOutcome> {
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  const result: Record<string, unknown> = {};
  let alarms: AlarmRecord[] = [];
  for (const request of test.requests) {
    const left = deadline - Date.now();
    if (left <= 0) return { ok: false, result, error: `${test.name} did not finish within ${o.timeoutMs} ms (no time left for the ${request} request)` };
    const frame = await ask(MEDIBUS_CHECK_REQUESTS[request], Math.min(o.requestTimeoutMs, left));
    try {
      if (request === 'deviceId') result.device = parseDeviceId(frame.data);
      else if (request === 'alarms') {
        alarms = parseAlarms(frame.data);
        result.alarms = alarms;
      } else result[request] = Object.fromEntries(parseValues(frame.data, request));
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      return { ok: false, result: { ...result, outcome: 'fail' }, error: `${test.name} failed: the device's ${request} answer is malformed (${err.message})` };
    }
  }
  const technical = alarms.filter((a) => test.technicalAlarms.has(a.code));
  const durationMs = Date.now() - started;
  if (technical.length === 0) return { ok: true, result: { outcome: 'pass', ...result, durationMs } };
  const listed = technical.map((a) => `${a.code} "${a.text}" (priority ${a.priority})`).join(', ');
  return {
    ok: false,
    result: { outcome: 'fail', ...result, technicalAlarms: technical, durationMs },
    error: `${test.name} failed: technical alarm${technical.length > 1 ? 's' : ''} ${listed} active on the device`,
  };
}
