import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ID_PATTERN } from './topics.js';

/**
 * One schema per MQTT message type (DESIGN.md, MQTT contract). Both sides
 * validate against these. Times on the wire are epoch milliseconds (UTC).
 * Objects reject unknown fields: a typo in a producer shows up as a
 * quarantined message with a reason, not as silently missing data.
 */

const Id = Type.String({ pattern: ID_PATTERN, expected: 'an id of 1-64 letters, digits, _ or -' });
const EpochMs = Type.Integer({ minimum: 0, expected: 'a time in epoch milliseconds' });
const Seq = Type.Integer({ minimum: 1, expected: 'the outbox sequence number (integer >= 1)' });
const Version = Type.Literal(1);
const Text = (max: number) => Type.String({ maxLength: max });
/** W3C trace context, carried in the payload because MQTT 3.1.1 has no properties. */
const TraceParent = Type.String({ pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' });

const strict = { additionalProperties: false } as const;

/** What a metric means: profile id plus IEEE 11073-10101 code and unit where they exist. */
export const MetricDescriptor = Type.Object(
  {
    metric: Text(64),
    code: Type.Optional(Type.Integer({ minimum: 0 })),
    refId: Type.Optional(Text(64)),
    unit: Type.Optional(Text(32)),
    unitCode: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  strict,
);

export const Quality = Type.Union([Type.Literal('good'), Type.Literal('questionable'), Type.Literal('bad')]);

export const Reading = Type.Object(
  {
    ...MetricDescriptor.properties,
    t: EpochMs,
    /** null only with quality "bad": medtel never invents a value. */
    value: Type.Union([Type.Number(), Type.String({ maxLength: 256 }), Type.Boolean(), Type.Null()]),
    quality: Quality,
  },
  strict,
);

/** AES-256-GCM envelope for PHI (sealed on the gateway; see shared/src/phi). */
export const SealedEnvelope = Type.Object(
  {
    v: Version,
    kid: Text(64),
    iv: Type.String({ pattern: '^[A-Za-z0-9+/=]{16}$' }),
    ct: Type.String({ maxLength: 65536 }),
  },
  strict,
);

const sent = { v: Version, seq: Seq, sentAt: EpochMs, traceparent: Type.Optional(TraceParent) };

/** What the gateway's outbox held when it sent its state: the backlog still to reach the collector. */
export const OutboxBacklog = Type.Object(
  {
    rows: Type.Integer({ minimum: 0, expected: 'messages waiting in the outbox' }),
    bytes: Type.Integer({ minimum: 0, expected: 'payload bytes waiting in the outbox' }),
    oldestAgeSeconds: Type.Number({ minimum: 0, expected: 'age of the oldest waiting message, seconds' }),
  },
  strict,
);

export const StateMessage = Type.Object(
  {
    v: Version,
    sentAt: EpochMs,
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    agentVersion: Type.Optional(Text(32)),
    devices: Type.Optional(Type.Array(Id, { maxItems: 1024 })),
    /** On `online`: sent at connect and re-sent periodically while connected (the agent's `stateEvery`). */
    outbox: Type.Optional(OutboxBacklog),
  },
  strict,
);

/** Name of a diagnostic test, as a device profile defines it (snake_case). */
export const DIAGNOSTIC_NAME_PATTERN = '^[a-z][a-z0-9_]{0,63}$';

/** A diagnostic test a device offers (from its profile), announced in its birth so the API can check requests. */
export const DiagnosticDescriptor = Type.Object(
  {
    name: Type.String({ pattern: DIAGNOSTIC_NAME_PATTERN, expected: 'a snake_case test name' }),
    description: Text(512),
    /** True when running the test changes the device's state; the API then requires a reason. */
    changesState: Type.Boolean(),
  },
  strict,
);

/** Line settings of a serial port as plug-and-play tried or found them, e.g. "19200 8E1". */
const LineSettings = Text(64);

/**
 * How plug-and-play found a device. Present only on births of devices the
 * agent identified by itself (not from its config): the collector lists them
 * as awaiting approval. Never carries bytes received (they may hold PHI).
 */
export const DiscoveryInfo = Type.Object(
  {
    /** listen: identified by its own frames; probe: answered a read-only id request; opcua-discovery / listed: a network endpoint from config. */
    method: Type.Union([Type.Literal('listen'), Type.Literal('probe'), Type.Literal('opcua-discovery'), Type.Literal('listed')]),
    /** Port name as the gateway sees it: a /dev/serial/by-id link name, tcp://host:port, or an opc.tcp:// endpoint. */
    port: Text(256),
    settings: Type.Optional(LineSettings),
    unitId: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    identifiedAt: EpochMs,
  },
  strict,
);

export const DeviceBirthMessage = Type.Object(
  {
    ...sent,
    device: Id,
    type: Text(64),
    deviceCode: Type.Optional(Type.Integer({ minimum: 0 })),
    manufacturer: Text(128),
    model: Text(128),
    serial: Type.Optional(Text(128)),
    firmware: Type.Optional(Text(128)),
    protocol: Text(32),
    profile: Text(128),
    metrics: Type.Array(MetricDescriptor, { maxItems: 4096 }),
    /** Diagnostic tests the agent can run on this device; absent from agents that predate diagnostics. */
    diagnostics: Type.Optional(Type.Array(DiagnosticDescriptor, { maxItems: 64 })),
    /** Set when plug-and-play identified the device; absent for configured devices. */
    discovery: Type.Optional(DiscoveryInfo),
  },
  strict,
);

/** One identification attempt on a port: which profile, at which settings, and how it ended. */
export const PortAttempt = Type.Object(
  {
    profile: Text(128),
    settings: Type.Optional(LineSettings),
    unitIds: Type.Optional(Text(64)),
    outcome: Type.Union([Type.Literal('no-answer'), Type.Literal('mismatch'), Type.Literal('error'), Type.Literal('matched')]),
    /** What the operator can do about it (network endpoints, e.g. "not trusted: run medtel-agent opcua trust ..."); never received bytes. */
    detail: Type.Optional(Text(256)),
  },
  strict,
);

export const PortState = Type.Union([
  Type.Literal('probing'),
  Type.Literal('identified'),
  Type.Literal('unidentified'),
  Type.Literal('absent'),
  Type.Literal('ignored'),
  Type.Literal('configured'),
]);

export const PortReport = Type.Object(
  {
    port: Text(256),
    state: PortState,
    /** The device id published for this port, when identified or configured. */
    device: Type.Optional(Id),
    /** What was tried (for unidentified ports): profiles and line settings, never the bytes received. */
    tried: Type.Optional(Type.Array(PortAttempt, { maxItems: 64 })),
    since: EpochMs,
  },
  strict,
);

/** Retained, gateway-level, latest wins (no seq, like `state`): what plug-and-play sees on each watched port. */
export const PortsMessage = Type.Object(
  {
    v: Version,
    sentAt: EpochMs,
    ports: Type.Array(PortReport, { maxItems: 256 }),
  },
  strict,
);

export const DeviceStatus = Type.Union([Type.Literal('connected'), Type.Literal('unreachable'), Type.Literal('error')]);

export const DeviceStatusMessage = Type.Object({ ...sent, device: Id, t: EpochMs, status: DeviceStatus, reason: Type.Optional(Text(512)) }, strict);

export const DataMessage = Type.Object(
  {
    ...sent,
    device: Id,
    /** Whose clock stamped the readings: the device's own, or the agent's on receipt. */
    clock: Type.Union([Type.Literal('device'), Type.Literal('agent')]),
    readings: Type.Array(Reading, { minItems: 1, maxItems: 100_000 }),
    phi: Type.Optional(SealedEnvelope),
    subject: Type.Optional(Text(128)),
  },
  strict,
);

export const AlarmPriority = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);

export const AlarmMessage = Type.Object(
  {
    ...sent,
    device: Id,
    t: EpochMs,
    alarm: Text(64),
    code: Type.Optional(Type.Integer({ minimum: 0 })),
    refId: Type.Optional(Text(64)),
    priority: AlarmPriority,
    phase: Type.Union([Type.Literal('start'), Type.Literal('continue'), Type.Literal('end')]),
    state: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
    text: Text(256),
  },
  strict,
);

export const GapMessage = Type.Object(
  {
    ...sent,
    device: Id,
    from: EpochMs,
    to: EpochMs,
    /** Readings for kind "data"; messages for the other kinds. */
    count: Type.Integer({ minimum: 0 }),
    kind: Type.Optional(Type.Union([Type.Literal('data'), Type.Literal('alarm'), Type.Literal('status'), Type.Literal('birth'), Type.Literal('res')])),
    reason: Text(256),
  },
  strict,
);

export const CommandMessage = Type.Object(
  {
    v: Version,
    requestId: Id,
    command: Text(64),
    device: Type.Optional(Id),
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    issuedAt: EpochMs,
    expiresAt: Type.Optional(EpochMs),
  },
  strict,
);

/** The command name of a diagnostic request (CommandMessage.command). */
export const DIAGNOSTICS_COMMAND = 'diagnostics';

/**
 * CommandMessage.args of a `diagnostics` command. `timeoutMs` is relative
 * (how long the agent may spend), so a skewed gateway clock cannot shorten
 * or stretch the test; `expiresAt` on the command is the absolute cut-off.
 */
export const DiagnosticsCommandArgs = Type.Object(
  {
    test: Type.String({ pattern: DIAGNOSTIC_NAME_PATTERN, expected: 'a snake_case test name' }),
    timeoutMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  strict,
);

export const ResultMessage = Type.Object(
  {
    ...sent,
    requestId: Id,
    ok: Type.Boolean(),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(Text(1024)),
  },
  strict,
);

export type MetricDescriptor = Static<typeof MetricDescriptor>;
export type Reading = Static<typeof Reading>;
export type SealedEnvelope = Static<typeof SealedEnvelope>;
export type StateMessage = Static<typeof StateMessage>;
export type OutboxBacklog = Static<typeof OutboxBacklog>;
export type DeviceBirthMessage = Static<typeof DeviceBirthMessage>;
export type DeviceStatus = Static<typeof DeviceStatus>;
export type DeviceStatusMessage = Static<typeof DeviceStatusMessage>;
export type DataMessage = Static<typeof DataMessage>;
export type AlarmMessage = Static<typeof AlarmMessage>;
export type GapMessage = Static<typeof GapMessage>;
export type CommandMessage = Static<typeof CommandMessage>;
export type ResultMessage = Static<typeof ResultMessage>;
export type DiagnosticDescriptor = Static<typeof DiagnosticDescriptor>;
export type DiscoveryInfo = Static<typeof DiscoveryInfo>;
export type PortAttempt = Static<typeof PortAttempt>;
export type PortState = Static<typeof PortState>;
export type PortReport = Static<typeof PortReport>;
export type PortsMessage = Static<typeof PortsMessage>;
export type DiagnosticsCommandArgs = Static<typeof DiagnosticsCommandArgs>;

/** Topic kind -> schema; the single map both sides dispatch on. */
export const MESSAGE_SCHEMAS = {
  state: StateMessage,
  ports: PortsMessage,
  birth: DeviceBirthMessage,
  status: DeviceStatusMessage,
  data: DataMessage,
  alarm: AlarmMessage,
  gap: GapMessage,
  cmd: CommandMessage,
  res: ResultMessage,
} satisfies Record<string, TSchema>;

export interface MessageByKind {
  state: StateMessage;
  ports: PortsMessage;
  birth: DeviceBirthMessage;
  status: DeviceStatusMessage;
  data: DataMessage;
  alarm: AlarmMessage;
  gap: GapMessage;
  cmd: CommandMessage;
  res: ResultMessage;
}

export type MessageKind = keyof MessageByKind;
