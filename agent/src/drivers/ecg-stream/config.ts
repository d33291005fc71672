import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, DURATION_PATTERN } from '@medtel/shared';
import type { ResolvedProfile } from '../../profiles/load.js';
import type { SerialEndpoint } from '../../transports/serial/index.js';
import { prepareSerialConnection, profileReads, serialConnectionSchema } from '../serial-common/config.js';

const strict = { additionalProperties: false } as const;

export const EcgConnectionSchema = serialConnectionSchema('medtel-ecg', {
  /** Waveform samples are sent in batches this long (one data message per lead per batch). */
  batch: Type.String({ pattern: DURATION_PATTERN, default: '1s', expected: 'a duration such as 500ms or 1s' }),
});

/** A waveform lead (index in the device's waveform frame) or a numeric (its id in the numerics frame). */
export const EcgReadSchema = Type.Union([
  Type.Object({ wave: Type.Integer({ minimum: 0, maximum: 15 }) }, strict),
  Type.Object({ numeric: Type.Integer({ minimum: 1, maximum: 255 }) }, strict),
  /** A key of the patient frame (0x04), for metrics marked `phi:`. */
  Type.Object({ patient: Type.String({ pattern: '^[a-z]+$', expected: 'a key of the patient frame, e.g. mrn' }) }, strict),
]);

export const EcgIdentityReadSchema = Type.Object({ info: Type.String({ pattern: '^[a-z]+$', expected: 'a key of the info frame, e.g. serial' }) }, strict);

export type EcgRead = Static<typeof EcgReadSchema>;

export interface PreparedEcg {
  connection: Static<typeof EcgConnectionSchema>;
  endpoint: SerialEndpoint;
  metrics: Array<{ id: string; read: EcgRead }>;
  identity: Array<{ field: string; read: Static<typeof EcgIdentityReadSchema> }>;
}

export function prepareEcg(connection: unknown, profile: ResolvedProfile, where: { configFile: string; field: string }): PreparedEcg {
  const prepared = prepareSerialConnection(EcgConnectionSchema, connection, profile, 'medtel-ecg', where);
  if (profile.diagnostics.length > 0) {
    // The stream has no command channel: the agent never writes to the monitor, so it cannot ask it to run anything.
    throw new ConfigError(
      `${profile.file}: diagnostics: the medtel-ecg stream is listen-only (the monitor takes no commands), so it cannot run tests; remove the diagnostics section`,
      profile.file,
      'diagnostics',
    );
  }
  const reads = profileReads(profile, EcgReadSchema, EcgIdentityReadSchema, (read) => 'patient' in read);
  return { ...prepared, metrics: reads.metrics, identity: reads.identity as PreparedEcg['identity'] };
}
