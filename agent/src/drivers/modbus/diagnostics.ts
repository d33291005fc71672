import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, DURATION_PATTERN, parseDuration, validateConfig } from '@medtel/shared';
import type { ResolvedProfile } from '../../profiles/load.js';
import { within } from '../config-labels.js';
import type { DiagnosticOutcome } from '../types.js';
import { RegisterReadSchema } from './register-schema.js';
import { registerCount, type RegisterPoint } from './registers.js';

/**
 * Diagnostic tests over Modbus, as a profile's `diagnostics[].run` defines
 * them: optionally write a coil or holding register to start the test, poll a
 * status register until it shows "finished", then read a result code and map
 * it to pass/fail text. Only the addresses the profile names are touched.
 */

const strict = { additionalProperties: false } as const;
const RawList = Type.Array(Type.Integer(), { minItems: 1, maxItems: 64 });

export const ModbusDiagnosticRunSchema = Type.Object(
  {
    /** The write that starts the test: coil (function 05) or holding register (function 06). */
    start: Type.Optional(
      Type.Object(
        {
          table: Type.Union([Type.Literal('coil'), Type.Literal('holding')]),
          address: Type.Integer({ minimum: 0, maximum: 65535 }),
          value: Type.Integer({ minimum: 0, maximum: 65535 }),
        },
        strict,
      ),
    ),
    /** Wait until the test is finished: read `read` every `every` until its raw value is one of `until`. */
    poll: Type.Optional(
      Type.Object(
        {
          read: RegisterReadSchema,
          until: RawList,
          every: Type.String({ pattern: DURATION_PATTERN, default: '250ms', expected: 'a duration such as 250ms' }),
        },
        strict,
      ),
    ),
    /** The result code: `pass` lists the raw values that mean pass; `enum` gives each code its text. */
    result: Type.Optional(
      Type.Object(
        {
          read: RegisterReadSchema,
          pass: RawList,
          enum: Type.Optional(Type.Record(Type.String({ pattern: '^-?\\d+$' }), Type.String({ minLength: 1, maxLength: 256 }))),
        },
        strict,
      ),
    ),
  },
  strict,
);

type RunSpec = Static<typeof ModbusDiagnosticRunSchema>;

export interface ModbusDiagnostic {
  name: string;
  start?: RunSpec['start'];
  poll?: { point: RegisterPoint; until: number[]; everyMs: number };
  result?: { point: RegisterPoint; pass: number[]; enum: Record<string, string> };
}

/** The register operations a test needs; the session provides them on its own link, one request at a time. */
export interface ModbusDiagnosticLink {
  read(point: RegisterPoint): Promise<number | string>;
  writeCoil(address: number, value: boolean): Promise<void>;
  writeRegister(address: number, value: number): Promise<void>;
}

const point = (key: string, r: Static<typeof RegisterReadSchema>): RegisterPoint => ({
  key,
  table: r.table,
  address: r.address,
  type: r.type as RegisterPoint['type'],
  ...(r.length ? { length: r.length } : {}),
});

/**
 * Validates every test of the profile as Modbus steps. A test that writes a
 * holding register the profile also reads as a metric changes a setting the
 * device reports (a therapy setting, on a pump): it must say `changesState: true`.
 */
export function prepareModbusDiagnostics(profile: ResolvedProfile, metricPoints: RegisterPoint[]): Map<string, ModbusDiagnostic> {
  const file = profile.file;
  const out = new Map<string, ModbusDiagnostic>();
  profile.diagnostics.forEach((test, i) => {
    const field = `diagnostics[${i}].run`;
    const run = within(() => validateConfig(test.run, file, ModbusDiagnosticRunSchema), file, field);
    if (!run.start && !run.result) {
      throw new ConfigError(`${file}: ${field}: give a start write, a result read, or both`, file, field);
    }
    for (const [name, part] of [
      ['poll', run.poll],
      ['result', run.result],
    ] as const) {
      if (part?.read.type === 'string')
        throw new ConfigError(`${file}: ${field}.${name}.read.type: a status or result code must be a number type`, file, field);
    }
    const start = run.start;
    if (start?.table === 'coil' && start.value > 1) {
      throw new ConfigError(`${file}: ${field}.start.value: a coil takes 0 or 1, found ${start.value}`, file, `${field}.start.value`);
    }
    if (start?.table === 'holding' && !test.changesState) {
      const clash = metricPoints.find(
        (p) => p.table === 'holding' && start.address >= p.address && start.address < p.address + registerCount(p.type, p.length),
      );
      if (clash) {
        throw new ConfigError(
          `${file}: diagnostics[${i}].changesState: the test writes holding register ${start.address}, which metric "${clash.key}" reads; a test that changes a setting must say changesState: true`,
          file,
          `diagnostics[${i}].changesState`,
        );
      }
    }
    out.set(test.name, {
      name: test.name,
      ...(start ? { start } : {}),
      ...(run.poll ? { poll: { point: point('poll', run.poll.read), until: run.poll.until, everyMs: parseDuration(run.poll.every) } } : {}),
      ...(run.result ? { result: { point: point('result', run.result.read), pass: run.result.pass, enum: run.result.enum ?? {} } } : {}),
    });
  });
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one test within `timeoutMs`. Link errors propagate to the caller (the
 * session words them); a test that does not finish in time, or reports a
 * failing code, is an outcome with ok: false.
 */
export async function runModbusDiagnostic(test: ModbusDiagnostic, link: ModbusDiagnosticLink, timeoutMs: number): Promise<DiagnosticOutcome> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  if (test.start) {
    if (test.start.table === 'coil') await link.writeCoil(test.start.address, test.start.value === 1);
    else await link.writeRegister(test.start.address, test.start.value);
  }
  if (test.poll) {
    const { point: p, until, everyMs } = test.poll;
    // Give the device a moment to take the start command before the first look.
    for (;;) {
      await sleep(Math.min(everyMs, Math.max(0, deadline - Date.now())));
      const status = await link.read(p);
      if (until.includes(status as number)) break;
      if (Date.now() + everyMs > deadline) {
        return {
          ok: false,
          result: { status },
          error: `${test.name} did not finish within ${timeoutMs} ms (${p.table} register ${p.address} still reads ${status})`,
        };
      }
    }
  }
  const durationMs = Date.now() - started;
  if (!test.result) return { ok: true, result: { outcome: 'done', durationMs } };
  const code = (await link.read(test.result.point)) as number;
  const text = test.result.enum[String(code)];
  const passed = test.result.pass.includes(code);
  const result = { outcome: passed ? 'pass' : 'fail', code, ...(text ? { text } : {}), durationMs };
  if (passed) return { ok: true, result };
  return { ok: false, result, error: `${test.name} failed: ${text ?? 'code not described by the profile'} (code ${code})` };
}
