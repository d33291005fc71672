import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '@medtel/shared';

/**
 * How a model identifies itself on a port nobody configured (plug-and-play,
 * docs/plug-and-play.md). Only what is read-only can be written here: a
 * listen-only stream is recognised by its own frames; a polled protocol gets
 * the one id request its profile names (checked at load against the
 * protocol's read-only requests); Modbus reads the profile's `identity:`
 * registers (functions 03/04 only). The values in `match` must equal what the
 * device reports in those identity fields.
 */
const strict = { additionalProperties: false } as const;

/** "19200 8E1": baud, data bits, parity (N/E/O), stop bits. */
export const LINE_SETTINGS_PATTERN = '^\\d{3,7} [78][NEO][12]$';
const Duration = (fallback: string) => Type.String({ pattern: DURATION_PATTERN, default: fallback, expected: 'a duration such as 500ms or 5s' });

export const ProfileIdentifySchema = Type.Object(
  {
    /** Lower goes first, within its kind (listen-only profiles always go before polled ones). */
    order: Type.Integer({ minimum: 0, maximum: 1000, default: 100 }),
    /** Line settings to try, in order (default: the profile's driver.line). */
    lines: Type.Optional(
      Type.Array(Type.String({ pattern: LINE_SETTINGS_PATTERN, expected: 'line settings such as "19200 8E1"' }), { minItems: 1, maxItems: 8 }),
    ),
    /** Listen-only streams: how long to wait for the frame that carries the identity. */
    listen: Type.Optional(Type.String({ pattern: DURATION_PATTERN, expected: 'a duration such as 6s' })),
    /** Polled protocols: the read-only id request (MEDIBUS: device-id). */
    request: Type.Optional(Type.String({ minLength: 1 })),
    /** Modbus: the unit ids to ask, e.g. "1-4" or "1,2,10-12". */
    unitIds: Type.Optional(Type.String({ pattern: '^\\d{1,3}(-\\d{1,3})?(,\\d{1,3}(-\\d{1,3})?)*$', expected: 'unit ids such as 1-4 or 1,2,10-12' })),
    /** Time allowed for one answer (per request, per unit id). */
    timeout: Duration('500ms'),
    /** Identity fields that must equal these values for the device to be this model. */
    match: Type.Object(
      {
        model: Type.Optional(Type.String({ minLength: 1 })),
        manufacturer: Type.Optional(Type.String({ minLength: 1 })),
        firmware: Type.Optional(Type.String({ minLength: 1 })),
        serial: Type.Optional(Type.String({ minLength: 1 })),
      },
      strict,
    ),
  },
  strict,
);

export type ProfileIdentify = Static<typeof ProfileIdentifySchema>;
