import { Type } from '@sinclair/typebox';

/** One register read as a profile writes it (`read` of a metric, identity field or diagnostic step). */
export const RegisterReadSchema = Type.Object(
  {
    table: Type.Union([Type.Literal('holding'), Type.Literal('input')]),
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    type: Type.Union(['uint16', 'int16', 'uint32', 'int32', 'float32', 'string'].map((t) => Type.Literal(t))),
    /** Characters, for type string. */
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 250 })),
  },
  { additionalProperties: false },
);
