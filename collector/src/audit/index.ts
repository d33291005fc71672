export * from './audit-log.js';
export * from './canonical.js';
export * from './schema.js';
export * from './types.js';
