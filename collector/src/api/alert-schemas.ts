import { Type, type Static } from '@sinclair/typebox';
import type { AlertRecord, AlertRule } from '../store/alert-store.js';
import type { ApprovalState } from '../store/discovery-store.js';
import { RuleConditionSchema, RuleScopeSchema } from '../alerts/rule-schema.js';
import { PageOf, PageQuery } from './schemas.js';
import { iso } from './times.js';

/** Response and parameter schemas of the alert and alert-rule routes. */

const strict = { additionalProperties: false } as const;
const Iso = Type.String({ format: 'date-time' });
const NullableText = Type.Union([Type.String(), Type.Null()]);
const Priority = Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]);
const State = Type.Union([Type.Literal('active'), Type.Literal('acknowledged'), Type.Literal('resolved')]);
const Source = Type.Union([Type.Literal('rule'), Type.Literal('device-alarm'), Type.Literal('connectivity'), Type.Literal('external')]);

export const Alert = Type.Object(
  {
    id: Type.Integer(),
    key: Type.String({ description: 'De-duplication key: one open alert per key' }),
    source: Source,
    sourceRef: Type.String({ description: 'Rule id, device alarm id, "device"/"gateway", or the external source' }),
    ruleId: Type.Union([Type.Integer(), Type.Null()]),
    deviceId: NullableText,
    deviceApproval: Type.Union([Type.Literal('approved'), Type.Literal('pending'), Type.Literal('rejected'), Type.Null()], {
      description:
        'pending: the device was discovered by its gateway and nobody has approved it yet; null when the alert names no device (or in the live stream)',
    }),
    gateway: NullableText,
    metric: NullableText,
    value: Type.Union([Type.Number(), Type.Null()]),
    priority: Priority,
    text: Type.String(),
    state: State,
    raisedAt: Iso,
    lastSeenAt: Iso,
    count: Type.Integer({ description: 'Occurrences while open (repeats and flaps)' }),
    clearedAt: Type.Union([Iso, Type.Null()], { description: 'Condition clear since; resolved by the system after the hold-off' }),
    holdOffSeconds: Type.Number(),
    acknowledged: Type.Union([Type.Object({ by: Type.String(), role: Type.String(), at: Iso, note: Type.String() }), Type.Null()]),
    resolved: Type.Union([Type.Object({ by: Type.String(), role: Type.String(), at: Iso, note: Type.String() }), Type.Null()]),
    version: Type.Integer({ description: 'Send it back in If-Match to acknowledge or resolve (also the ETag)' }),
  },
  { $id: 'Alert' },
);

export const AlertList = PageOf(Type.Ref(Alert));

export const AlertListQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([State, Type.Literal('open')], { description: 'open = active or acknowledged' })),
    device: Type.Optional(Type.String({ maxLength: 200 })),
    priority: Type.Optional(Priority),
    source: Type.Optional(Source),
    ...PageQuery,
  },
  strict,
);

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, strict);

/** The reason is required (21 CFR 11 style trail); its absence is a 400 naming `reason`. */
export const AlertActionBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 1000, description: 'Why; kept in the audit trail' }) }, strict);

export const Rule = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    scope: RuleScopeSchema,
    metric: Type.String(),
    condition: RuleConditionSchema,
    priority: Priority,
    text: Type.String(),
    enabled: Type.Boolean(),
    holdOffSeconds: Type.Optional(Type.Integer()),
    version: Type.Integer({ description: 'Send it back in If-Match to replace or delete the rule (also the ETag)' }),
    createdAt: Iso,
    updatedAt: Iso,
  },
  { $id: 'AlertRule' },
);

export const RuleList = Type.Object({ items: Type.Array(Type.Ref(Rule)), total: Type.Integer() });

export const RuleDeleteQuery = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })) }, strict);

export type AlertListQuery = Static<typeof AlertListQuery>;
export type IdParams = Static<typeof IdParams>;
export type AlertActionBody = Static<typeof AlertActionBody>;
export type RuleDeleteQuery = Static<typeof RuleDeleteQuery>;

/** `deviceApproval`: the approval state of the alert's device, where the caller looked it up. */
export function alertView(a: AlertRecord, deviceApproval: ApprovalState | null = null) {
  return {
    id: a.id,
    key: a.key,
    source: a.source,
    sourceRef: a.sourceRef,
    ruleId: a.ruleId,
    deviceId: a.deviceId,
    deviceApproval: a.deviceId === null ? null : deviceApproval,
    gateway: a.gateway,
    metric: a.metric,
    value: a.value,
    priority: a.priority,
    text: a.text,
    state: a.state,
    raisedAt: iso(a.raisedAt),
    lastSeenAt: iso(a.lastSeenAt),
    count: a.count,
    clearedAt: a.clearedAt === null ? null : iso(a.clearedAt),
    holdOffSeconds: a.holdOffMs / 1000,
    acknowledged: a.ackAt === null ? null : { by: a.ackBy ?? '', role: a.ackRole ?? '', at: iso(a.ackAt), note: a.ackNote ?? '' },
    resolved: a.resolvedAt === null ? null : { by: a.resolvedBy ?? '', role: a.resolvedRole ?? '', at: iso(a.resolvedAt), note: a.resolveNote ?? '' },
    version: a.version,
  };
}

export function ruleView(r: AlertRule) {
  return { ...r, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) };
}
