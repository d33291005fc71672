import { Type } from '@sinclair/typebox';
import { OWNERSHIP } from '../store/device-asset.js';
import { RISK_RANGES } from '../htm/risk.js';

/** Schemas of the clinical-engineering fields of a device (store/device-asset.ts), for the Device schema and PATCH /devices/{id}. */

const Text = (max = 256) => Type.String({ minLength: 1, maxLength: max });
const NullableText = (max = 256) => Type.Union([Text(max), Type.Null()]);
const Ownership = Type.Union(OWNERSHIP.map((o) => Type.Literal(o)));
const ScheduleSource = Type.Union([Type.Literal('manufacturer'), Type.Literal('aem')], {
  description: 'manufacturer (OEM) schedule, or an alternative equipment maintenance program (not allowed for imaging, radiologic and laser devices)',
});
const part = (key: keyof typeof RISK_RANGES, description: string) => Type.Integer({ minimum: RISK_RANGES[key][0], maximum: RISK_RANGES[key][1], description });

const RiskParts = Type.Object(
  {
    equipmentFunction: part('equipmentFunction', 'Fennigkoh–Smith equipment function, 2-10 (10: life support)'),
    physicalRisk: part('physicalRisk', 'physical risk of a failure, 1-5'),
    maintenanceRequirement: part('maintenanceRequirement', 'maintenance requirement, 1-5'),
  },
  { additionalProperties: false },
);

export const AssetFieldsResponse = {
  installDate: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  highRisk: Type.Boolean({ description: 'failure may seriously injure or kill (CMS: critical equipment)' }),
  lifeSupport: Type.Boolean(),
  scheduleSource: ScheduleSource,
  aemReason: Type.Union([Type.String(), Type.Null()]),
  aemRiskFactors: Type.Union([Type.Array(Type.String()), Type.Null()]),
  aemApprover: Type.Union([Type.String(), Type.Null()]),
  risk: Type.Union([
    Type.Object({
      equipmentFunction: Type.Integer(),
      physicalRisk: Type.Integer(),
      maintenanceRequirement: Type.Integer(),
      total: Type.Integer({ description: 'sum of the parts, 4-20' }),
      include: Type.Boolean({ description: 'total >= 12: belongs in the scheduled maintenance program' }),
      suggestedFrequency: Type.Union([Type.Literal('annual'), Type.Literal('semiannual'), Type.Null()]),
    }),
    Type.Null(),
  ]),
  udiDeviceIdentifier: Type.Union([Type.String(), Type.Null()]),
  udiProductionIdentifier: Type.Union([Type.String(), Type.Null()]),
  deviceTypeCode: Type.Union([Type.String(), Type.Null()]),
  ownership: Type.Union([Ownership, Type.Null()]),
  calibrationIntervalMonths: Type.Union([Type.Integer(), Type.Null()]),
};

export const AssetFieldsPatch = {
  installDate: Type.Optional(Type.Union([Type.String({ format: 'date', description: 'YYYY-MM-DD' }), Type.Null()])),
  highRisk: Type.Optional(Type.Boolean()),
  lifeSupport: Type.Optional(Type.Boolean()),
  scheduleSource: Type.Optional(ScheduleSource),
  aemReason: Type.Optional(NullableText(1000)),
  aemRiskFactors: Type.Optional(Type.Union([Type.Array(Text(200), { minItems: 1, maxItems: 20 }), Type.Null()])),
  aemApprover: Type.Optional(NullableText()),
  risk: Type.Optional(Type.Union([RiskParts, Type.Null()])),
  udiDeviceIdentifier: Type.Optional(NullableText(64)),
  udiProductionIdentifier: Type.Optional(NullableText(128)),
  deviceTypeCode: Type.Optional(NullableText(64)),
  ownership: Type.Optional(Type.Union([Ownership, Type.Null()])),
  calibrationIntervalMonths: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 120 }), Type.Null()])),
};

export const AssetListFilters = {
  lifecycle: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('out-of-service'), Type.Literal('retired')])),
  location: Type.Optional(Type.String({ maxLength: 128 })),
  department: Type.Optional(Type.String({ maxLength: 128 })),
  highRisk: Type.Optional(Type.Boolean()),
  lifeSupport: Type.Optional(Type.Boolean()),
};
