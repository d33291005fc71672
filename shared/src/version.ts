/** Version of the MQTT contract; a payload's `v`. Bumped only on incompatible change. */
export const PROTOCOL_VERSION = 1;
/** Version of the medtel software, reported in births and /healthz. */
export const MEDTEL_VERSION = '0.1.0';
