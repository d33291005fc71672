import { Type, type Static } from '@sinclair/typebox';
import { DIAGNOSTIC_NAME_PATTERN, DURATION_PATTERN, PHI_FIELDS } from '@medtel/shared';
import { ProfileIdentifySchema } from './identify-schema.js';

/**
 * A device profile says what a device model means (EdgeX's split): `read`
 * holds protocol addressing, validated by the driver; everything else is
 * generic and applied by ../transform.ts. Adding a model is one YAML file.
 */
const strict = { additionalProperties: false } as const;
const Name = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', expected: 'a snake_case name' });
/** Driver-specific addressing; the driver validates its fields. */
const Read = Type.Object({}, { additionalProperties: true, expected: 'a mapping of the protocol address (table, address, type...)' });

export const ProfileMetricSchema = Type.Object(
  {
    id: Name,
    read: Read,
    /** IEEE 11073-10101 reference id, or a MEDTEL_ vendor id (shared/src/mdc.ts). */
    mdc: Type.Optional(Type.String({ minLength: 1 })),
    /** Unit reference id; defaults to the term's usual unit. */
    unit: Type.Optional(Type.String({ minLength: 1 })),
    scale: Type.Number({ default: 1 }),
    offset: Type.Number({ default: 0 }),
    /** Decimal places kept after scaling (avoids 124.99999 from float32). */
    decimals: Type.Optional(Type.Integer({ minimum: 0, maximum: 9 })),
    /** Raw integer -> label, for state registers. */
    enum: Type.Optional(Type.Record(Type.String({ pattern: '^-?\\d+$' }), Type.String())),
    description: Type.Optional(Type.String()),
    /**
     * Marks a patient-identity field (docs/phi.md): read like any metric, but never a
     * reading: the agent seals it into the data message's envelope and sends only a
     * pseudonymous subject id (from `mrn`) in clear.
     */
    phi: Type.Optional(
      Type.Union(
        PHI_FIELDS.map((f) => Type.Literal(f)),
        { expected: `one of ${PHI_FIELDS.join(', ')}` },
      ),
    ),
  },
  strict,
);

export const ProfileAlarmSchema = Type.Object(
  {
    id: Name,
    /** The metric whose value raises the alarm. */
    metric: Name,
    /** Bit of an integer flags metric; without it, a non-zero value is active. */
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 31 })),
    mdc: Type.Optional(Type.String({ minLength: 1 })),
    priority: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
    text: Type.String({ minLength: 1, maxLength: 256 }),
  },
  strict,
);

/**
 * A diagnostic test the device offers (docs/diagnostics.md). `run` says how,
 * in the protocol's terms (Modbus: write, poll, read a result code), and is
 * checked by the driver like `read`. A test that changes the device's state
 * must say so: the API then demands a reason, and the audit trail keeps it.
 */
export const ProfileDiagnosticSchema = Type.Object(
  {
    name: Type.String({ pattern: DIAGNOSTIC_NAME_PATTERN, expected: 'a snake_case name' }),
    description: Type.String({ minLength: 1, maxLength: 512 }),
    changesState: Type.Boolean({ default: false }),
    /** Longest the device may take; a request may ask for less, never more. */
    timeout: Type.String({ pattern: DURATION_PATTERN, default: '30s', expected: 'a duration such as 5s or 2m' }),
    run: Type.Object({}, { additionalProperties: true, expected: 'a mapping of protocol steps (start, poll, result for Modbus)' }),
  },
  strict,
);

export const ProfileSchema = Type.Object(
  {
    profile: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,127}$', expected: 'a lower-case profile name' }),
    type: Type.String({ minLength: 1, expected: 'a device type such as infusion-pump' }),
    manufacturer: Type.String({ minLength: 1 }),
    model: Type.String({ minLength: 1 }),
    /** Which protocols can read this model (driver families: modbus, serial, opcua). */
    protocols: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    /** Identity fields read once per connection; `serial` lets the registry recognise the unit. */
    identity: Type.Object(
      {
        serial: Type.Optional(Type.Object({ read: Read }, strict)),
        firmware: Type.Optional(Type.Object({ read: Read }, strict)),
        model: Type.Optional(Type.Object({ read: Read }, strict)),
        manufacturer: Type.Optional(Type.Object({ read: Read }, strict)),
      },
      { ...strict, default: {} },
    ),
    /** How plug-and-play recognises this model on an unconfigured port (read-only probing). */
    identify: Type.Optional(ProfileIdentifySchema),
    metrics: Type.Array(ProfileMetricSchema, { minItems: 1 }),
    alarms: Type.Array(ProfileAlarmSchema, { default: [] }),
    /** Diagnostic tests (self-test...), run on request from the collector. */
    diagnostics: Type.Array(ProfileDiagnosticSchema, { default: [], maxItems: 64 }),
    /** Driver options that belong to the model (e.g. Modbus word order). */
    driver: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  strict,
);

export type Profile = Static<typeof ProfileSchema>;
export type ProfileMetric = Static<typeof ProfileMetricSchema>;
export type ProfileAlarm = Static<typeof ProfileAlarmSchema>;
export type ProfileDiagnostic = Static<typeof ProfileDiagnosticSchema>;
export type IdentityField = 'serial' | 'firmware' | 'model' | 'manufacturer';
