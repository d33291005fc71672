import { Type } from '@sinclair/typebox';
import { DURATION_PATTERN, SIZE_PATTERN } from '@medtel/shared';

/**
 * mqtt.limits in collector.yaml. The defaults let a gateway drain a day of
 * backlog in minutes while keeping one misbehaving client from taking the
 * broker's memory or CPU.
 */
export const MqttLimitsSchema = Type.Object(
  {
    /**
     * Largest MQTT packet accepted from an authenticated gateway (a data message may carry up to
     * 100,000 readings); a larger length field closes the connection before the body is read.
     * Before authentication the limit is 64 KiB.
     */
    maxPacketSize: Type.String({ pattern: SIZE_PATTERN, default: '16MiB', expected: 'a size such as 1MiB or 16MiB' }),
    /** Publishes per second per connection (0: no limit). Above it PUBACKs are delayed, which slows a well-behaved agent. */
    publishRate: Type.Integer({ minimum: 0, default: 5000 }),
    /** Publishes a connection may send at once before the rate applies. */
    publishBurst: Type.Integer({ minimum: 1, default: 10000 }),
    /** A client that would have to wait longer than this for its rate is disconnected (a flood, not a backlog). */
    maxThrottleDelay: Type.String({ pattern: DURATION_PATTERN, default: '5s', expected: 'a duration such as 5s' }),
    /** Simultaneous connections of one gateway id (a takeover briefly needs two). */
    maxConnectionsPerGateway: Type.Integer({ minimum: 1, default: 2 }),
    /** Devices one gateway may announce; messages of further devices are quarantined and counted. */
    devicesPerGateway: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
    /** A connection that has not sent CONNECT within this is closed (slow or idle clients). */
    connectTimeout: Type.String({ pattern: DURATION_PATTERN, default: '10s', expected: 'a duration such as 10s' }),
  },
  { additionalProperties: false, default: {} },
);
