import { Type } from '@sinclair/typebox';
import { DURATION_PATTERN, SIZE_PATTERN } from '@medtel/shared';

/**
 * mqtt.limits in collector.yaml. The defaults let a gateway drain a day of
 * backlog in minutes while keeping one misbehaving client from taking the
 * broker's memory or CPU.
 */
export const MqttLimitsSchema = Type.Object(
  {
    maxPacketSize: Type.String({
      pattern: SIZE_PATTERN,
      default: '16MiB',
      expected: 'a size such as 1MiB or 16MiB',
      description:
        'largest MQTT packet accepted from an authenticated gateway (a data message may carry up to 100,000 readings); a larger length field closes the connection before the body is read. Before authentication the limit is 64 KiB',
    }),
    publishRate: Type.Integer({
      minimum: 0,
      default: 5000,
      description: 'publishes per second per connection (0: no limit). Above it PUBACKs are delayed, which slows a well-behaved agent',
    }),
    publishBurst: Type.Integer({ minimum: 1, default: 10000, description: 'publishes a connection may send at once before the rate applies' }),
    maxThrottleDelay: Type.String({
      pattern: DURATION_PATTERN,
      default: '5s',
      expected: 'a duration such as 5s',
      description: 'a client that would have to wait longer than this for its rate is disconnected (a flood, not a backlog)',
    }),
    maxConnectionsPerGateway: Type.Integer({
      minimum: 1,
      default: 2,
      description: 'simultaneous connections of one gateway id (a takeover briefly needs two)',
    }),
    devicesPerGateway: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description:
        'devices one gateway may announce; messages of further devices are quarantined (acknowledged, not registered), counted and logged once per device',
    }),
    connectTimeout: Type.String({
      pattern: DURATION_PATTERN,
      default: '10s',
      expected: 'a duration such as 10s',
      description: 'a connection that has not sent CONNECT within this is closed (slow or idle clients)',
    }),
  },
  { additionalProperties: false, default: {}, description: "limits that keep one misbehaving client from taking the broker's memory or CPU" },
);
