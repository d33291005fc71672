import { Type, type Static } from '@sinclair/typebox';

/**
 * An alert rule as people write it (POST/PUT /api/v1/alert-rules). Strict:
 * an unknown field (a typo such as "sustainSeconds") is a 400 naming it,
 * never a rule that silently behaves differently.
 */

const strict = { additionalProperties: false } as const;
const Name = Type.String({ minLength: 1, maxLength: 128 });
const Seconds = (description: string) => Type.Integer({ minimum: 1, maximum: 30 * 86_400, description });
const Sustained = Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description: 'The condition must hold this long (s) before the alert is raised' }));

export const RuleScopeSchema = Type.Union(
  [
    Type.Object({ type: Type.String({ minLength: 1, maxLength: 64, description: 'Every device of this type (e.g. infusion-pump)' }) }, strict),
    Type.Object({ model: Type.String({ minLength: 1, maxLength: 128, description: 'Every device of this model (e.g. MT-LVP-100)' }) }, strict),
    Type.Object({ device: Type.String({ minLength: 1, maxLength: 200, description: 'One device, `{gateway}.{device}`' }) }, strict),
  ],
  { description: 'Exactly one of type, model or device' },
);

export const RuleConditionSchema = Type.Union([
  Type.Object(
    {
      kind: Type.Union([Type.Literal('above'), Type.Literal('below')]),
      limit: Type.Number({ description: 'Raise when the value is strictly above (below) this' }),
      sustainedSeconds: Sustained,
    },
    strict,
  ),
  Type.Object(
    {
      kind: Type.Literal('rate'),
      direction: Type.Union([Type.Literal('rising'), Type.Literal('falling')]),
      limit: Type.Number({ exclusiveMinimum: 0, description: 'Raise when the value changes at least this much per `per` in `direction`' }),
      per: Type.Optional(Type.Union([Type.Literal('s'), Type.Literal('min'), Type.Literal('h')], { description: 'Default h' })),
      windowSeconds: Seconds('The slope is fitted over the readings of this window'),
      sustainedSeconds: Sustained,
    },
    strict,
  ),
  Type.Object({ kind: Type.Literal('no-data'), seconds: Seconds('Raise when no reading of the metric arrived for this long') }, strict),
]);

export const AlertRuleBody = Type.Object(
  {
    name: Name,
    scope: RuleScopeSchema,
    metric: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Metric id from the profile (line_pressure), IEEE 11073 reference id (MDC_PRESS_FLUID_MEAS) or code (157836)',
    }),
    condition: RuleConditionSchema,
    priority: Type.Union([Type.Literal('high'), Type.Literal('medium'), Type.Literal('low')]),
    text: Type.String({ minLength: 1, maxLength: 256, description: 'What the alert says' }),
    enabled: Type.Boolean({ default: true }),
    holdOffSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 86_400, description: "Flap hold-off for this rule's alerts (default: the collector's)" }),
    ),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'Why, for the audit trail' })),
  },
  { ...strict, $id: 'AlertRuleBody' },
);

export type AlertRuleBody = Static<typeof AlertRuleBody>;
