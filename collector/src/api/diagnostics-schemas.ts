import { Type, type Static } from '@sinclair/typebox';
import { DIAGNOSTIC_NAME_PATTERN } from '@medtel/shared';
import { PageOf } from './schemas.js';

/** Request and response schemas of the diagnostics routes (docs/diagnostics.md). */

const strict = { additionalProperties: false } as const;
const Iso = Type.String({ format: 'date-time' });

export const DiagnosticRequestBody = Type.Object(
  {
    test: Type.String({ pattern: DIAGNOSTIC_NAME_PATTERN, description: 'Name of a test the device offers (its `diagnostics` in GET /devices/{id})' }),
    args: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 32, description: 'Test arguments, if the test takes any' }),
    ),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Why; required for tests that change the device state' })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'Default: collector config diagnostics.timeout (30 s)' })),
  },
  strict,
);

export const DiagnosticParams = Type.Object({ requestId: Type.String({ maxLength: 64 }) }, strict);

export const DiagnosticListQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }), offset: Type.Integer({ minimum: 0, default: 0 }) },
  strict,
);

const Result = Type.Object({ ok: Type.Boolean(), result: Type.Optional(Type.Unknown()), error: Type.Optional(Type.String()), receivedAt: Iso });

export const Diagnostic = Type.Object(
  {
    requestId: Type.String(),
    device: Type.String({ description: '`{gateway}.{device}`' }),
    gateway: Type.String(),
    test: Type.String(),
    args: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    requestedBy: Type.Object({ sub: Type.String(), role: Type.String() }),
    requestedAt: Iso,
    timeoutSeconds: Type.Number(),
    deadline: Iso,
    state: Type.Union(
      ['pending', 'completed', 'gateway-offline', 'timed-out'].map((s) => Type.Literal(s)),
      {
        description: 'pending: sent, awaiting the result; completed: see ok; gateway-offline: not sent; timed-out: no result by the deadline',
      },
    ),
    ok: Type.Union([Type.Boolean(), Type.Null()], { description: 'completed: whether the test ran and passed' }),
    result: Type.Unknown({ description: 'What the device reported (e.g. outcome, code, text)' }),
    error: Type.Union([Type.String(), Type.Null()]),
    completedAt: Type.Union([Iso, Type.Null()]),
    lateResult: Type.Union([Result, Type.Null()], { description: 'A result that arrived after the request timed out' }),
  },
  { $id: 'Diagnostic' },
);

export const DiagnosticList = PageOf(Type.Ref(Diagnostic), { device: Type.String() });

export type DiagnosticRequestBody = Static<typeof DiagnosticRequestBody>;
export type DiagnosticParams = Static<typeof DiagnosticParams>;
export type DiagnosticListQuery = Static<typeof DiagnosticListQuery>;
