import { Type, type Static } from '@sinclair/typebox';
import type { ResolvedProfile } from '../../profiles/load.js';
import type { SerialEndpoint } from '../../transports/serial/index.js';
import { prepareSerialConnection, profileReads, serialConnectionSchema } from '../serial-common/config.js';
import { type MedibusDiagnostic, prepareMedibusDiagnostics } from './diagnostics.js';

const strict = { additionalProperties: false } as const;
const Hex2 = Type.String({ pattern: '^[0-9A-F]{2}$', expected: 'a two-character upper-case hex code such as 88' });

export const MedibusConnectionSchema = serialConnectionSchema('medibus', {
  /** Longest time without a request before a keep-alive (NOP) is sent. */
  keepAliveMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1000 }),
});

/** Where a metric sits in the protocol: which request answers it, and its record code. */
export const MedibusReadSchema = Type.Object(
  {
    request: Type.Union([Type.Literal('measured'), Type.Literal('settings'), Type.Literal('alarms'), Type.Literal('patient')]),
    code: Hex2,
    /** Measured ratio of two records (I:E = code / per). */
    per: Type.Optional(Hex2),
  },
  strict,
);

export const MedibusIdentityReadSchema = Type.Object(
  { field: Type.Union([Type.Literal('id'), Type.Literal('name'), Type.Literal('revision'), Type.Literal('serial')]) },
  strict,
);

export type MedibusRead = Static<typeof MedibusReadSchema>;

export interface PreparedMedibus {
  connection: Static<typeof MedibusConnectionSchema>;
  endpoint: SerialEndpoint;
  metrics: Array<{ id: string; read: MedibusRead }>;
  identity: Array<{ field: string; read: Static<typeof MedibusIdentityReadSchema> }>;
  /** The profile's read-only checks, by name. */
  diagnostics: Map<string, MedibusDiagnostic>;
}

export function prepareMedibus(connection: unknown, profile: ResolvedProfile, where: { configFile: string; field: string }): PreparedMedibus {
  const prepared = prepareSerialConnection(MedibusConnectionSchema, connection, profile, 'medibus', where);
  const reads = profileReads(profile, MedibusReadSchema, MedibusIdentityReadSchema, (read) => read.request === 'patient');
  return {
    ...prepared,
    metrics: reads.metrics,
    identity: reads.identity as PreparedMedibus['identity'],
    diagnostics: prepareMedibusDiagnostics(profile),
  };
}
