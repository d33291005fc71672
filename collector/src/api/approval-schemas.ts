import { type Static, Type } from '@sinclair/typebox';
import { APPROVAL_STATES } from '../store/discovery-store.js';

/** Schemas of plug and play in the API: the approval fields of a device, approve/reject bodies, a gateway's ports. */

const Iso = Type.String({ format: 'date-time' });
const strict = { additionalProperties: false } as const;

export const ApprovalState = Type.Union(
  APPROVAL_STATES.map((s) => Type.Literal(s)),
  {
    description:
      'approved: configured on its gateway or approved by a technician; pending: discovered by the gateway, awaiting approval (its data is stored, flagged); rejected: its data is acknowledged but not stored',
  },
);

const DiscoveryView = Type.Object({
  method: Type.String({ description: 'listen, probe, opcua-discovery or listed' }),
  port: Type.String({ description: 'the port or endpoint it was found on, as the gateway names it' }),
  settings: Type.Optional(Type.String({ description: 'serial line settings, e.g. "19200 8E1"' })),
  unitId: Type.Optional(Type.Integer()),
  identifiedAt: Iso,
});

/** Spread into the Device schema. */
export const ApprovalFieldsResponse = {
  approval: ApprovalState,
  discovery: Type.Union([DiscoveryView, Type.Null()], { description: 'how the gateway identified the device by itself; null for configured devices' }),
  approvalBy: Type.Union([Type.String(), Type.Null()], { description: 'who approved or rejected it' }),
  approvalAt: Type.Union([Iso, Type.Null()]),
  approvalNote: Type.Union([Type.String(), Type.Null()], { description: 'the approval note or the rejection reason' }),
};

const Binding = (what: string) => Type.String({ minLength: 1, maxLength: 128, description: what });

export const ApproveBody = Type.Object(
  {
    assetTag: Binding('asset tag on the device'),
    location: Binding('where it is, e.g. "ICU-3 bed 4"'),
    department: Binding('the department that owns it'),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'for the audit trail' })),
  },
  strict,
);

export const RejectBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 1000, description: 'why it does not belong here (audit trail)' }) },
  strict,
);

const PortAttemptView = Type.Object({
  profile: Type.String(),
  settings: Type.Optional(Type.String()),
  unitIds: Type.Optional(Type.String()),
  outcome: Type.String({ description: 'no-answer, mismatch, error or matched' }),
  detail: Type.Optional(Type.String({ description: 'network endpoints: what to do about it, e.g. "not trusted: run medtel-agent opcua trust ..."' })),
});

export const GatewayPorts = Type.Object({
  gateway: Type.String(),
  reportedAt: Type.Union([Iso, Type.Null()], { description: 'when the gateway sent its latest port report; null if it never sent one' }),
  receivedAt: Type.Union([Iso, Type.Null()]),
  ports: Type.Array(
    Type.Object({
      port: Type.String(),
      state: Type.String({ description: 'probing, identified, unidentified, absent, ignored or configured' }),
      device: Type.Union([Type.String(), Type.Null()], { description: 'registry id of the device on this port, when identified or configured' }),
      tried: Type.Array(PortAttemptView, { description: 'for unidentified ports: what was tried (profiles, line settings), never the bytes received' }),
      since: Iso,
    }),
  ),
});

export const GatewayParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, strict);

export type ApproveBody = Static<typeof ApproveBody>;
export type RejectBody = Static<typeof RejectBody>;
export type GatewayParams = Static<typeof GatewayParams>;
