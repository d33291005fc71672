export type { ByteLink } from './byte-link.js';
export { describeEndpoint, SerialLineFields, type SerialEndpoint, type SerialLineSettings, sameLine, toEndpoint } from './endpoint.js';
export { describeSerialError } from './link-errors.js';
export { SerialLine, type SerialLineListener, type SerialLineOptions } from './serial-line.js';
