import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { ConfigError, validateConfig } from '@medtel/shared';
import type { ResolvedProfile } from '../../profiles/load.js';
import { SerialLineFields, type SerialEndpoint, toEndpoint } from '../../transports/serial/index.js';
import { within } from '../config-labels.js';

const strict = { additionalProperties: false } as const;

/** A profile may give its model's line settings (e.g. 19200 8E1) so a device config needs only the path. */
const { path: _path, ...lineOnly } = SerialLineFields;
const LineDefaults = Type.Partial(Type.Object(lineOnly), strict);

export function serialConnectionSchema<P extends string, T extends TProperties>(protocol: P, extra: T) {
  return Type.Object({ protocol: Type.Literal(protocol), ...SerialLineFields, ...extra }, strict);
}

/**
 * Validates a serial device's `connection` (line settings plus the protocol's own
 * fields), with the profile's `driver.line` as defaults; errors name the field.
 */
export function prepareSerialConnection<S extends TObject>(
  schema: S,
  connection: unknown,
  profile: ResolvedProfile,
  family: string,
  where: { configFile: string; field: string },
): { connection: Static<S>; endpoint: SerialEndpoint } {
  if (!profile.protocols.includes(family)) {
    throw new ConfigError(
      `${where.configFile}: ${where.field}.protocol: profile "${profile.profile}" cannot be read over ${family} (it supports ${profile.protocols.join(', ')})`,
      where.configFile,
      `${where.field}.protocol`,
    );
  }
  const driver = (profile.driver ?? {}) as { line?: unknown };
  const defaults = driver.line === undefined ? {} : within(() => validateConfig(driver.line, profile.file, LineDefaults), profile.file, 'driver.line');
  const given = typeof connection === 'object' && connection !== null ? connection : {};
  const conn = within(() => validateConfig({ ...defaults, ...given }, where.configFile, schema), where.configFile, where.field) as Static<S>;
  const endpoint = toEndpoint(conn as unknown as Parameters<typeof toEndpoint>[0]);
  if (typeof endpoint === 'string') throw new ConfigError(`${where.configFile}: ${where.field}.path: ${endpoint}`, where.configFile, `${where.field}.path`);
  return { connection: conn, endpoint };
}

/** Validates every profile `read` (and identity `read`) with the driver's schema; errors name the profile field. */
export function profileReads<R extends TSchema>(profile: ResolvedProfile, schema: R, identitySchema: TObject, isPatientRead?: (read: Static<R>) => boolean) {
  const metrics = profile.metrics.map((m, i) => ({
    id: m.id,
    read: within(() => validateConfig(m.read, profile.file, schema), profile.file, `metrics[${i}].read`) as Static<R>,
  }));
  // A patient field read without `phi:` would become a plain reading: refuse the profile instead.
  metrics.forEach((m, i) => {
    if (isPatientRead?.(m.read) && !profile.phiFields.has(m.id)) {
      throw new ConfigError(
        `${profile.file}: metrics[${i}].phi: "${m.id}" reads patient data; mark it phi: mrn|name|dob|sex|bed so it is sealed`,
        profile.file,
        `metrics[${i}].phi`,
      );
    }
  });
  const identity = Object.entries(profile.identity).flatMap(([field, spec]) =>
    spec ? [{ field, read: within(() => validateConfig(spec.read, profile.file, identitySchema), profile.file, `identity.${field}.read`) }] : [],
  );
  return { metrics, identity: identity as Array<{ field: string; read: Static<typeof identitySchema> }> };
}
